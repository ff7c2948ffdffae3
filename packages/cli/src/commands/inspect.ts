import { Command, InvalidArgumentError } from 'commander';
import { formatBytes, parseSize } from '../output/format.js';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

/** A `--max-virtual-size` value: bytes or a size with a binary unit. */
export function sizeOption(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined || bytes < 1)
    throw new InvalidArgumentError('must be a size in bytes or with a unit K, M, G or T (such as 512M, 20G)');
  return bytes;
}

/** What `vmkit inspect --json` prints per file. */
interface InspectResult {
  readonly file: string;
  readonly safe: boolean;
  readonly format?: string;
  readonly virtualSize?: number;
  readonly fileSize?: number;
  readonly issues?: readonly string[];
  readonly details?: Readonly<Record<string, unknown>>;
  readonly bytesRead?: number;
  /** The first rule broken, when not safe. */
  readonly rule?: string;
  /** The error's kind (`CORRUPT`, `INVALID_ARGUMENT`, `NOT_FOUND`...), when not safe. */
  readonly code?: string;
  readonly error?: string;
}

/** `vmkit inspect FILE...`: a disk image's format and sizes from its headers, and whether it is safe. */
export function inspectCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('inspect')
      .description(
        "identify disk images from their headers only (format, virtual size, issues) and check them against vmkit's safety rules",
      )
      .argument('<file...>', 'disk image files')
      .option('-f, --format <format>', 'the format the files are claimed to have (raw, qcow2, vmdk, vhd...)')
      .option('--max-virtual-size <size>', 'largest virtual size accepted (default 16T)', sizeOption),
    'vmkit inspect upload.img --format raw --max-virtual-size 20G',
  );
  return defineAction(
    command,
    io,
    async (ctx, files: string[], opts: { format?: string; maxVirtualSize?: number }) => {
      const [{ inspectImage, assertSafeImage }, { VmkitError }] = await Promise.all([
        import('@vmkit/imaging'),
        import('@vmkit/core'),
      ]);
      const results: InspectResult[] = [];
      let firstFailure: unknown;
      for (const file of files) {
        try {
          const info = await inspectImage(file);
          const facts = {
            format: info.format,
            virtualSize: info.virtualSize,
            fileSize: info.fileSize,
            issues: info.issues,
            details: info.details,
            bytesRead: info.bytesRead,
          };
          try {
            assertSafeImage(info, {
              field: file,
              ...(opts.format !== undefined ? { format: opts.format } : {}),
              ...(opts.maxVirtualSize !== undefined ? { maxVirtualSize: opts.maxVirtualSize } : {}),
            });
            results.push({ file, safe: true, ...facts });
          } catch (error) {
            if (!VmkitError.is(error)) throw error;
            firstFailure ??= error;
            const rule = (error.details as { rule?: string } | undefined)?.rule;
            results.push({
              file,
              safe: false,
              ...facts,
              ...(rule ? { rule } : {}),
              code: error.code,
              error: error.message,
            });
          }
        } catch (error) {
          if (!VmkitError.is(error)) throw error;
          firstFailure ??= error;
          results.push({ file, safe: false, code: error.code, error: error.message });
        }
      }
      if (ctx.json) ctx.printJson(results);
      else ctx.print(results.map(describe).join('\n\n'));
      for (const r of results) if (!r.safe) ctx.note(`vmkit: ${r.error}`);
      if (firstFailure) {
        const { exitCodeOf } = await import('../runtime/exit-codes.js');
        process.exitCode = exitCodeOf(firstFailure);
      }
    },
  );
}

/** A file's result as `key: value` lines. */
function describe(r: InspectResult): string {
  const lines = [`${r.file}:`];
  if (r.format !== undefined) {
    lines.push(`  format: ${r.format}`);
    lines.push(`  virtual size: ${formatBytes(r.virtualSize ?? 0)} (${r.virtualSize} bytes)`);
    lines.push(`  file size: ${formatBytes(r.fileSize ?? 0)} (${r.fileSize} bytes)`);
    lines.push(`  issues: ${r.issues && r.issues.length > 0 ? r.issues.join('; ') : 'none'}`);
  }
  if (r.safe) lines.push('  safe: yes');
  else lines.push(r.rule ? `  safe: no, breaks rule ${r.rule}` : `  not inspected: ${r.code}`);
  return lines.join('\n');
}
