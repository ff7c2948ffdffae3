import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../provider-libvirt/test-support/test-guest.js';
import { startTestS3Server, type TestS3Server } from '../../store-s3/src/testing/s3-test-server.js';
import { createTestBucket } from '../../store-s3/src/testing/test-store.js';
import { runCliProcess } from '../test-support/spawn-cli.js';

// The master is built on qemu:///system (libvirt's test driver forgets everything when a process
// disconnects); its metadata goes to an S3-compatible server given by flags only.
const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('s');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-cli-s3-'));

describe('vmkit with its metadata in an S3 bucket (--s3-bucket, --s3-endpoint)', () => {
  let server: TestS3Server;
  let flags: string[];
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    server = await startTestS3Server();
    const bucket = await createTestBucket(server);
    flags = ['--uri', URI, '--prefix', prefix, '--s3-bucket', bucket, '--s3-endpoint', server.endpoint];
    env = {
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    for (const project of ['a', 'b']) {
      writeFileSync(join(dir, `${project}.json`), JSON.stringify({ images: [testGuestMasterSpec('tiny')] }));
    }
  });
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a master built from one directory is listed as built from another, then pruned', async () => {
    const built = await runCliProcess(
      [...flags, '-c', join(dir, 'a.json'), 'build', 'tiny', '--json'],
      dir,
      env,
    );
    expect(built.code, built.stderr).toBe(0);
    const image = JSON.parse(built.stdout) as { status: string; builtAt: string };
    expect(image.status).toBe('available');
    // No local store anywhere: the record can only have come from the bucket.
    const listed = await runCliProcess(
      [...flags, '-c', join(dir, 'b.json'), 'images', '--json'],
      tmpdir(),
      env,
    );
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: 'tiny', status: 'available', builtAt: image.builtAt }),
    ]);
    const pruned = await runCliProcess([...flags, '-c', join(dir, 'b.json'), 'prune', '--json'], dir, env);
    expect(
      (JSON.parse(pruned.stdout) as { removed: Array<{ id: string }> }).removed.map((r) => r.id),
    ).toEqual(['tiny']);
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
  });
});
