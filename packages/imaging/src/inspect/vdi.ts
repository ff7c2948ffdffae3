import type { FormatProbe, ProbeIssue } from './format-probe.js';
import { u64, view } from './probe-context.js';

const SIGNATURE = 0xbeda107f;
const TYPES: Record<number, string> = { 1: 'dynamic', 2: 'fixed', 3: 'undo', 4: 'differencing' };

/** VDI (VirtualBox): signature at 0x40, image type at 0x4c, disk size at 0x170; differencing images are refused. */
export const vdiProbe: FormatProbe = {
  format: 'vdi',
  matches: (ctx) => ctx.head.length >= 0x44 && view(ctx.head).getUint32(0x40, true) === SIGNATURE,
  async inspect(ctx) {
    const dv = view(ctx.need(0x180, 'VDI header'));
    const imageType = dv.getUint32(0x4c, true);
    const subformat = TYPES[imageType] ?? imageType;
    const issues: ProbeIssue[] = [];
    if (imageType === 3 || imageType === 4)
      issues.push({ rule: 'vdi-differencing', message: `a ${subformat} VDI reads a parent image` });
    return {
      virtualSize: u64(dv, 0x170, true, 'VDI disk size'),
      details: {
        subformat,
        version: dv.getUint32(0x44, true).toString(16),
        blockSize: dv.getUint32(0x178, true),
      },
      issues,
    };
  },
};
