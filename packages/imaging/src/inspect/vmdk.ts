import type { FormatProbe, ProbeIssue } from './format-probe.js';
import { ascii, HEAD_BYTES, type ProbeContext, ProbeFailure, u64, view } from './probe-context.js';
import { descriptorIssues, parseVmdkDescriptor } from './vmdk-descriptor.js';

const MAGIC = 0x564d444b; // 'KDMV' little-endian
const SECTOR = 512;
const GD_AT_END = 0xffffffffffffffffn;
/** Largest embedded or stand-alone descriptor read (qemu writes 10 KiB). */
export const MAX_DESCRIPTOR_BYTES = HEAD_BYTES;

/** True when the head looks like a stand-alone descriptor (text, as qemu's probe sees it). */
function looksLikeDescriptor(head: Uint8Array): boolean {
  const start = ascii(head, 0, Math.min(head.length, 1024));
  if (start.includes('\0')) return false;
  return (
    /^\s*(# Disk DescriptorFile|version\s*=)/.test(start) &&
    /createType\s*=/.test(ascii(head, 0, head.length))
  );
}

/**
 * VMDK: a hosted sparse extent (monolithicSparse, streamOptimized) with its embedded descriptor,
 * or a stand-alone descriptor file (monolithicFlat, twoGbMaxExtent*, vmfs...), whose extents are
 * other files and which is therefore always refused.
 */
export const vmdkProbe: FormatProbe = {
  format: 'vmdk',
  matches: (ctx) =>
    (ctx.head.length >= 4 && view(ctx.head).getUint32(0, true) === MAGIC) || looksLikeDescriptor(ctx.head),
  async inspect(ctx) {
    if (view(ctx.head).getUint32(0, true) === MAGIC) return sparse(ctx);
    return standalone(ctx);
  },
};

async function sparse(ctx: ProbeContext) {
  const dv = view(ctx.need(SECTOR, 'VMDK sparse header'));
  const capacity = u64(dv, 12, true, 'VMDK capacity');
  const descOffset = u64(dv, 28, true, 'VMDK descriptorOffset');
  const descSize = u64(dv, 36, true, 'VMDK descriptorSize');
  const gdAtEnd = dv.getBigUint64(56, true) === GD_AT_END;
  const details: Record<string, unknown> = {
    version: dv.getUint32(4, true),
    grainSize: u64(dv, 20, true, 'VMDK grainSize') * SECTOR,
    compressAlgorithm: dv.getUint16(77, true),
    gdAtEnd,
  };
  const issues: ProbeIssue[] = [];
  if (descOffset === 0 || descSize === 0) {
    issues.push({ rule: 'vmdk-descriptor-bounds', message: 'the sparse extent has no embedded descriptor' });
    return { virtualSize: capacity * SECTOR, details, issues };
  }
  const start = descOffset * SECTOR;
  const length = descSize * SECTOR;
  if (length > MAX_DESCRIPTOR_BYTES || start + length > ctx.size || start < SECTOR) {
    issues.push({
      rule: 'vmdk-descriptor-bounds',
      message: `the descriptor (${length} bytes at ${start}) lies outside the file or exceeds ${MAX_DESCRIPTOR_BYTES} bytes`,
    });
    return { virtualSize: capacity * SECTOR, details, issues };
  }
  const bytes = await ctx.read(start, length, 'VMDK descriptor');
  const nul = bytes.indexOf(0);
  const descriptor = parseVmdkDescriptor(ascii(bytes, 0, nul < 0 ? bytes.length : nul));
  details.createType = descriptor.createType;
  details.extents = descriptor.extents;
  issues.push(...descriptorIssues(descriptor));
  return { virtualSize: capacity * SECTOR, details, issues };
}

async function standalone(ctx: ProbeContext) {
  if (ctx.size > MAX_DESCRIPTOR_BYTES)
    throw new ProbeFailure(
      'vmdk-descriptor-bounds',
      `a VMDK descriptor file of ${ctx.size} bytes exceeds ${MAX_DESCRIPTOR_BYTES} bytes`,
    );
  const descriptor = parseVmdkDescriptor(ascii(ctx.head, 0, ctx.head.length));
  const sectors = descriptor.extents.reduce((sum, e) => sum + e.sectors, 0);
  return {
    virtualSize: sectors * SECTOR,
    details: { createType: descriptor.createType, extents: descriptor.extents, descriptorFile: true },
    issues: descriptorIssues(descriptor),
  };
}
