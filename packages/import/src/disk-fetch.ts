import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { VmkitError } from '@vmkit/core/spi';
import { normalizeFormat } from '@vmkit/imaging';
import type { Admission } from './admission-queue.js';
import { extractBox } from './box/box-extract.js';
import type { ImportDeps } from './import-runner.js';
import type { LiveTask } from './live-task.js';
import { extractOva } from './ova/ova-extract.js';
import { describeLocation, fetchSource, openUrlSource } from './source-fetch.js';
import type { DiskContainer } from './task-model.js';

/** A disk ready for validation: a local file and the format claimed for it. */
export interface LocalDisk {
  /** Its scratch output was reserved at admission (a local file inspected before). */
  reserved?: boolean;
  file: string;
  format: string;
  source: string;
  size: number;
  sha256?: string;
  expectedSha256?: string;
}

/** Grows the reservation as a download passes what was reserved for it, in 64 MiB steps. */
export function downloadMeter(admission: Admission, reserved: number, field: string): (n: number) => void {
  let have = reserved;
  return (n) => {
    if (n <= have) return;
    const more = Math.max(n - have, 64 * 1024 * 1024);
    if (!admission.grow(more))
      throw new VmkitError(
        'INVALID_ARGUMENT',
        `limits.scratchBytes: ${field} outgrew the scratch space free (${n} bytes so far)`,
        {
          details: { field: 'limits.scratchBytes', rule: 'scratch-quota' },
        },
      );
    have += more;
  };
}

/** Brings one disk container into scratch (or uses a local file in place); an OVA or a Vagrant box gives its disks. */
export async function fetchDisk(
  task: LiveTask,
  container: DiskContainer,
  i: number,
  scratch: string,
  meter: (n: number) => void,
  deps: ImportDeps,
): Promise<LocalDisk[]> {
  const { options } = deps;
  const field = `diskContainers[${i}]`;
  const source = describeLocation(container);
  const onBytes = (n: number) => {
    meter(n);
    progressOf(n);
  };
  const progressOf = (n: number) =>
    task.progress(Math.min(14, 14 * (n / options.limits.maxImageBytes)), `${source}: ${n} bytes`);
  if (!['ova', 'box'].includes(normalizeFormat(container.format))) {
    if (!('path' in container)) await task.stage('downloading', 0, source);
    const got = await fetchSource(container, {
      store: options.store,
      dir: scratch,
      name: `source${i}`,
      maxBytes: options.limits.maxImageBytes,
      field,
      signal: task.signal,
      onBytes,
    });
    return [
      {
        file: got.file,
        format: container.format,
        source,
        size: got.size,
        ...(got.sha256 ? { sha256: got.sha256 } : {}),
        ...(container.sha256 ? { expectedSha256: container.sha256 } : {}),
      },
    ];
  }
  await task.stage('extracting', 0, source);
  const kind = normalizeFormat(container.format) === 'box' ? 'box' : 'ova';
  const dir = join(scratch, `${kind}${i}`);
  await mkdir(dir, { mode: 0o700 });
  const stream = await openStream(container, field, deps, task.signal);
  const limits = { maxBytes: options.limits.maxImageBytes, signal: task.signal, onBytes };
  const archive =
    kind === 'box'
      ? await extractBox(stream, dir, {
          ...limits,
          ...(container.provider ? { provider: container.provider } : {}),
        })
      : await extractOva(stream, dir, limits);
  if (container.sha256 && container.sha256.toLowerCase() !== archive.sha256)
    throw new VmkitError('CORRUPT', `${field}: sha256 is ${archive.sha256}, expected ${container.sha256}`, {
      details: { rule: 'sha256' },
    });
  task.record.hardware = { ...('descriptor' in archive ? archive.descriptor.hardware : archive.hardware) };
  if (kind === 'box') task.record.login = 'vagrant';
  return archive.disks.map((d) => ({
    file: d.file,
    format: d.format,
    source: `${source}:${d.href}`,
    size: 0,
  }));
}

async function openStream(
  loc: DiskContainer,
  field: string,
  deps: ImportDeps,
  signal: AbortSignal,
): Promise<Readable> {
  if ('path' in loc) return createReadStream(loc.path);
  if ('url' in loc) return openUrlSource(loc.url, field, deps.options.limits.maxImageBytes, signal);
  const blob = await deps.options.store.getBlob(loc.container, loc.name, { signal });
  if (!blob) throw new VmkitError('NOT_FOUND', `no blob ${loc.container}/${loc.name}`);
  return blob.stream();
}
