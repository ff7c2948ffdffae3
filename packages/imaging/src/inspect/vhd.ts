import type { FormatProbe, ProbeIssue } from './format-probe.js';
import { ascii, ProbeFailure, u64, view } from './probe-context.js';

const COOKIE = 'conectix';
const DYNAMIC_COOKIE = 'cxsparse';
const FOOTER = 512;
const TYPES: Record<number, string> = { 2: 'fixed', 3: 'dynamic', 4: 'differencing' };
/** Creator apps whose images qemu sizes by `current_size` rather than by CHS geometry. */
const CURRENT_SIZE_CREATORS = ['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0'];
const MAX_GEOMETRY_SECTORS = 65535 * 16 * 255;

/**
 * VHD (qemu's `vpc`): dynamic images carry a copy of the footer at offset 0, fixed ones only at
 * the end. The virtual size follows qemu: CHS geometry unless the creator app is one that uses
 * `current_size` (Hyper-V, qemu with `force_size`, ...). Differencing images are refused.
 */
export const vhdProbe: FormatProbe = {
  format: 'vhd',
  matches: (ctx) =>
    (ctx.head.length >= FOOTER && ascii(ctx.head, 0, 8) === COOKIE) ||
    (ctx.tail.length === FOOTER && ascii(ctx.tail, 0, 8) === COOKIE),
  async inspect(ctx) {
    const atStart = ctx.head.length >= FOOTER && ascii(ctx.head, 0, 8) === COOKIE;
    const footer = atStart ? ctx.head.subarray(0, FOOTER) : ctx.tail;
    const dv = view(footer);
    const diskType = dv.getUint32(60);
    const type = TYPES[diskType];
    if (!type)
      throw new ProbeFailure('malformed', `VHD disk type ${diskType} is not fixed, dynamic or differencing`);
    const creatorApp = ascii(footer, 28, 4);
    const currentSize = u64(dv, 48, false, 'VHD current size');
    const chsSectors = dv.getUint16(56) * dv.getUint8(58) * dv.getUint8(59);
    const useChs = !CURRENT_SIZE_CREATORS.includes(creatorApp) && chsSectors !== MAX_GEOMETRY_SECTORS;
    const virtualSize = useChs ? chsSectors * 512 : currentSize;
    const issues: ProbeIssue[] = [];
    const details: Record<string, unknown> = { subformat: type, creatorApp: creatorApp.replace(/\0/g, '') };
    if (type === 'fixed') {
      if (atStart && ctx.size !== FOOTER) details.footerCopyAtStart = true;
      return { virtualSize, details, issues, dataAtZero: !atStart };
    }
    const dataOffset = u64(dv, 16, false, 'VHD data offset');
    const dyn = await ctx.read(dataOffset, 1024, 'VHD dynamic header');
    if (ascii(dyn, 0, 8) !== DYNAMIC_COOKIE)
      throw new ProbeFailure('malformed', `VHD dynamic header at ${dataOffset} lacks its "cxsparse" cookie`);
    details.blockSize = view(dyn).getUint32(32);
    if (type === 'differencing')
      issues.push({
        rule: 'vhd-differencing',
        message: 'a differencing VHD reads a parent image named in its header',
      });
    return { virtualSize, details, issues };
  },
};
