import type { FormatProbe, ProbeIssue } from './format-probe.js';
import { ascii, ProbeFailure, u64, view } from './probe-context.js';

const MAGIC = 0x514649fb;
/** Incompatible feature bits qemu 7.2 knows: dirty, corrupt, external data file, compression type, extended L2. */
const KNOWN_INCOMPATIBLE = 0x1fn;
const EXTERNAL_DATA_FILE_BIT = 1n << 2n;
const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_DATA_FILE_NAME = 0x44415441;
/** Header extensions walked at most (qemu writes a handful). */
const MAX_EXTENSIONS = 64;

/** qcow2 (versions 2 and 3): refuses backing files, external data files and unknown incompatible features. */
export const qcow2Probe: FormatProbe = {
  format: 'qcow2',
  matches: (ctx) => ctx.head.length >= 4 && view(ctx.head).getUint32(0) === MAGIC,
  async inspect(ctx) {
    const head = ctx.need(72, 'qcow2 header');
    const dv = view(head);
    const version = dv.getUint32(4);
    if (version !== 2 && version !== 3)
      throw new ProbeFailure('malformed', `qcow2 version ${version} is neither 2 nor 3`);
    const clusterBits = dv.getUint32(20);
    if (clusterBits < 9 || clusterBits > 21)
      throw new ProbeFailure('malformed', `qcow2 cluster_bits ${clusterBits} is outside 9..21`);
    const virtualSize = u64(dv, 24, false, 'qcow2 size');
    const backingOffset = u64(dv, 8, false, 'qcow2 backing_file_offset');
    const backingSize = dv.getUint32(16);
    const issues: ProbeIssue[] = [];
    const details: Record<string, unknown> = {
      version,
      clusterSize: 2 ** clusterBits,
      encryption: ['none', 'aes', 'luks'][dv.getUint32(32)] ?? dv.getUint32(32),
    };
    if (backingOffset !== 0) {
      let name = '';
      if (backingSize > 1023)
        throw new ProbeFailure('malformed', `qcow2 backing file name of ${backingSize} bytes exceeds 1023`);
      name = ascii(await ctx.read(backingOffset, backingSize, 'qcow2 backing file name'), 0, backingSize);
      details.backingFile = name;
      issues.push({ rule: 'qcow2-backing-file', message: `the image reads a backing file "${name}"` });
    }
    let headerLength = 72;
    if (version === 3) {
      ctx.need(104, 'qcow2 version 3 header');
      const incompatible = dv.getBigUint64(72);
      headerLength = dv.getUint32(100);
      if (headerLength < 104 || headerLength > 2 ** clusterBits)
        throw new ProbeFailure('malformed', `qcow2 header_length ${headerLength} is out of bounds`);
      details.incompatibleFeatures = Number(incompatible & 0xffffffffn);
      if (incompatible & EXTERNAL_DATA_FILE_BIT)
        issues.push({
          rule: 'qcow2-data-file',
          message: 'the image keeps its data in an external data file',
        });
      const unknown = incompatible & ~KNOWN_INCOMPATIBLE;
      if (unknown)
        issues.push({
          rule: 'qcow2-unknown-features',
          message: `unknown incompatible feature bits 0x${unknown.toString(16)}`,
        });
    }
    await readExtensions(ctx, headerLength, 2 ** clusterBits, details, issues);
    return { virtualSize, details, issues };
  },
};

async function readExtensions(
  ctx: Parameters<FormatProbe['inspect']>[0],
  start: number,
  clusterSize: number,
  details: Record<string, unknown>,
  issues: ProbeIssue[],
): Promise<void> {
  // Extensions live in the header cluster, after the header and before the backing file name.
  const end = Math.min(clusterSize, ctx.size);
  let off = start;
  for (let n = 0; n < MAX_EXTENSIONS && off + 8 <= end; n++) {
    const hdr = view(await ctx.read(off, 8, 'qcow2 header extension'));
    const type = hdr.getUint32(0);
    const length = hdr.getUint32(4);
    if (type === EXT_END) return;
    if (off + 8 + length > end)
      throw new ProbeFailure(
        'malformed',
        `qcow2 header extension 0x${type.toString(16)} runs past the header cluster`,
      );
    if (type === EXT_BACKING_FORMAT) {
      details.backingFormat = ascii(await ctx.read(off + 8, length, 'qcow2 backing format'), 0, length);
    } else if (type === EXT_DATA_FILE_NAME) {
      const name = ascii(await ctx.read(off + 8, length, 'qcow2 data file name'), 0, length);
      details.dataFile = name;
      if (!issues.some((i) => i.rule === 'qcow2-data-file'))
        issues.push({ rule: 'qcow2-data-file', message: `the image names an external data file "${name}"` });
    }
    off += 8 + Math.ceil(length / 8) * 8;
  }
}
