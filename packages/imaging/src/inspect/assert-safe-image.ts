import { VmkitError } from '@vmkit/core/spi';
import type { ImageFormat, ImageInfo, ImageRule } from './image-info.js';

/** Options of {@link assertSafeImage}. */
export interface AssertSafeImageOptions {
  /** Formats accepted (`raw` also accepts `iso` and `gpt`, whose disk is the file itself); default: all. */
  readonly formats?: readonly string[];
  /** The format the caller claims the image has (qemu's `vpc` means `vhd`); it must be the one found. */
  readonly format?: string;
  /** Largest virtual size accepted, in bytes (default 16 TiB). */
  readonly maxVirtualSize?: number;
  /** Name of the field or file in error messages (default `image`). */
  readonly field?: string;
}

/** Default {@link AssertSafeImageOptions.maxVirtualSize}: 16 TiB. */
export const DEFAULT_MAX_VIRTUAL_SIZE = 16 * 1024 ** 4;
const CORRUPT_RULES: readonly string[] = ['truncated', 'malformed', 'read-budget'];
const RAW_FAMILY: readonly ImageFormat[] = ['raw', 'iso', 'gpt'];

/** The format named by a caller (`vpc` → `vhd`), lower-cased. */
export function normalizeFormat(format: string): string {
  const f = format.toLowerCase();
  return f === 'vpc' ? 'vhd' : f;
}

/** True when a caller's `claimed` format is satisfied by the `found` one. */
export function formatSatisfies(claimed: string, found: ImageFormat): boolean {
  const c = normalizeFormat(claimed);
  return c === found || (c === 'raw' && RAW_FAMILY.includes(found));
}

/**
 * Throws a `VmkitError` naming the first rule the image breaks (all broken rules are in
 * `details.rules`): `CORRUPT` for truncated or malformed headers, `INVALID_ARGUMENT` for an image
 * that would read other files (backing files, data files, extents naming paths, parents), QED,
 * several formats at once, a claimed format that is not the one found, a format not allowed, or
 * a virtual size over the limit.
 */
export function assertSafeImage(info: ImageInfo, options: AssertSafeImageOptions = {}): void {
  const field = options.field ?? 'image';
  const broken: Array<{ rule: ImageRule | string; message: string }> = info.issues.map((issue) => {
    const at = issue.indexOf(': ');
    return { rule: issue.slice(0, at), message: issue.slice(at + 2) };
  });
  if (options.format !== undefined && !formatSatisfies(options.format, info.format))
    broken.push({
      rule: 'format-mismatch',
      message: `claimed to be ${options.format} but is ${info.format}`,
    });
  if (options.formats && !options.formats.some((f) => formatSatisfies(f, info.format)))
    broken.push({
      rule: 'format-not-allowed',
      message: `${info.format} is not one of the accepted formats (${options.formats.join(', ')})`,
    });
  const max = options.maxVirtualSize ?? DEFAULT_MAX_VIRTUAL_SIZE;
  if (info.virtualSize > max)
    broken.push({
      rule: 'virtual-size-limit',
      message: `virtual size ${info.virtualSize} exceeds the limit of ${max} bytes`,
    });
  const first = broken.find((b) => CORRUPT_RULES.includes(b.rule)) ?? broken[0];
  if (!first) return;
  const code = CORRUPT_RULES.includes(first.rule) ? 'CORRUPT' : 'INVALID_ARGUMENT';
  const more =
    broken.length > 1
      ? ` (also: ${broken
          .filter((b) => b !== first)
          .map((b) => b.rule)
          .join(', ')})`
      : '';
  throw new VmkitError(
    code,
    `${field}: ${info.format} image breaks rule ${first.rule}: ${first.message}${more}`,
    {
      details: { field, rule: first.rule, rules: broken.map((b) => b.rule), format: info.format },
    },
  );
}
