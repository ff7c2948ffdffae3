import { createHash } from 'node:crypto';
import { closeSync, constants, fsync, linkSync, mkdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { abortedError, throwIfAborted } from '../util/abort.js';
import { createPrivateFile, createPrivateFileSync } from '../util/private-file.js';
import { retryRetryable } from '../util/retry.js';
import { encodeTrailer } from './blob-file-format.js';
import type { BlobBody, PutBlobOptions } from './blob-store.js';
import { md5Etag } from './body.js';
import { FOLDER_MODE } from './fs-blob-paths.js';

/** Temp files older than this were left by a process that crashed mid-write. */
const STALE_TEMP_MS = 3_600_000;
/** Sweeps of the temp folder are at least this far apart (per store). */
const SWEEP_EVERY_MS = 1_000;
/** This host's tag in temp file names: temp files of dead processes of this host are removed at once. */
const HOST_TAG = `h${createHash('sha256').update(hostname()).digest('hex').slice(0, 8)}`;
/** Tries of a move into place that a concurrent removal of its empty parent folder undid. */
const MOVE_ATTEMPTS = 20;

/**
 * Writes blob files for the filesystem store: the body and its trailer go to a temp file that is
 * fsynced (when durable) and then renamed, or linked for `ifNoneMatch`, into place, so readers
 * never see a partial blob.
 *
 * What each step guarantees: the rename (or link) publishes the whole blob at once; the fsync of
 * the temp file before it means a crash never leaves the name on data the disk does not hold (an
 * empty or torn blob); the fsync of the folder after it makes the name itself survive a crash, so
 * a record whose write returned is there after a restart. Both run only when `durable`.
 *
 * A body given whole (a string or bytes, up to `syncMax` bytes: records, leases, markers) is
 * written with synchronous calls, and every move into place is: each is a metadata update that
 * takes microseconds on a local disk, where an asynchronous call waits for a thread of the pool,
 * which a busy process (streaming disk images, hashing) keeps queued for tens of milliseconds. The
 * fsyncs, which wait for the disk, stay asynchronous.
 */
export class FsBlobWriter {
  readonly #tmpDir: string;
  readonly #durable: boolean;
  readonly #syncMax: number;
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(tmpDir: string, durable: boolean, syncMax = 0) {
    this.#tmpDir = tmpDir;
    this.#durable = durable;
    this.#syncMax = syncMax;
  }

  /** Writes `body` to `path` in container folder `dir` atomically; its etag. */
  async write(
    path: string,
    where: { container: string; name: string; dir: string },
    body: BlobBody,
    opts: PutBlobOptions,
  ): Promise<string> {
    this.#sweep();
    const whole = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const { tmp, etag } =
      whole instanceof Uint8Array && whole.byteLength <= this.#syncMax
        ? await this.#writeSmallTemp(whole, opts)
        : await this.#writeTemp(body, opts);
    try {
      await this.#moveIntoPlace(tmp, path, opts.ifNoneMatch === '*');
      return etag;
    } catch (error) {
      await unlink(tmp).catch(() => {});
      const { container, name, dir } = where;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && opts.ifNoneMatch === '*') {
        throw new VmkitError('CONFLICT', `blob ${name} already exists in ${container}`, {
          details: { container, name },
        });
      }
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
        throw new VmkitError('CONFLICT', `blob ${name} clashes with another blob's path in ${container}`, {
          cause: error,
          details: { container, name, dir },
        });
      }
      throw toVmkitError(error, 'STORE', `writing blob ${container}/${name}`);
    }
  }

  async #moveIntoPlace(tmp: string, path: string, exclusive: boolean): Promise<void> {
    const parent = resolve(path, '..');
    // The parent folder is made only when the move finds it missing: a mkdir of an existing folder
    // still takes that folder's parent's lock in the kernel, which a fleet's writers contend for
    // (in a fleet of 16 host processes, a fifth of the time their writes blocked). A concurrent removeBlob
    // may drop an empty parent folder before the move: retry (many writers and removers in one
    // folder, such as change markers, race often).
    let makeParent = false;
    await retryRetryable(
      async () => {
        if (makeParent) mkdirSync(parent, { recursive: true, mode: FOLDER_MODE });
        makeParent = true;
        if (exclusive) {
          linkSync(tmp, path);
          unlinkSync(tmp);
        } else {
          renameSync(tmp, path);
        }
      },
      {
        attempts: MOVE_ATTEMPTS,
        baseDelayMs: 0,
        retryIf: (error) => (error as NodeJS.ErrnoException).code === 'ENOENT',
      },
    );
    await this.#syncDir(parent);
  }

  async #writeTemp(body: BlobBody, opts: PutBlobOptions): Promise<{ tmp: string; etag: string }> {
    await mkdir(this.#tmpDir, { recursive: true, mode: FOLDER_MODE });
    // Every blob and temp file is its owner's only (blobs may hold secrets, such as a master's user
    // data or an import's disk); an unpredictable name, created exclusively: nothing planted in the
    // folder is written through.
    // Named by host and process, so a sweep can tell the temp files of a process killed mid-write.
    const { path: tmp, handle } = await createPrivateFile(this.#tmpDir, {
      prefix: `${HOST_TAG}-p${process.pid}-`,
    });
    try {
      const md5 = createHash('md5');
      const write = async (chunk: Uint8Array) => {
        throwIfAborted(opts.signal, 'upload');
        md5.update(chunk);
        await handle.write(chunk);
      };
      if (typeof body === 'string') await write(Buffer.from(body, 'utf8'));
      else if (body instanceof Uint8Array) await write(body);
      else {
        for await (const chunk of body as AsyncIterable<Buffer | string>) {
          await write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        }
      }
      const etag = `"${md5.digest('hex')}"`;
      await handle.write(
        encodeTrailer({ etag, contentType: opts.contentType, metadata: { ...opts.metadata } }),
      );
      if (this.#durable) await handle.sync();
      await handle.close();
      return { tmp, etag };
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      if (!(body instanceof Uint8Array) && typeof body !== 'string') body.destroy();
      if (opts.signal?.aborted) throw abortedError(opts.signal, 'upload');
      throw toVmkitError(error, 'STORE', 'writing blob');
    }
  }

  /** {@link #writeTemp} for a small body, with synchronous calls but for the fsync. */
  async #writeSmallTemp(bytes: Uint8Array, opts: PutBlobOptions): Promise<{ tmp: string; etag: string }> {
    throwIfAborted(opts.signal, 'upload');
    const prefix = `${HOST_TAG}-p${process.pid}-`;
    let made: ReturnType<typeof createPrivateFileSync>;
    try {
      made = createPrivateFileSync(this.#tmpDir, { prefix });
    } catch (error) {
      // The temp folder is made when it is missing (see #moveIntoPlace); a file in its place makes
      // the mkdir fail, naming it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      mkdirSync(this.#tmpDir, { recursive: true, mode: FOLDER_MODE });
      made = createPrivateFileSync(this.#tmpDir, { prefix });
    }
    const { path: tmp, fd } = made;
    let open = true;
    try {
      const etag = md5Etag(bytes);
      writeAllSync(fd, bytes);
      writeAllSync(
        fd,
        encodeTrailer({ etag, contentType: opts.contentType, metadata: { ...opts.metadata } }),
      );
      if (this.#durable) await new Promise<void>((done, fail) => fsync(fd, (e) => (e ? fail(e) : done())));
      open = false;
      closeSync(fd);
      return { tmp, etag };
    } catch (error) {
      if (open) closeSync(fd);
      await unlink(tmp).catch(() => {});
      throw toVmkitError(error, 'STORE', 'writing blob');
    }
  }

  async #syncDir(dir: string): Promise<void> {
    if (!this.#durable) return;
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(dir, constants.O_RDONLY);
    } catch (error) {
      // Another process removed the blob just written and pruned its folder: nothing to sync.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * At most every {@link SWEEP_EVERY_MS}, in the background, removes the temp files of processes
   * that crashed mid-write: those of a dead process of this host at once, any after an hour.
   */
  #sweep(): void {
    if (Date.now() - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = Date.now();
    void (async () => {
      for (const file of await readdir(this.#tmpDir).catch(() => [] as string[])) {
        const info = await stat(join(this.#tmpDir, file)).catch(() => undefined);
        if (info && (Date.now() - info.mtimeMs > STALE_TEMP_MS || writerDied(file)))
          await unlink(join(this.#tmpDir, file)).catch(() => {});
      }
    })();
  }
}

/** Writes all of `bytes` at the file's current offset. */
function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done);
}

/** Whether a temp file was written by a process of this host that no longer runs. */
function writerDied(file: string): boolean {
  const pid = Number(new RegExp(`^${HOST_TAG}-p(\\d+)-`).exec(file)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
