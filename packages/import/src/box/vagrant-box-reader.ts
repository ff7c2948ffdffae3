import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BoxSource, BoxSourceReader, ReadBoxSource } from '@vmkit/core';
import { ensurePrivateDir, userCacheHome } from '@vmkit/core/internal';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import { assertSafeImage, inspectImage } from '@vmkit/imaging';
import { SAFE_NAME } from '../archive/tar-unpack.js';
import { openUrlSource } from '../source-fetch.js';
import { defaultImportRoot } from '../working-folders.js';
import { extractBox } from './box-extract.js';
import { vagrantLogin } from './vagrant-login.js';

/** Options of {@link vagrantBoxReader}. */
export interface VagrantBoxReaderOptions {
  /**
   * Where boxes are unpacked, one folder per box (default `<user cache>/vmkit/import/boxes`,
   * private: made 0700 and checked). A box's disk stays there while its image is used.
   */
  readonly cacheDir?: string;
  /** Most bytes a box may hold (default 1 TiB); a source's own `maxBytes` may lower it. */
  readonly maxBytes?: number;
}

/** What an unpacked box's folder records about itself (`vmkit-box.json`, written last). */
interface UnpackedBox {
  readonly disk: string;
  readonly format: 'qcow2' | 'vmdk';
  readonly hardware: { cores?: number; ramMiB?: number };
}

const READY = 'vmkit-box.json';

/** The cache key of a source: the file (real path, size, modification time) or the URL, with the provider and digest asked. */
async function keyOf(source: BoxSource): Promise<string> {
  let where: unknown;
  if (source.path !== undefined) {
    const file = await realpath(source.path);
    const s = await stat(file);
    where = [file, s.size, s.mtimeMs];
  } else where = source.url;
  return createHash('sha256')
    .update(JSON.stringify([where, source.provider ?? '', source.sha256 ?? '']))
    .digest('hex')
    .slice(0, 32);
}

/** The record of an unpacked box, or `undefined` when the folder is not a complete one. */
async function readyBox(dir: string): Promise<UnpackedBox | undefined> {
  const text = await readFile(join(dir, READY), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const r = JSON.parse(text) as Partial<UnpackedBox>;
  const count = (n: unknown) => n === undefined || (Number.isSafeInteger(n) && (n as number) > 0);
  if (
    typeof r.disk !== 'string' ||
    !SAFE_NAME.test(r.disk) ||
    (r.format !== 'qcow2' && r.format !== 'vmdk') ||
    typeof r.hardware !== 'object' ||
    !count(r.hardware?.cores) ||
    !count(r.hardware?.ramMiB)
  )
    throw new VmkitError('CORRUPT', `${join(dir, READY)} is not what vmkit writes; remove the folder`, {
      details: { rule: 'box-cache' },
    });
  return r as UnpackedBox;
}

function viewOf(dir: string, box: UnpackedBox): ReadBoxSource {
  return {
    source: { type: 'disk', path: join(dir, box.disk), format: box.format },
    hardware: box.hardware,
    login: vagrantLogin(),
  };
}

/**
 * A reader of `box` master sources for a compute service (`sources: { box: vagrantBoxReader() }`):
 * the box (a file, or an http(s) URL streamed under core's download rules) is unpacked once into
 * its own folder of `cacheDir` under the rules of `importImage`'s boxes (hostile members refused,
 * `metadata.json` checked, the Vagrantfile's memory and CPUs read, never run), its first disk
 * inspected and refused unless safe; the image then is a `disk` master of that disk, with the
 * box's hardware and Vagrant's login (user `vagrant`, the insecure key). The same file (path,
 * size, modification time) or URL is not read again.
 */
export function vagrantBoxReader(options: VagrantBoxReaderOptions = {}): BoxSourceReader {
  const cacheDir = resolve(options.cacheDir ?? join(defaultImportRoot(), 'boxes'));
  const limit = options.maxBytes ?? 1024 ** 4;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw invalidArgument('maxBytes', 'must be a positive integer');
  return async (source, { signal = new AbortController().signal }) => {
    if (options.cacheDir === undefined)
      await ensurePrivateDir(cacheDir, { field: 'cacheDir', base: userCacheHome() });
    else await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const dir = join(cacheDir, await keyOf(source));
    const ready = await readyBox(dir);
    if (ready) return viewOf(dir, ready);
    const maxBytes = Math.min(limit, source.maxBytes ?? limit);
    const work = await mkdtemp(join(cacheDir, 'unpacking-'));
    try {
      const stream =
        source.path !== undefined
          ? createReadStream(source.path)
          : await openUrlSource(source.url!, 'source', maxBytes, signal);
      const box = await extractBox(stream, work, {
        maxBytes,
        signal,
        ...(source.provider ? { provider: source.provider } : {}),
      });
      if (source.sha256 && source.sha256 !== box.sha256)
        throw new VmkitError('CORRUPT', `source: sha256 is ${box.sha256}, expected ${source.sha256}`, {
          details: { field: 'source.sha256', rule: 'sha256' },
        });
      const disk = box.disks[0]!;
      const info = await inspectImage(disk.file, { signal });
      assertSafeImage(info, {
        format: disk.format,
        maxVirtualSize: maxBytes,
        field: `source (${disk.href})`,
      });
      const record: UnpackedBox = {
        disk: disk.href,
        format: info.format as 'qcow2' | 'vmdk',
        hardware: box.hardware,
      };
      await writeFile(join(work, READY), JSON.stringify(record), { mode: 0o600 });
      await rename(work, dir).catch(async (error: NodeJS.ErrnoException) => {
        // Another reader finished the same box first: its folder is as good.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        await rm(work, { recursive: true, force: true });
      });
    } catch (error) {
      await rm(work, { recursive: true, force: true });
      throw error;
    }
    const done = await readyBox(dir);
    if (!done)
      throw new VmkitError('CORRUPT', `${dir} is not a folder vmkit unpacked a box into; remove it`, {
        details: { rule: 'box-cache' },
      });
    return viewOf(dir, done);
  };
}
