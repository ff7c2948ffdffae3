import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGuestPage } from '../../../test-support/http.js';
import { leftovers, poolVolumeNames, sha256File, sweep } from '../../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../../test-support/test-guest.js';
import { LibvirtClient } from '../../client/libvirt-client.js';
import { libvirtProvider } from '../libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('w');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-warm-'));

/**
 * The busybox guest serves a page it wrote at boot: a resumed clone rewrites it from its own
 * identity (what a real guest's resume hook does), with 16 bytes of /dev/urandom read after the
 * resume, so clones whose random state was not reseeded would show equal samples.
 */
const RESUME_SCRIPT = `. /vmkit/lib.sh
www=/run/vmkit/www
printf '%s' "$VMKIT_INSTANCE_ID" >/run/vmkit/iid.tmp
printf '%s' "$(hostname)" >/run/vmkit/hn.tmp
cat "$VMKIT_DRIVE/user-data" >"$www/user-data" 2>/dev/null || : >"$www/user-data"
{
  printf '{"instanceId":'; json_string /run/vmkit/iid.tmp
  printf ',"hostname":'; json_string /run/vmkit/hn.tmp
  printf ',"userData":'; json_string "$www/user-data"
  printf ',"random":"%s","date":%s}\\n' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n')" "$(date +%s)"
} >"$www/index.new" && mv "$www/index.new" "$www/index.html"
`;

const spec: MasterSpec = {
  ...testGuestMasterSpec('warm-guest'),
  warm: { until: { http: '/' }, resumeScript: RESUME_SCRIPT },
};

const service = () =>
  createComputeService({
    provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
    store: fileSystemBlobStore({ root: join(dir, 'store') }),
    images: [spec],
    ports: { leaseDir: join(dir, 'leases') },
    // Group key pairs: the template's drive authorises the vmkit-warm group's key, each clone's its own.
    credentials: { directory: join(dir, 'credentials') },
  });

/** The spec's key of the 4 clones (only its text matters: the busybox guest has no SSH server). */
const SPEC_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdhcm0tY2xvbmUta2V5LW9mLXRoZS1zcGVjLTEyMw warm-spec-key';

interface WarmPage {
  instanceId: string;
  hostname: string;
  userData: string;
  random: string;
  date: number;
}

/** The pool's state images of this run (the template's: `<master>.warm-<gen>.state`). */
async function stateImages(client: LibvirtClient): Promise<string[]> {
  return (await poolVolumeNames(client, POOL, prefix)).filter((n) => n.endsWith('.state'));
}

