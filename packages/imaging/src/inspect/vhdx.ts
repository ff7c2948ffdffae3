import type { FormatProbe, ProbeIssue } from './format-probe.js';
import { ascii, type ProbeContext, ProbeFailure, u64, view } from './probe-context.js';

const KiB = 1024;
const REGION_TABLE_OFFSET = 192 * KiB;
const MAX_ENTRIES = 2047;
const METADATA_REGION = '8b7ca206-4790-4b9a-b8fe-575f050f886e';
const VIRTUAL_DISK_SIZE = '2fa54224-cd1b-4876-b211-5dbed83bf4b8';
const FILE_PARAMETERS = 'caa16737-fa36-4d43-b3b6-33f0aa44e76b';
const HAS_PARENT = 0x2;

/** A GUID in its on-disk mixed-endian layout, written the usual way. */
function guid(bytes: Uint8Array, offset: number): string {
  const hex = (i: number) => bytes[offset + i]!.toString(16).padStart(2, '0');
  const le = (idx: number[]) => idx.map(hex).join('');
  return `${le([3, 2, 1, 0])}-${le([5, 4])}-${le([7, 6])}-${le([8, 9])}-${le([10, 11, 12, 13, 14, 15])}`;
}

/**
 * VHDX: the file identifier `vhdxfile`, the region table at 192 KiB, the metadata region's table
 * and its Virtual Disk Size and File Parameters items; images with a parent are refused.
 */
export const vhdxProbe: FormatProbe = {
  format: 'vhdx',
  matches: (ctx) => ctx.head.length >= 8 && ascii(ctx.head, 0, 8) === 'vhdxfile',
  async inspect(ctx) {
    const metadata = await findRegion(ctx, METADATA_REGION);
    const head = await ctx.read(metadata.offset, 32, 'VHDX metadata table header');
    if (ascii(head, 0, 8) !== 'metadata')
      throw new ProbeFailure('malformed', 'the VHDX metadata region lacks its "metadata" signature');
    const count = view(head).getUint16(10, true);
    if (count > MAX_ENTRIES) throw new ProbeFailure('malformed', `VHDX metadata table has ${count} entries`);
    const table = await ctx.read(metadata.offset + 32, count * 32, 'VHDX metadata table');
    let virtualSize: number | undefined;
    const details: Record<string, unknown> = {};
    const issues: ProbeIssue[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * 32;
      const id = guid(table, at);
      const itemOffset = view(table).getUint32(at + 16, true);
      const itemLength = view(table).getUint32(at + 20, true);
      if (itemOffset + itemLength > metadata.length)
        throw new ProbeFailure('malformed', `VHDX metadata item ${id} lies outside its region`);
      if (id === VIRTUAL_DISK_SIZE) {
        const v = view(await ctx.read(metadata.offset + itemOffset, 8, 'VHDX virtual disk size'));
        virtualSize = u64(v, 0, true, 'VHDX virtual disk size');
      } else if (id === FILE_PARAMETERS) {
        const v = view(await ctx.read(metadata.offset + itemOffset, 8, 'VHDX file parameters'));
        details.blockSize = v.getUint32(0, true);
        if (v.getUint32(4, true) & HAS_PARENT)
          issues.push({
            rule: 'vhdx-parent',
            message: 'a differencing VHDX reads a parent image named in its metadata',
          });
      }
    }
    if (virtualSize === undefined)
      throw new ProbeFailure('malformed', 'the VHDX metadata has no Virtual Disk Size item');
    return { virtualSize, details, issues };
  },
};

async function findRegion(ctx: ProbeContext, wanted: string): Promise<{ offset: number; length: number }> {
  const head = await ctx.read(REGION_TABLE_OFFSET, 16, 'VHDX region table header');
  if (ascii(head, 0, 4) !== 'regi')
    throw new ProbeFailure('malformed', 'the VHDX region table at 192 KiB lacks its "regi" signature');
  const count = view(head).getUint32(8, true);
  if (count > MAX_ENTRIES) throw new ProbeFailure('malformed', `VHDX region table has ${count} entries`);
  const entries = await ctx.read(REGION_TABLE_OFFSET + 16, count * 32, 'VHDX region table');
  for (let i = 0; i < count; i++) {
    if (guid(entries, i * 32) !== wanted) continue;
    const dv = view(entries);
    const offset = u64(dv, i * 32 + 16, true, 'VHDX region offset');
    const length = dv.getUint32(i * 32 + 24, true);
    if (offset + length > ctx.size)
      throw new ProbeFailure(
        'truncated',
        `the VHDX metadata region (${length} bytes at ${offset}) lies beyond the end`,
      );
    return { offset, length };
  }
  throw new ProbeFailure('malformed', 'the VHDX region table has no metadata region');
}
