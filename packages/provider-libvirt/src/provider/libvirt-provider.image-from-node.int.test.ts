import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, type NodeMetadata, type ProgressEvent, VmkitError } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../test-support/libvirt-compute.js';
import { leftovers, poolVolumeNames, sha256File } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';

// Images made from a real node (busybox test guest, root on the node's qcow2 overlay, qemu-ga
// inside) through the public API: the guest's view is read with runScriptOnNode, the volumes'
// bytes and backing files straight from the host (qemu-img, sha256).

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('ifn');
const scratch = mkdtempSync(join(tmpdir(), 'vmkit-ifn-'));

/** `qemu-img info` of a pool volume, read from the host. */
function imageInfo(path: string): Record<string, unknown> {
  return JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' }));
}

describe('images made from nodes on libvirt (qemu:///system, busybox guest)', () => {
  let made: LibvirtTestCompute | undefined;
  let compute: ComputeService;
  let client: LibvirtClient;
  let node: NodeMetadata;
  const content = randomBytes(24).toString('hex');

  const volumePath = async (name: string) => {
    const pool = await client.storage.poolLookupByName(POOL);
    return client.storage.volGetPath(await client.storage.volLookupByName(pool, name));
  };
  const volumes = () => poolVolumeNames(client, POOL, prefix);
  const sh = async (id: string, script: string): Promise<string> => {
    await compute.waitForNode(id, { until: 'agent', timeoutMs: 120_000 });
    const r = await compute.runScriptOnNode(id, script);
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  /** What a guest says about the file, its machine-id and its SSH host keys. */
  const identity =
    'cat /root/keep.txt; echo "id=$(cat /etc/machine-id 2>/dev/null)"; ls /etc/ssh 2>/dev/null | tr "\\n" " "';

  beforeAll(async () => {
    client = await LibvirtClient.connect(URI);
    made = await libvirtTestCompute(prefix, [testGuestMasterSpec('ifn-guest')], { stopGraceMs: 20_000 });
    compute = made.compute;
    [node] = (await compute.createNodesInGroup('ifn', 1)) as [NodeMetadata];
  }, 300_000);

  afterAll(async () => {
    await made?.dispose();
    await client?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("makes an image of a running node, frozen for the copy's end: it keeps running; a clone has its file and identity (not sealed)", async () => {
    await sh(
      node.id,
      `echo ${content} > /root/keep.txt && echo 0123456789abcdef0123456789abcdef > /etc/machine-id && ` +
        'mkdir -p /etc/ssh && echo node-key > /etc/ssh/ssh_host_ed25519_key && sync',
    );
    const masterVolume = (await volumes()).find(
      (v) => v.startsWith(`${prefix}m-vmkit-ifn-guest-`) && v.endsWith('.qcow2'),
    );
    const masterFile = await volumePath(masterVolume as string);
    const masterHash = await sha256File(masterFile);
    const events: ProgressEvent[] = [];
    const image = await compute.createImageFromNode(node.id, {
      imageId: 'ifn-live',
      seal: false,
      onProgress: (e) => events.push(e),
    });
    expect(image).toMatchObject({ id: 'ifn-live', status: 'available' });
    // The guest agent froze the guest's file systems (its root at least) for the copy's end.
    expect(events.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/with [1-9]\d* file system\(s\) frozen/),
    );
    const live = (await volumes()).find(
      (v) => v.startsWith(`${prefix}m-vmkit-ifn-live-`) && v.endsWith('.qcow2'),
    );
    expect(imageInfo(await volumePath(live as string))).not.toHaveProperty('backing-filename');
    // The node ran on through the copy, its file systems thawed: it still writes.
    expect((await compute.getNode(node.id))?.status).toBe('running');
    expect(await sh(node.id, 'echo later > /root/after.txt && sync && cat /root/keep.txt')).toBe(content);
    expect(await sha256File(masterFile)).toBe(masterHash);
    const template = await compute.templateBuilder().imageId('ifn-live').build();
    const [clone] = (await compute.createNodesInGroup('ifnl', 1, template)) as [NodeMetadata];
    // The copy as of the freeze: the node's file, machine-id and key, not what it wrote after.
    expect(await sh(clone.id, `${identity}; test -e /root/after.txt && echo after; true`)).toBe(
      `${content}\nid=0123456789abcdef0123456789abcdef\nssh_host_ed25519_key`,
    );
    await compute.destroyNode(clone.id);
    await compute.deleteImage('ifn-live');
  }, 300_000);

  it('makes a flattened, sealed image of a stopped node; two clones have the file and no identity of the node; node and master unchanged', async () => {
    const before = await volumes();
    await compute.stopNode(node.id);
    const masterVolume = before.find(
      (v) => v.startsWith(`${prefix}m-vmkit-ifn-guest-`) && v.endsWith('.qcow2'),
    );
    const masterFile = await volumePath(masterVolume as string);
    const nodeFile = await volumePath(`${node.id}.qcow2`);
    const [masterHash, nodeHash] = [await sha256File(masterFile), await sha256File(nodeFile)];

    const events: ProgressEvent[] = [];
    const image = await compute.createImageFromNode(node.id, {
      imageId: 'ifn-golden',
      name: 'golden from a node',
      onProgress: (e) => events.push(e),
    });
    expect(image).toMatchObject({ id: 'ifn-golden', name: 'golden from a node', status: 'available' });
    expect((await compute.listImages()).map((i) => i.id)).toEqual(['ifn-golden', 'ifn-guest']);
    expect(events.filter((e) => e.phase === 'image').at(-1)?.fraction).toBe(1);
    expect(events.some((e) => e.step === 'seal')).toBe(true);
    // The new master stands alone: no backing file.
    const golden = (await volumes()).find(
      (v) => v.startsWith(`${prefix}m-vmkit-ifn-golden-`) && v.endsWith('.qcow2'),
    );
    const info = imageInfo(await volumePath(golden as string));
    expect(info.format).toBe('qcow2');
    expect(info).not.toHaveProperty('backing-filename');
    expect(imageInfo(nodeFile)).toHaveProperty('backing-filename', masterFile);
    // It exports like any image: a standalone qcow2 file.
    const exported = join(scratch, 'golden.qcow2');
    expect(await compute.exportImageDisk('ifn-golden', exported)).toMatchObject({ format: 'qcow2' });
    expect(imageInfo(exported)).not.toHaveProperty('backing-filename');
    // The node and the master it was cloned from are byte for byte as they were; the node still runs.
    expect(await sha256File(masterFile)).toBe(masterHash);
    expect(await sha256File(nodeFile)).toBe(nodeHash);
    expect((await compute.getNode(node.id))?.status).toBe('stopped');
    await compute.startNode(node.id);
    expect(await sh(node.id, identity)).toBe(
      `${content}\nid=0123456789abcdef0123456789abcdef\nssh_host_ed25519_key`,
    );

    const template = await compute.templateBuilder().imageId('ifn-golden').build();
    const clones = await compute.createNodesInGroup('ifnc', 2, template);
    for (const clone of clones) {
      expect(clone.imageId).toBe('ifn-golden');
      // Sealed on the copy: the file is there, the node's machine-id and host key are not.
      expect(await sh(clone.id, identity)).toBe(`${content}\nid=`);
    }
    for (const clone of clones) await compute.destroyNode(clone.id);
  }, 300_000);

  it('rolls back an image aborted while its copy boots to be sealed: no volume, domain or record', async () => {
    await compute.stopNode(node.id);
    const before = await leftovers(URI, prefix, POOL);
    const controller = new AbortController();
    const making = compute.createImageFromNode(node.id, {
      imageId: 'ifn-aborted',
      signal: controller.signal,
      onProgress: (e) => {
        if (e.step === 'seal' && (e.fraction ?? 0) > 0.45) controller.abort();
      },
    });
    await expect(making).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    expect(await leftovers(URI, prefix, POOL)).toEqual(before);
    expect(await compute.getImage('ifn-aborted')).toBeUndefined();
    expect((await compute.getNode(node.id))?.status).toBe('stopped');
  }, 180_000);

  it('deleting the image and destroying the node leave no domain or volume but the first master', async () => {
    await compute.deleteImage('ifn-golden');
    await compute.destroyNode(node.id);
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.every((v) => v.startsWith(`${prefix}m-vmkit-ifn-guest-`))).toBe(true);
  }, 120_000);
});
