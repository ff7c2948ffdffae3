import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmkitError } from '@vmkit/core';
import { listAll } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomStream } from './testing/pseudo-random-stream.js';
import { startTestS3Server, type TestS3Server } from './testing/s3-test-server.js';
import { createTestBucket, openTestStore } from './testing/test-store.js';

const MIB = 1024 * 1024;

describe('S3 blob store: many blobs, large blobs, a server that dies', () => {
  let server: TestS3Server;
  beforeAll(async () => {
    server = await startTestS3Server();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('lists 2,500 blobs completely, a page of at most 1,000 at a time', async () => {
    await using store = await openTestStore(server);
    await store.createContainer('many');
    const names = Array.from({ length: 2500 }, (_, i) => `masters/m-${String(i).padStart(5, '0')}.json`);
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((n) => store.putBlob('many', n, `{"i":"${n}"}`)));
    }
    const sizes: number[] = [];
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await store.list('many', { marker, prefix: 'masters/' });
      sizes.push(page.items.length);
      seen.push(...page.items.map((i) => i.name));
      marker = page.nextMarker;
    } while (marker !== undefined);
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(seen).toEqual(names);
    const all: string[] = [];
    for await (const item of listAll(store, 'many')) all.push(item.name);
    expect(all).toEqual(names);
  });

  // The bound: peak RSS under 150 MiB for the round trip, in a child process doing only
  // this on the built package (plain node, no flags; 5 MiB parts, 2 in flight). About 80 MiB of
  // it is node with the SDK and core loaded; the store itself holds its part buffers (reused,
  // freed at the end) and one chunk of the body at a time.
  it('streams a 300 MiB blob up and down byte for byte with bounded process memory', async () => {
    const bucket = await createTestBucket(server);
    const size = 300 * MIB;
    const main = fileURLToPath(new URL('./testing/large-roundtrip-main.mjs', import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        VMKIT_SIZE: String(size),
        VMKIT_BUCKET: bucket,
        VMKIT_ENDPOINT: server.endpoint,
        VMKIT_PART_SIZE: String(5 * MIB),
        VMKIT_QUEUE_SIZE: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number | string>;
    console.log(
      `300 MiB: up ${Math.round(Number(result.upMs))} ms, down ${Math.round(Number(result.downMs))} ms, peak RSS ${Number(result.maxRssMiB).toFixed(1)} MiB`,
    );
    expect(result.storedSize).toBe(size);
    expect(result.downSize).toBe(size);
    expect(result.downSha).toBe(result.upSha);
    expect(result.maxRssMiB).toBeLessThan(150);
  });

  it('fails with a clear STORE error when the server dies mid-upload, leaving no blob and no upload behind', async () => {
    const doomed = await startTestS3Server();
    try {
      const bucket = await createTestBucket(doomed);
      await using store = await openTestStore(doomed, {
        bucket,
        partSize: 5 * MIB,
        queueSize: 2,
        retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      });
      await store.createContainer('c');
      let killed = false;
      const body = pseudoRandomStream(64 * MIB, 7, MIB, (produced) => {
        if (produced >= 20 * MIB && !killed) {
          killed = true;
          void doomed.stop('SIGKILL');
        }
      });
      const error = await store.putBlob('c', 'partial.bin', body.stream).catch((e: unknown) => e);
      expect(killed).toBe(true);
      expect(VmkitError.is(error, 'STORE')).toBe(true);
      expect((error as VmkitError).details).toMatchObject({ operation: 'putBlob', reason: 'unreachable' });
      expect((error as Error).message).toMatch(/^S3 putBlob .*partial\.bin: the endpoint is unreachable/);
      const uploads = join(doomed.directory, bucket, '._S3rver_uploads');
      expect((await readdir(uploads)).length).toBe(1); // the dead upload's parts are still there
      // The server comes back: the store aborts the multipart upload in the background.
      await doomed.restart();
      await store.settle();
      expect(await readdir(uploads)).toEqual([]);
      expect(await store.blobExists('c', 'partial.bin')).toBe(false);
      expect((await store.list('c')).items).toEqual([]);
    } finally {
      await doomed.dispose();
    }
  });
});
