import type { ProbeIssue } from './format-probe.js';

/** One extent line of a VMDK descriptor. */
export interface VmdkExtent {
  readonly access: string;
  readonly sectors: number;
  readonly type: string;
  readonly file?: string;
}

/** What a VMDK descriptor says. */
export interface VmdkDescriptor {
  readonly createType: string | undefined;
  readonly extents: VmdkExtent[];
  readonly parentFileNameHint: string | undefined;
}

/** Subformats whose data lives in the one file inspected. */
export const SAFE_CREATE_TYPES = ['monolithicSparse', 'streamOptimized'];
const EXTENT_LINE = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)")?/;
const ASSIGNMENT = /^([A-Za-z.]+)\s*=\s*"?([^"]*)"?\s*$/;

/** Parses a descriptor's text (lines of `key=value` and extent lines; `#` starts a comment). */
export function parseVmdkDescriptor(text: string): VmdkDescriptor {
  let createType: string | undefined;
  let parentFileNameHint: string | undefined;
  const extents: VmdkExtent[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const extent = EXTENT_LINE.exec(line);
    if (extent) {
      const file = extent[4];
      extents.push({
        access: extent[1]!,
        sectors: Number(extent[2]),
        type: extent[3]!,
        ...(file === undefined ? {} : { file }),
      });
      continue;
    }
    const kv = ASSIGNMENT.exec(line);
    if (kv?.[1] === 'createType') createType = kv[2];
    if (kv?.[1] === 'parentFileNameHint') parentFileNameHint = kv[2];
  }
  return { createType, extents, parentFileNameHint };
}

/**
 * The rules of a descriptor: the subformat must keep its data in this file (monolithicSparse or
 * streamOptimized), no extent may name a path or any file but one sparse extent, and no parent.
 */
export function descriptorIssues(d: VmdkDescriptor): ProbeIssue[] {
  const issues: ProbeIssue[] = [];
  if (!d.createType || !SAFE_CREATE_TYPES.includes(d.createType))
    issues.push({
      rule: 'vmdk-create-type',
      message: `subformat "${d.createType ?? '(none)'}" is not monolithicSparse or streamOptimized`,
    });
  for (const e of d.extents) {
    if (e.file?.includes('/') || e.file?.includes('\\'))
      issues.push({ rule: 'vmdk-extent-path', message: `an extent names the path "${e.file}"` });
  }
  if (d.extents.length > 1 || d.extents.some((e) => e.type !== 'SPARSE'))
    issues.push({
      rule: 'vmdk-extent-path',
      message: `the descriptor has ${d.extents.length} extents of types ${[...new Set(d.extents.map((e) => e.type))].join(', ')}; only one SPARSE extent (this file) is accepted`,
    });
  if (d.parentFileNameHint)
    issues.push({ rule: 'vmdk-parent', message: `the image names a parent "${d.parentFileNameHint}"` });
  return issues;
}
