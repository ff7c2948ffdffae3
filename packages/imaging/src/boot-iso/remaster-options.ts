import { resolve } from 'node:path';
import type { ProgressListener } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import type { MediaEntry } from '../media-entry.js';
import { type KernelParam, parseKernelParams, parseRemoveParams } from './kernel-params.js';

/** Options of {@link remasterBootIso}. */
export interface RemasterBootIsoOptions {
  /** Path of the bootable ISO to read (never changed). */
  readonly source: string;
  /** Path of the ISO to write (through a temporary file; nothing is left there on failure). */
  readonly output: string;
  /**
   * Kernel parameters to add to every kernel line, such as `auto=true "preseed/url=http://x/y"`:
   * keys of letters, digits, `_-.`; values may be double-quoted to hold spaces. May be empty
   * when {@link RemasterBootIsoOptions.files} are given.
   */
  readonly kernelParams: string;
  /** Keys of parameters to remove from every kernel line first (such as `quiet`, `splash`). */
  readonly removeParams?: readonly string[];
  /** Volume identifier of the output (default: the source's). */
  readonly volumeId?: string;
  /**
   * Files added to the ISO (such as an installer's answer files at its root), each replacing a
   * file of the same path; their parent directories must exist in the ISO or be among them.
   */
  readonly files?: readonly MediaEntry[];
  /** Stops the remaster; the partial output is removed. */
  readonly signal?: AbortSignal;
  /** Progress events (phase `transfer`) while the output is written. */
  readonly onProgress?: ProgressListener;
}

/** A boot entry of the written ISO. */
export interface RemasterBootEntry {
  /** Firmware that boots it. */
  readonly platform: 'bios' | 'efi';
  /** Path of the boot image in the ISO. */
  readonly image: string;
}

/** What {@link remasterBootIso} did. */
export interface RemasterResult {
  /** Configurations patched; those inside an EFI image as `<image path>:/<path inside>`. */
  readonly patched: readonly string[];
  /** Boot entries written, in catalogue order. */
  readonly bootEntries: readonly RemasterBootEntry[];
  /** Size of the output in bytes. */
  readonly bytes: number;
}

/** {@link RemasterBootIsoOptions} validated. */
export interface ResolvedRemasterOptions {
  /** Absolute source path. */
  readonly source: string;
  /** Absolute output path. */
  readonly output: string;
  /** Parameters to add. */
  readonly add: readonly KernelParam[];
  /** Keys to remove. */
  readonly remove: ReadonlySet<string>;
  /** Volume identifier override. */
  readonly volumeId?: string;
  /** Files added or replaced. */
  readonly files: readonly MediaEntry[];
  /** Stops the remaster. */
  readonly signal?: AbortSignal;
  /** Progress events. */
  readonly onProgress?: ProgressListener;
}

/** Validates remaster options before anything is read or written, naming the bad field. */
export function resolveRemasterOptions(options: RemasterBootIsoOptions): ResolvedRemasterOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  if (typeof options.source !== 'string' || options.source === '')
    throw invalidArgument('source', 'must be the path of an ISO file');
  if (typeof options.output !== 'string' || options.output === '')
    throw invalidArgument('output', 'must be a file path');
  const source = resolve(options.source);
  const output = resolve(options.output);
  if (source === output)
    throw invalidArgument('output', 'must differ from source (the source is read while writing)');
  // With files to add, no parameters at all is allowed (the boot lines are kept as they are).
  const add =
    options.kernelParams === '' && (options.files?.length ?? 0) > 0
      ? []
      : parseKernelParams(options.kernelParams);
  const remove = new Set(parseRemoveParams(options.removeParams));
  if (
    options.volumeId !== undefined &&
    (typeof options.volumeId !== 'string' || !/^[\x20-\x7e]{1,32}$/.test(options.volumeId))
  )
    throw invalidArgument('volumeId', 'must be 1 to 32 printable ASCII characters');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw invalidArgument('signal', 'must be an AbortSignal');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw invalidArgument('onProgress', 'must be a function');
  return Object.freeze({
    source,
    output,
    add,
    remove,
    ...(options.volumeId !== undefined ? { volumeId: options.volumeId } : {}),
    files: checkAddedFiles(options.files),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** The added files of {@link RemasterBootIsoOptions.files}: regular files with content, unique paths. */
function checkAddedFiles(files: readonly MediaEntry[] | undefined): readonly MediaEntry[] {
  if (files === undefined) return [];
  if (!Array.isArray(files)) throw invalidArgument('files', 'must be an array of media entries');
  const seen = new Set<string>();
  for (const [i, file] of files.entries()) {
    const path = typeof file?.path === 'string' ? file.path.replace(/^\/+/, '') : '';
    if (path === '' || path.split('/').some((part: string) => part === '' || part === '.' || part === '..'))
      throw invalidArgument(`files[${i}].path`, "must be a relative path without '.' or '..' parts");
    if ((file.type ?? 'file') !== 'file' || file.content === undefined)
      throw invalidArgument(`files[${i}]`, 'must be a regular file with content');
    if (seen.has(path)) throw invalidArgument(`files[${i}].path`, `duplicates ${path}`);
    seen.add(path);
  }
  return files.map((f) => ({ ...f, path: f.path.replace(/^\/+/, '') }));
}
