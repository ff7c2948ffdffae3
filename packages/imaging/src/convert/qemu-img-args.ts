import { resolve } from 'node:path';
import type { ConvertRequest } from './disk-converter.js';

/** qemu-img's `-p` progress marks: `    (12.34/100%)`. */
const PROGRESS = /\((\d+(?:\.\d+)?)\/100%\)/g;

/** The fraction (0 to 1) of the last `-p` progress mark in `text`, if it has one. */
export function parseQemuImgProgress(text: string): number | undefined {
  let last: number | undefined;
  for (const m of text.matchAll(PROGRESS)) last = Math.min(1, Number(m[1]) / 100);
  return last;
}

/**
 * The arguments of `qemu-img convert` for a request: progress on, the input format always given
 * with `-f` (qemu-img never probes), both paths absolute (qemu-img reads `a:b.vmdk` as protocol
 * `a` and `-x` as an option).
 */
export function qemuImgConvertArgs(request: ConvertRequest, rateLimitBytesPerSecond?: number): string[] {
  const args = ['convert', '-p', '-f', request.inputFormat, '-O', request.outputFormat];
  if (request.compress) args.push('-c');
  if (rateLimitBytesPerSecond) args.push('-r', String(rateLimitBytesPerSecond));
  if (request.outputOptions) args.push('-o', request.outputOptions);
  args.push(resolve(request.input), resolve(request.output));
  return args;
}
