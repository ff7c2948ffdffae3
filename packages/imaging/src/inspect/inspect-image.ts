import { isAbortError, throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { type ByteSource, fileSource } from '../iso9660/read/byte-source.js';
import type { FormatProbe, ProbeIssue, ProbeMatch } from './format-probe.js';
import type { ImageFormat, ImageInfo, InspectImageOptions } from './image-info.js';
import { luksProbe } from './luks.js';
import { ProbeContext, ProbeFailure } from './probe-context.js';
import { qcow2Probe } from './qcow2.js';
import { qedProbe } from './qed.js';
import { gptProbe, hasMbrSignature, isoProbe } from './raw-family.js';
import { vdiProbe } from './vdi.js';
import { vhdProbe } from './vhd.js';
import { vhdxProbe } from './vhdx.js';
import { vmdkProbe } from './vmdk.js';

/** Formats whose header wraps the guest's data (a second one matching is suspicious). */
const CONTAINERS: FormatProbe[] = [qcow2Probe, qedProbe, vmdkProbe, vhdxProbe, vdiProbe, luksProbe, vhdProbe];
/** Formats whose disk is the file itself (qemu's raw). */
const RAW_FAMILY: FormatProbe[] = [isoProbe, gptProbe];
/** Default read budget of one inspection. */
export const DEFAULT_MAX_READ_BYTES = 1024 * 1024;

/**
 * Identifies a disk image's format and virtual size from its headers and descriptors only: the
 * first 64 KiB, the last 512 bytes, and the few structures they point to, within a read budget
 * (1 MiB by default); the image's data is never read. Concerns (backing files, external extents,
 * truncated headers, several formats at once...) are listed in `issues`; pass the result to
 * {@link assertSafeImage} before handing the file to `qemu-img` or a hypervisor.
 *
 * @param source - a file path, or a {@link ByteSource} (which stays open).
 */
export async function inspectImage(
  source: string | ByteSource,
  options: InspectImageOptions = {},
): Promise<ImageInfo> {
  throwIfAborted(options.signal, 'image inspection');
  const bytes = typeof source === 'string' ? await fileSource(source) : source;
  try {
    const ctx = new ProbeContext(bytes, options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES, options.signal);
    await ctx.init();
    const containers = CONTAINERS.filter((p) => p.matches(ctx));
    const rawFamily = RAW_FAMILY.filter((p) => p.matches(ctx));
    const chosen = containers[0] ?? rawFamily[0];
    if (!chosen) return rawInfo(ctx);
    const match = await run(chosen, ctx);
    const issues = [...match.issues];
    const others = [...containers, ...rawFamily].filter((p) => p !== chosen);
    const content = match.dataAtZero || containers.length === 0 ? RAW_FAMILY : [];
    const clashing = others.filter((p) => !content.includes(p));
    if (clashing.length > 0)
      issues.push({
        rule: 'multiple-formats',
        message: `the file matches ${[chosen, ...clashing].map((p) => p.format).join(' and ')} at once`,
      });
    return info(chosen.format, match.virtualSize, ctx, issues, match.details);
  } catch (error) {
    if (isAbortError(error))
      throw new VmkitError('ABORTED', 'image inspection was aborted', { cause: error });
    throw error;
  } finally {
    if (typeof source === 'string') await bytes.close();
  }
}

async function run(probe: FormatProbe, ctx: ProbeContext): Promise<ProbeMatch> {
  try {
    return await probe.inspect(ctx);
  } catch (error) {
    if (!(error instanceof ProbeFailure)) throw error;
    return { virtualSize: 0, details: {}, issues: [{ rule: error.rule, message: error.message }] };
  }
}

function rawInfo(ctx: ProbeContext): ImageInfo {
  const details = hasMbrSignature(ctx.head) ? { partitionTable: 'mbr' } : {};
  return info('raw', ctx.size, ctx, [], details);
}

function info(
  format: ImageFormat,
  virtualSize: number,
  ctx: ProbeContext,
  issues: ProbeIssue[],
  details: Record<string, unknown>,
): ImageInfo {
  return Object.freeze({
    format,
    virtualSize,
    fileSize: ctx.size,
    issues: Object.freeze(issues.map((i) => `${i.rule}: ${i.message}`)),
    details: Object.freeze(details),
    bytesRead: ctx.bytesRead,
  });
}
