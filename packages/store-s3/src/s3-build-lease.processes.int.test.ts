import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterSpec } from '@vmkit/core';
import { memoryProvider } from '@vmkit/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureChild, spawnFixture } from '../../core/src/compute/process-fixture.fixture.js';
import { startTestS3Server, type TestS3Server } from './testing/s3-test-server.js';
import { createTestBucket, openTestStore } from './testing/test-store.js';

const MAIN = fileURLToPath(new URL('./testing/build-race-main.mjs', import.meta.url));
const TTL = 1500;
const spec: MasterSpec = {
  id: 'debian-12-lease',
  os: { family: 'debian', version: '12.5', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
  hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
};
type Done = { builds: number; builtAt: string };
const done = async (c: FixtureChild) => (await c.waitFor((l) => 'done' in l)).done as Done;
const message = (l: Record<string, unknown>) =>
  String((l.event as { message?: string } | undefined)?.message);

describe('one build across processes sharing an S3 bucket', () => {
  let server: TestS3Server;
  let dir: string;
  let children: FixtureChild[] = [];
  beforeAll(async () => {
    server = await startTestS3Server();
    dir = await mkdtemp(join(tmpdir(), 'vmkit-s3-lease-'));
  });
  afterEach(() => {
    for (const c of children) c.child.kill('SIGKILL');
    children = [];
  });
  afterAll(async () => {
    await server?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function place(name: string) {
    const bucket = await createTestBucket(server);
    const env = {
      VMKIT_STATE: join(dir, `${name}.json`),
      VMKIT_BUCKET: bucket,
      VMKIT_ENDPOINT: server.endpoint,
      VMKIT_LEASES: join(dir, `${name}-ports`),
      VMKIT_IMAGES: JSON.stringify([spec]),
      VMKIT_LEASE_TTL_MS: String(TTL),
    };
    const run = (delayMs: number) => {
      const child = spawnFixture(MAIN, { ...env, VMKIT_BUILD_DELAY_MS: String(delayMs) });
      children.push(child);
      return child;
    };
    const leaseBlobs = async () => {
      await using store = await openTestStore(server, { bucket });
      return (await store.list('vmkit-images-leases')).items.map((i) => i.name);
    };
    return { run, leaseBlobs, masters: () => memoryProvider({ statePath: env.VMKIT_STATE }).masterNames() };
  }

  it('two processes asking at once build once and end with the same master', async () => {
    const p = await place('race');
    const [a, b] = [p.run(1500), p.run(1500)];
    for (const e of await Promise.all([a.exited, b.exited])) expect(e.code, e.stderr).toBe(0);
    const [da, db] = [await done(a), await done(b)];
    expect(da.builds + db.builds).toBe(1);
    expect(da.builtAt).toBe(db.builtAt);
    const waiter = da.builds === 0 ? a : b;
    expect(waiter.lines.some((l) => /waiting for the build lease held by/.test(message(l)))).toBe(true);
    expect(p.masters()).toHaveLength(1);
    expect(await p.leaseBlobs()).toEqual([]);
  });

  it('a holder killed mid-build is taken over after the TTL and the other builds', async () => {
    const p = await place('kill');
    const a = p.run(60_000);
    await a.waitFor((l) => (l.event as { step?: string } | undefined)?.step === 'create-and-install');
    const b = p.run(200);
    await b.waitFor((l) => /waiting for the build lease/.test(message(l)));
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const eb = await b.exited;
    expect(eb.code, eb.stderr).toBe(0);
    expect(Date.now() - killedAt).toBeGreaterThan(TTL / 3);
    expect((await done(b)).builds).toBe(1);
    expect(await p.leaseBlobs()).toEqual([]);
  });
});
