// Import benchmarks: header-only inspection of a large sparse qcow2; conversion through the import
// service (inspection, qemu-img, sha256 of input and output, records) against bare `qemu-img
// convert` on the same random-data file, sync included in both; N tasks under a concurrency of 2.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { inspectImage } from '@vmkit/imaging';
import { createImportService, qemuImgConverter } from '@vmkit/import';
import { type BenchReport, medianMs, timeMs } from './lib/report.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

async function randomFile(path: string, mib: number): Promise<void> {
  const out = createWriteStream(path);
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < mib; i++) {
    randomFillSync(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

export default async function importBench(report: BenchReport): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-import-bench-'));
  try {
    report.section('import: inspecting a 10 GiB sparse qcow2 (headers only)');
    const big = join(dir, 'big.qcow2');
    await exec('qemu-img', ['create', '-q', '-f', 'qcow2', big, '10G']);
    let bytesRead = 0;
    const ms = await medianMs(21, async () => {
      bytesRead = (await inspectImage(big)).bytesRead;
    });
    report.figure({
      name: 'inspectImage (median of 21)',
      value: ms,
      unit: 'ms',
      goal: { op: '<', value: 10 },
    });
    report.figure({
      name: 'bytes read',
      value: bytesRead / 1024,
      unit: 'KiB',
      goal: { op: '<', value: 1024 },
    });

    report.section('import: conversion of 512 MiB of random data to qcow2, sync included');
    const input = join(dir, 'random.raw');
    await randomFile(input, 512);
    const svc = await createImportService({
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      scratchDir: join(dir, 'scratch'),
      limits: { tasks: 2 },
    });
    try {
      const bare: number[] = [];
      const ours: number[] = [];
      for (let i = 0; i < 3; i++) {
        const out = join(dir, `bare${i}.qcow2`);
        bare.push(
          await timeMs(async () => {
            await exec('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', input, out]);
            await exec('sync');
          }),
        );
        await rm(out);
        ours.push(
          await timeMs(async () => {
            const { importTaskId } = await svc.importImage({
              diskContainers: [{ format: 'raw', path: input }],
            });
            const task = await svc.waitForTask(importTaskId);
            if (task.status !== 'completed') throw new Error(task.statusMessage);
            await exec('sync');
          }),
        );
      }
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
      report.compare(
        'import (inspect + qemu-img + sha256 in/out + records) vs bare qemu-img convert',
        { name: 'importImage', ms: median(ours) },
        { name: 'qemu-img convert', ms: median(bare) },
        0.9,
      );
      report.figure({ name: 'importImage throughput', value: 512 / (median(ours) / 1000), unit: 'MiB/s' });

      report.section('import: 6 tasks of 64 MiB under a concurrency limit of 2');
      const small = join(dir, 'small.raw');
      await randomFile(small, 64);
      let maxRunning = 0;
      let sawPending = false;
      const total = await timeMs(async () => {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++)
          ids.push(
            (await svc.importImage({ diskContainers: [{ format: 'raw', path: small }] })).importTaskId,
          );
        const poll = setInterval(async () => {
          const tasks = await svc.describeImportImageTasks({ importTaskIds: ids });
          const live = tasks.filter((t) => t.status === 'active');
          maxRunning = Math.max(
            maxRunning,
            live.filter((t) => !t.statusMessage.startsWith('pending')).length,
          );
          sawPending ||= live.some((t) => t.statusMessage === 'pending');
        }, 5);
        try {
          for (const id of ids) await svc.waitForTask(id);
        } finally {
          clearInterval(poll);
        }
      });
      report.figure({ name: '6 tasks, wall time', value: total, unit: 'ms' });
      report.figure({
        name: 'most tasks running at once',
        value: maxRunning,
        unit: 'tasks',
        goal: { op: '<=', value: 2 },
        note: sawPending ? 'others seen pending' : 'no task seen pending',
      });
    } finally {
      await svc.close();
    }

    report.section('import: cancelling a conversion mid-way (qemu-img ended, scratch removed)');
    // At 1 MiB/s the 64 MiB conversion would run for a minute: each cancel lands mid-way.
    const crawl = await createImportService({
      store: fileSystemBlobStore({ root: join(dir, 'store-cancel') }),
      scratchDir: join(dir, 'scratch-cancel'),
      converter: qemuImgConverter({ rateLimitBytesPerSecond: MiB }),
    });
    try {
      const cancels: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { conversionTaskId: id } = await crawl.importVolume({
          image: { format: 'raw', path: join(dir, 'small.raw') },
        });
        for (;;) {
          const [task] = await crawl.describeConversionTasks({ conversionTaskIds: [id] });
          if (task?.statusMessage.startsWith('converting')) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        cancels.push(await timeMs(() => crawl.cancelConversionTask(id, 'bench')));
      }
      report.figure({
        name: 'cancelConversionTask (median of 5)',
        value: cancels.sort((a, b) => a - b)[2]!,
        unit: 'ms',
        goal: { op: '<', value: 1000 },
      });
    } finally {
      await crawl.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
