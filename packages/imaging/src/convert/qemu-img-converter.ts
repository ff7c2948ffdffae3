import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { abortedError, invalidArgument, VmkitError } from '@vmkit/core/spi';
import type { ConvertRequest, DiskConverter } from './disk-converter.js';
import { parseQemuImgProgress, qemuImgConvertArgs } from './qemu-img-args.js';

/** How long a killed qemu-img gets after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 300;
/** How much of qemu-img's error output an error keeps. */
const STDERR_KEEP = 4096;

/** Options of {@link qemuImgConverter}. */
export interface QemuImgConverterOptions {
  /** The program (default `qemu-img` on the PATH). */
  readonly binary?: string;
  /** Caps each conversion's I/O (qemu-img `-r`), in bytes per second, to spare the host's disks. */
  readonly rateLimitBytesPerSecond?: number;
}

/**
 * A {@link DiskConverter} running `qemu-img convert -p -f <in> -O <out>` (input format always
 * given, both paths absolute). Progress comes from qemu-img's `-p` marks; an abort sends SIGTERM,
 * then SIGKILL 300 ms later, and the call rejects `ABORTED` once the process is gone and the
 * partial output removed. A missing program is `UNSUPPORTED` (`details.missing`), any other
 * failure `PROVIDER` naming the input and output files and quoting qemu-img's message.
 */
export function qemuImgConverter(options: QemuImgConverterOptions = {}): DiskConverter {
  const binary = options.binary ?? 'qemu-img';
  const rate = options.rateLimitBytesPerSecond;
  if (rate !== undefined && (!Number.isSafeInteger(rate) || rate < 1))
    throw invalidArgument('rateLimitBytesPerSecond', 'must be a positive integer');
  return {
    async convert(request) {
      const args = qemuImgConvertArgs(request, rate);
      const output = resolvePath(request.output);
      try {
        await runQemuImg(binary, args, request);
      } catch (error) {
        await rm(output, { force: true });
        throw error;
      }
    },
  };
}

function runQemuImg(binary: string, args: string[], req: ConvertRequest): Promise<void> {
  const { signal } = req;
  const where = `${req.field ? `${req.field}: ` : ''}qemu-img could not convert ${resolvePath(req.input)} (${req.inputFormat}) to ${resolvePath(req.output)} (${req.outputFormat})`;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal, 'disk conversion'));
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const done = () => {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('spawn', () => {
      if (child.pid !== undefined) req.onSpawn?.(child.pid);
    });
    // A mark may be split between two reads: the tail of the last read is parsed again.
    let tail = '';
    child.stdout.setEncoding('latin1').on('data', (chunk: string) => {
      const text = tail + chunk;
      tail = text.slice(-16);
      const fraction = parseQemuImgProgress(text);
      if (fraction !== undefined) req.onProgress?.(fraction);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      done();
      const missing = error.code === 'ENOENT' || error.code === 'EACCES';
      reject(
        new VmkitError(
          missing ? 'UNSUPPORTED' : 'PROVIDER',
          missing
            ? `${where}: ${binary} cannot be run (${error.code}); install qemu-utils (qemu-img)`
            : `${where}: ${error.message}`,
          { cause: error, details: { input: req.input, output: req.output, program: binary, missing } },
        ),
      );
    });
    child.on('close', (code, sig) => {
      done();
      if (signal?.aborted) return reject(abortedError(signal, 'disk conversion'));
      if (code === 0) return resolve();
      reject(
        new VmkitError('PROVIDER', `${where} (exit ${code ?? sig}): ${stderr.trim()}`, {
          details: { input: req.input, output: req.output },
        }),
      );
    });
  });
}
