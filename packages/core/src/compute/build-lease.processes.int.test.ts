import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll } from '../blobstore/blob-store.js';
import { fileSystemBlobStore } from '../blobstore/file-system-blob-store.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { type FixtureChild, spawnFixture } from './process-fixture.fixture.js';
import { debianSpec } from './service.fixture.js';

const MAIN = fileURLToPath(new URL('./build-race-main.fixture.mjs', import.meta.url));
const TTL = 1500;

type Done = { pid: number; builds: number; builtAt: string; ms: number };
const done = (line: Record<string, unknown>) => line.done as Done;

describe('one build across processes sharing a filesystem store', () => {
  let dir: string;
  let children: FixtureChild[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-lease-procs-'));
    children = [];
  });
  afterEach(async () => {
    for (const c of children) c.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const run = (delayMs: number) => {
    const child = spawnFixture(MAIN, {
      VMKIT_STATE: join(dir, 'hypervisor.json'),
      VMKIT_STORE: join(dir, 'store'),
      VMKIT_LEASES: join(dir, 'ports'),
      VMKIT_IMAGES: JSON.stringify([debianSpec()]),
      VMKIT_BUILD_DELAY_MS: String(delayMs),
      VMKIT_LEASE_TTL_MS: String(TTL),
    });
    children.push(child);
    return child;
  };
  const leaseBlobs = async () => {
    const names: string[] = [];
    const store = fileSystemBlobStore({ root: join(dir, 'store'), durable: false });
    for await (const item of listAll(store, 'vmkit-images-leases')) names.push(item.name);
    return names;
  };

  it('two processes asking at once build once and end with the same master', async () => {
    const [a, b] = [run(1500), run(1500)];
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, ea.stderr).toBe(0);
    expect(eb.code, eb.stderr).toBe(0);
    const [da, db] = await Promise.all([a.waitFor((l) => 'done' in l), b.waitFor((l) => 'done' in l)]);
    expect(done(da).builds + done(db).builds).toBe(1);
    expect(done(da).builtAt).toBe(done(db).builtAt);
    const waiter = done(da).builds === 0 ? a : b;
    expect(
      waiter.lines.some((l) =>
        /waiting for the build lease held by/.test(String((l.event as { message?: string })?.message)),
      ),
    ).toBe(true);
    const provider = memoryProvider({ statePath: join(dir, 'hypervisor.json') });
    expect(provider.masterNames()).toHaveLength(1);
    expect(await leaseBlobs()).toEqual([]);
  });

  it('a holder killed mid-build is taken over after the TTL; the taker removes what it left', async () => {
    const a = run(60_000);
    await a.waitFor((l) => (l.event as { step?: string } | undefined)?.step === 'create-and-install');
    const b = run(200);
    await b.waitFor((l) =>
      /waiting for the build lease/.test(String((l.event as { message?: string })?.message)),
    );
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const eb = await b.exited;
    expect(eb.code, eb.stderr).toBe(0);
    const tookOver = Date.now() - killedAt;
    expect(tookOver).toBeGreaterThan(TTL / 3); // it waited for the lease to lapse
    expect(done(await b.waitFor((l) => 'done' in l)).builds).toBe(1);
    const provider = memoryProvider({ statePath: join(dir, 'hypervisor.json') });
    // The taker removed the killed build's partial master when it took the lease over: only its own stays.
    expect(provider.masterNames()).toHaveLength(1);
    // A restart finds nothing to build or remove.
    const c = run(0);
    const ec = await c.exited;
    expect(ec.code, ec.stderr).toBe(0);
    expect(done(await c.waitFor((l) => 'done' in l)).builds).toBe(0);
    expect(provider.masterNames()).toHaveLength(1);
    expect(await leaseBlobs()).toEqual([]);
  });
});
