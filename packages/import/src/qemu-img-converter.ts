import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';

/** One conversion asked of a {@link DiskConverter}. */
export interface ConvertRequest {
  readonly input: string;
  /** qemu's name of the input format, always given (never probed). */
  readonly inputFormat: string;
  readonly output: string;
  readonly outputFormat: string;
  /** `-o` options of the output (e.g. `subformat=streamOptimized`). */
  readonly outputOptions?: string;
  readonly signal: AbortSignal;
  /** Fraction done, 0 to 1. */
  readonly onProgress: (fraction: number) => void;
  /** Called with the converter's process id once it runs. */
  readonly onSpawn?: (pid: number) => void;
}

/** Converts one disk image into another format (qemu-img by default; fakes in tests). */
export interface DiskConverter {
  convert(request: ConvertRequest): Promise<void>;
}

/** qemu-img's `-p` progress lines: `    (12.34/100%)`. */
const PROGRESS = /\((\d+(?:\.\d+)?)\/100%\)/g;
/** How long a killed qemu-img gets after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 300;

/** The fraction of the last progress mark in `text`, if any. */
export function parseQemuImgProgress(text: string): number | undefined {
  let last: number | undefined;
  for (const m of text.matchAll(PROGRESS)) last = Number(m[1]) / 100;
  return last;
}

/** Options of {@link qemuImgConverter}. */
export interface QemuImgConverterOptions {
  /** The program (default `qemu-img` on the PATH). */
  readonly binary?: string;
  /** Caps each conversion's I/O (qemu-img `-r`), in bytes per second, to spare the host's disks. */
  readonly rateLimitBytesPerSecond?: number;
}

/**
 * A {@link DiskConverter} running `qemu-img convert -p -f <in> -O <out>`; an abort sends SIGTERM,
 * then SIGKILL 300 ms later, so the process is gone within a second.
 */
export function qemuImgConverter(options: QemuImgConverterOptions = {}): DiskConverter {
  const binary = options.binary ?? 'qemu-img';
  const rate = options.rateLimitBytesPerSecond;
  if (rate !== undefined && (!Number.isSafeInteger(rate) || rate < 1))
    throw new VmkitError('INVALID_ARGUMENT', 'rateLimitBytesPerSecond: must be a positive integer');
  return {
    convert(req) {
      const args = ['convert', '-p', '-f', req.inputFormat, '-O', req.outputFormat];
      if (rate) args.push('-r', String(rate));
      if (req.outputOptions) args.push('-o', req.outputOptions);
      // Absolute paths: qemu-img reads `a:b.vmdk` as protocol `a` and `-x` as an option.
      args.push(resolve(req.input), resolve(req.output));
      return new Promise<void>((resolve, reject) => {
        if (req.signal.aborted) return reject(req.signal.reason);
        const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        if (child.pid !== undefined) req.onSpawn?.(child.pid);
        let stderr = '';
        let killTimer: NodeJS.Timeout | undefined;
        const onAbort = () => {
          child.kill('SIGTERM');
          killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        };
        req.signal.addEventListener('abort', onAbort, { once: true });
        child.stdout.setEncoding('latin1').on('data', (chunk: string) => {
          const f = parseQemuImgProgress(chunk);
          if (f !== undefined) req.onProgress(f);
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          if (stderr.length < 8192) stderr += chunk;
        });
        child.on('error', (error) => {
          req.signal.removeEventListener('abort', onAbort);
          reject(new VmkitError('UNSUPPORTED', `cannot run ${binary}: ${error.message}`, { cause: error }));
        });
        child.on('close', (code, sig) => {
          req.signal.removeEventListener('abort', onAbort);
          clearTimeout(killTimer);
          if (req.signal.aborted) return reject(req.signal.reason);
          if (code === 0) return resolve();
          reject(
            new VmkitError(
              'PROVIDER',
              `qemu-img convert -f ${req.inputFormat} -O ${req.outputFormat} failed (${code ?? sig}): ${stderr.trim()}`,
            ),
          );
        });
      });
    },
  };
}