describe('warm clones on qemu:///system with the busybox guest', () => {
  let client: LibvirtClient;
  let poolDir: string;
  beforeAll(async () => {
    client = await LibvirtClient.connect(URI);
    const pool = await client.storage.poolLookupByName(POOL);
    poolDir = /<path>([^<]+)<\/path>/.exec(await client.storage.poolGetXmlDesc(pool))?.[1] as string;
  });
  afterAll(async () => {
    await client.close();
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('4 warm clones answer with their own hostname, instance id, user data and random bytes; the state image is never written', async () => {
    await using compute: ComputeService = await service();
    // The master and the template's state first (one warm node), so the 4 below only resume.
    const events: ProgressEvent[] = [];
    const [first] = await compute.createNodesInGroup(
      'warm',
      1,
      { inboundPorts: [80], userData: 'first' },
      { warm: true, onProgress: (e) => events.push(e) },
    );
    expect(first?.warm).toEqual({ resumed: true });
    expect(events.some((e) => /warm template/.test(e.message))).toBe(true);
    const [state] = await stateImages(client);
    expect(state).toMatch(/\.warm-[0-9a-f]{12}\.state$/);
    const statePath = join(poolDir, state as string);
    const before = await sha256File(statePath);

    const started = performance.now();
    const startedAt = Date.now() / 1000;
    const nodes = await compute.createNodesInGroup(
      'warm',
      4,
      { inboundPorts: [80], userData: 'per-node', authorizePublicKey: SPEC_KEY, loginUser: 'root' },
      { warm: true },
    );
    const pages = await Promise.all(
      nodes.map(async (n) => {
        const { page } = await waitForGuestPage(`http://127.0.0.1:${n.hostPorts['tcp-80']}/`, 30_000);
        return { ...(page as unknown as WarmPage), answeredAt: Date.now() / 1000 };
      }),
    );
    const ms = performance.now() - started;
    console.log(`4 warm clones to their pages in ${ms.toFixed(0)} ms`);
    for (const [i, node] of nodes.entries()) {
      expect(node.warm).toEqual({ resumed: true });
      expect(pages[i]?.hostname).toBe(node.name);
      expect(pages[i]?.userData).toBe('per-node');
      expect(pages[i]?.instanceId).toMatch(/^i-/);
      // The clock was set to the host's on resume (the template's stopped at its save, before
      // this call): the page was written (date +%s) between the call and its first answer.
      expect(pages[i]?.date).toBeGreaterThanOrEqual(Math.floor(startedAt) - 1);
      expect(pages[i]?.date).toBeLessThanOrEqual((pages[i]?.answeredAt ?? 0) + 1);
    }
    for (const node of nodes) {
      // Recorded with the node: every later look says it resumed.
      expect((await compute.getNode(node.id))?.warm).toEqual({ resumed: true });
      // The clone's drive key is authorised for the login user, the template's is not (cloud-init,
      // which authorised the template's at its boot, does not run again on resume).
      const keys = await compute.runScriptOnNode(
        node.id,
        'cat /root/.ssh/authorized_keys; stat -c %a /root/.ssh/authorized_keys',
        {
          transport: 'agent',
        },
      );
      expect(keys.stdout).toContain(SPEC_KEY);
      expect(keys.stdout).not.toMatch(/vmkit-vmkit-warm/);
      expect(keys.stdout.trim().split('\n').at(-1)).toBe('600');
    }
    expect(new Set(pages.map((p) => p.hostname)).size).toBe(4);
    expect(new Set(pages.map((p) => p.instanceId)).size).toBe(4);
    expect(new Set(pages.map((p) => p.random)).size).toBe(4);
    expect(await sha256File(statePath)).toBe(before);
    // No clone's own state image is left: each is removed once restored.
    expect(await stateImages(client)).toEqual([state]);

    await compute.destroyNodesMatching((n) => n.group === 'warm');
    expect(await sha256File(statePath)).toBe(before);
  }, 240_000);

  it('a corrupt state image: the clone boots cold and says so, the state is saved again once, nothing is left', async () => {
    // A new service: the state saved by the test above is found in the catalogue (and damaged).
    await using compute: ComputeService = await service();
    const [state] = await stateImages(client);
    const statePath = join(poolDir, state as string);
    const stateDisk = (state as string).replace(/\.state$/, '.qcow2');
    // A warm clone of the state that becomes stale: the state's disk stays under it.
    const [keep] = await compute.createNodesInGroup('keep', 1, {}, { warm: true });
    expect(keep?.warm?.resumed).toBe(true);
    // An attacker's (or a disk's) damage: the migration stream after the header is overwritten.
    const bytes = readFileSync(statePath);
    bytes.fill(0x5a, 8192, 8192 + 65536);
    writeFileSync(statePath, bytes);

    const events: ProgressEvent[] = [];
    const [cold] = await compute.createNodesInGroup(
      'cold',
      1,
      { inboundPorts: [80], userData: 'cold' },
      { warm: true, onProgress: (e) => events.push(e) },
    );
    expect(cold?.warm?.resumed).toBe(false);
    expect(cold?.warm?.reason).toMatch(/restor/);
    // The cold fallback is kept with the node: a look from another service says so too.
    {
      await using other: ComputeService = await service();
      expect((await other.getNode(cold?.id as string))?.warm).toEqual(cold?.warm);
      expect((await other.listNodes()).find((n) => n.id === cold?.id)?.warm).toEqual(cold?.warm);
    }
    expect(events.some((e) => /booted cold/.test(e.message))).toBe(true);
    const { page } = await waitForGuestPage(`http://127.0.0.1:${cold?.hostPorts['tcp-80']}/`);
    expect(page.hostname).toBe(cold?.name);
    expect(page.userData).toBe('cold');
    // Nothing of the failed attempt: no clone state image, one domain per node.
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains.sort()).toEqual([cold?.id, keep?.id].sort());
    expect(left.volumes.filter((v) => v.endsWith('.state'))).toEqual([state]);

    // The next warm request saves a new state once; the stale image is gone.
    const [again] = await compute.createNodesInGroup('cold', 1, { inboundPorts: [80] }, { warm: true });
    expect(again?.warm?.resumed).toBe(true);
    const states = await stateImages(client);
    expect(states).toHaveLength(1);
    expect(states[0]).not.toBe(state);
    // The stale state's disk stays while a clone is based on it, and goes with the last of them.
    expect((await leftovers(URI, prefix, POOL)).volumes).toContain(stateDisk);
    await compute.destroyNodesMatching((n) => n.group === 'keep');
    expect((await leftovers(URI, prefix, POOL)).volumes).not.toContain(stateDisk);
    expect((await leftovers(URI, prefix, POOL)).volumes).toContain(states[0]?.replace(/\.state$/, '.qcow2'));

    // A login user the guest does not have: the node fails, naming it, and is rolled back.
    const noUser = compute.createNodesInGroup(
      'cold',
      1,
      { authorizePublicKey: SPEC_KEY, loginUser: 'nosuchuser' },
      { warm: true },
    );
    await expect(noUser).rejects.toThrow(/no user nosuchuser for the SSH keys/);
    expect((await compute.listNodes()).map((n) => n.id)).toEqual(
      expect.arrayContaining([cold?.id, again?.id]),
    );
    expect(await compute.listNodes()).toHaveLength(2);

    await compute.destroyNodesMatching((n) => n.group === 'cold');
    // Deleting the image deletes the master and everything warm with it.
    await compute.deleteImage('warm-guest');
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
  }, 240_000);

  it('refuses a bridged NIC before anything is made, naming the NIC', async () => {
    await using compute: ComputeService = await service();
    const before = await leftovers(URI, prefix, POOL);
    const bridged = compute.createNodesInGroup(
      'bridged',
      1,
      { network: { nics: [{ attachment: 'bridged', hostInterface: 'virbr0' }] } },
      { warm: true },
    );
    await expect(bridged).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(bridged).rejects.toThrow(/network\.nics\[0\]\.attachment/);
    expect(await leftovers(URI, prefix, POOL)).toEqual(before);
  });
});
