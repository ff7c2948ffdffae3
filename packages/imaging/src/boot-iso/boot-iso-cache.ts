import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { OperationOptions } from '@vmkit/core';
import { invalidArgument, throwIfAborted } from '@vmkit/core/spi';
import { parseKernelParams, parseRemoveParams } from './kernel-params.js';
import { remasterBootIso } from './remaster-boot-iso.js';

/** Options of {@link bootIsoCache}. */
export interface BootIsoCacheOptions {
  /** Directory of the cache (created when missing); it holds `<key>.iso` files and `one-shot/`. */
  readonly dir: string;
  /** Most bytes of cached ISOs kept; the least recently used go first (a positive integer). */
  readonly maxBytes: number;
  /** Cached ISOs older than this are rebuilt (milliseconds, default: no limit). */
  readonly ttlMs?: number;
}

/** Options of {@link BootIsoCache.get}. */
export interface BootIsoGetOptions extends OperationOptions {
  /** Keys of parameters to remove (part of the cache key). */
  readonly removeParams?: readonly string[];
  /** Volume identifier of the output (part of the cache key). */
  readonly volumeId?: string;
  /** Give a private copy, removed by {@link BootIsoLease.release} (for a single node's boot). */
  readonly oneShot?: boolean;
}

/** A remastered ISO handed out by the cache. */
export interface BootIsoLease {
  /** Path of the ISO. Valid until {@link BootIsoLease.release}: the cache does not evict it before. */
  readonly path: string;
  /** True when the ISO was already cached. */
  readonly hit: boolean;
  /** Releases the ISO; a one-shot copy is removed. Idempotent. */
  release(): Promise<void>;
  /** Same as {@link BootIsoLease.release}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Remastered boot ISOs on disk, keyed by the source's sha256 and the parameters. */
export interface BootIsoCache {
  /**
   * The source remastered with `kernelParams`: built once however many callers ask at the same
   * time (single flight), then served from the cache until evicted.
   */
  get(source: string, kernelParams: string, options?: BootIsoGetOptions): Promise<BootIsoLease>;
  /** Removes expired ISOs, then the least recently used until the cache fits `maxBytes`. */
  prune(): Promise<void>;
  /** Bytes of cached ISOs (one-shot copies excluded). */
  size(): Promise<number>;
}

interface Entry {
  readonly path: string;
  readonly size: number;
  readonly created: number;
  readonly used: number;
}

/**
 * A cache of remastered boot ISOs (see {@link remasterBootIso}) in `dir`, within `maxBytes`, each
 * kept at most `ttlMs`. ISOs in use (leased) are never evicted; one-shot copies are hard links (or
 * copies) removed on release. Builds write through a temporary file, so a failed or aborted build
 * leaves nothing behind. One process per directory.
 */
export function bootIsoCache(options: BootIsoCacheOptions): BootIsoCache {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  if (typeof options.dir !== 'string' || options.dir === '')
    throw invalidArgument('options.dir', 'must be a directory path');
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1)
    throw invalidArgument('options.maxBytes', 'must be a positive integer');
  const ttl = options.ttlMs;
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0))
    throw invalidArgument('options.ttlMs', 'must be a positive number');
  const dir = resolve(options.dir);
  const oneShotDir = join(dir, 'one-shot');
  const flights = new Map<string, Promise<boolean>>();
  const pins = new Map<string, number>();
  const hashes = new Map<string, { key: string; sha256: string }>();

  const sourceHash = async (path: string): Promise<string> => {
    const info = await stat(path);
    const memo = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
    const known = hashes.get(path);
    if (known?.key === memo) return known.sha256;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const sha256 = hash.digest('hex');
    hashes.set(path, { key: memo, sha256 });
    return sha256;
  };

  const entries = async (): Promise<Entry[]> => {
    const out: Entry[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{64}\.iso$/.test(name)) continue;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info)
        out.push({ path: join(dir, name), size: info.size, created: info.mtimeMs, used: info.atimeMs });
    }
    return out;
  };

  const expired = (entry: Entry) => ttl !== undefined && Date.now() - entry.created > ttl;

  const prune = async (keep?: string) => {
    const all = await entries();
    for (const entry of all)
      if (expired(entry) && !pins.has(entry.path) && entry.path !== keep)
        await rm(entry.path, { force: true });
    const live = (await entries()).sort((a, b) => a.used - b.used);
    let total = live.reduce((n, e) => n + e.size, 0);
    for (const entry of live) {
      if (total <= options.maxBytes) break;
      if (pins.has(entry.path) || entry.path === keep) continue;
      await rm(entry.path, { force: true });
      total -= entry.size;
    }
  };

  const build = async (path: string, source: string, kernelParams: string, opts: BootIsoGetOptions) => {
    const info = await stat(path).catch(() => undefined);
    if (info && !(ttl !== undefined && Date.now() - info.mtimeMs > ttl)) return true;
    await remasterBootIso({
      source,
      output: path,
      kernelParams,
      ...(opts.removeParams ? { removeParams: opts.removeParams } : {}),
      ...(opts.volumeId !== undefined ? { volumeId: opts.volumeId } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    return false;
  };

  return Object.freeze({
    async get(source: string, kernelParams: string, opts: BootIsoGetOptions = {}): Promise<BootIsoLease> {
      if (typeof source !== 'string' || source === '')
        throw invalidArgument('source', 'must be the path of an ISO file');
      const params = parseKernelParams(kernelParams).map((p) => p.text);
      const remove = parseRemoveParams(opts.removeParams).sort();
      throwIfAborted(opts.signal, 'getting a boot ISO');
      await mkdir(oneShotDir, { recursive: true });
      const sha256 = await sourceHash(resolve(source)).catch((error: Error) => {
        throw invalidArgument('source', `cannot read ${source}: ${error.message}`);
      });
      const key = createHash('sha256')
        .update(JSON.stringify({ sha256, params, remove, volumeId: opts.volumeId ?? null }))
        .digest('hex');
      const path = join(dir, `${key}.iso`);
      let flight = flights.get(path);
      if (!flight) {
        flight = build(path, resolve(source), kernelParams, opts).finally(() => flights.delete(path));
        flights.set(path, flight);
      }
      const hit = await flight;
      pins.set(path, (pins.get(path) ?? 0) + 1);
      const unpin = () => {
        const n = (pins.get(path) ?? 1) - 1;
        if (n <= 0) pins.delete(path);
        else pins.set(path, n);
      };
      let leased = path;
      try {
        const now = new Date();
        const info = await stat(path);
        await utimes(path, now, info.mtime);
        if (opts.oneShot) {
          leased = join(oneShotDir, `${key.slice(0, 16)}-${randomBytes(6).toString('hex')}.iso`);
          await link(path, leased).catch(() => copyFile(path, leased));
        }
        if (!hit) await prune(path);
      } catch (error) {
        unpin();
        if (leased !== path) await rm(leased, { force: true });
        throw error;
      }
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        unpin();
        if (leased !== path) await rm(leased, { force: true });
      };
      return Object.freeze({ path: leased, hit, release, [Symbol.asyncDispose]: release });
    },
    prune: () => prune(),
    async size() {
      return (await entries()).reduce((n, e) => n + e.size, 0);
    },
  });
}
