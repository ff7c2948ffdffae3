// Master records planted in the filesystem store, as a writer of the store would plant them:
// nothing they name that vmkit did not make is booted, cloned from or deleted (qemu:///system).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type LogFields, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('r');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-planted-'));
const secret = join(dir, 'shadow-stand-in');
const specHash = (value: unknown) => createHash('sha256').update(canonical(value)).digest('hex');
/** Canonical JSON as vmkit hashes specs (sorted keys, no whitespace). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

describe('planted master records on qemu:///system', () => {
  let admin: LibvirtClient;
  let service: ComputeService | undefined;
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  const victims = [`${prefix}victim_b.raw`, `${prefix}victim_c.raw`, `${prefix}victim_d.raw`];
  const specs: Record<string, MasterSpec> = {};

  const volume = async (name: string, format: 'raw' | 'qcow2') => {
    const pool = await admin.storage.poolLookupByName(POOL);
    await admin.storage.volCreateXml(
      pool,
      `<volume><name>${name}</name><capacity unit='bytes'>1048576</capacity><target><format type='${format}'/></target></volume>`,
    );
  };
  const volumeNames = async () => (await leftovers(URI, prefix, POOL)).volumes;

  beforeAll(async () => {
    writeFileSync(secret, 'root:$6$secret-hash:19000:0:99999:7:::\n', { mode: 0o600 });
    admin = await LibvirtClient.connect(URI);
    const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    await provider.init();
    const namespace = `p-${createHash('sha256').update(provider.id).digest('hex').slice(0, 16)}`;
    await provider.close();
    for (const v of victims) await volume(v, 'raw');
    const records = join(dir, 'store', 'vmkit-images', namespace);
    mkdirSync(records, { recursive: true });
    const plant = (id: string, master: object, extra: object = {}) => {
      // Disk masters come from a disk source; the kernel master of (a) from the test guest's kernel.
      const guestSpec = testGuestMasterSpec(id);
      const spec: MasterSpec =
        id === 'evil-a'
          ? guestSpec
          : { ...guestSpec, source: { type: 'disk', path: join(dir, 'disk.qcow2') } };
      specs[id] = spec;
      const record = {
        schemaVersion: 1,
        imageId: id,
        specHash: specHash(spec),
        spec,
        master,
        providerId: 'libvirt',
        builtAt: new Date().toISOString(),
        buildMs: 1,
        ...extra,
      };
      writeFileSync(join(records, `${id}.json`), JSON.stringify(record));
    };
    const own = (id: string, n = '0000') => `${prefix}m-vmkit-${id}-00000000-${n}.qcow2`;
    const data = (vol: string, volumes: string[]) => ({
      pool: POOL,
      volume: vol,
      format: 'qcow2',
      capacityBytes: 1048576,
      boot: 'disk',
      volumes,
    });
    // (a) the host file as the initrd of a kernel master (its volume exists, so the master "exists").
    const a = own('evil-a');
    await volume(a, 'qcow2');
    const guest = testGuestMasterSpec('evil-a').source as { kernel: string };
    plant('evil-a', {
      id: a,
      data: {
        ...data(a, [a]),
        boot: 'kernel',
        kernelPath: guest.kernel,
        initrdPath: secret,
        cmdline: 'console=ttyS0',
      },
    });
    // (b) a foreign volume as the backing file of new clones.
    plant('evil-b', { id: victims[0], data: data(victims[0] as string, [victims[0] as string]) });
    // (c) a foreign volume among the master's volumes; (d) among a retired master's volumes.
    const c = own('evil-c');
    await volume(c, 'qcow2');
    plant('evil-c', { id: c, data: data(c, [c, victims[1] as string]) });
    const d = own('evil-d');
    await volume(d, 'qcow2');
    const old = own('evil-d', '0001');
    plant(
      'evil-d',
      { id: d, data: data(d, [d]) },
      { retired: [{ id: old, data: data(old, [victims[2] as string]) }] },
    );

    service = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      ports: { leaseDir: join(dir, 'ports'), probe: false },
      logger: {
        debug() {},
        info() {},
        error() {},
        warn: (message, fields) => warnings.push({ message, fields }),
      },
    });
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await sweep(URI, prefix, POOL);
    await admin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const nodesOf = async (imageId: string, group: string) => {
    const s = service as ComputeService;
    return s.createNodesInGroup(group, 1, await s.templateBuilder().imageId(imageId).build());
  };
  const reason = (id: string) =>
    warnings.find(
      (w) => w.message.startsWith('quarantined') && String(w.fields?.blob).endsWith(`/${id}.json`),
    )?.fields?.reason;

  it('(a) never renders a host file named as initrd into a domain; the record is quarantined with the rule', async () => {
    const made = await nodesOf('evil-a', 'plant-a').catch((error: unknown) => error);
    for (const dom of await admin.domains.listAll()) {
      if (!dom.name.startsWith(prefix)) continue;
      expect(await admin.domains.getXmlDesc(dom, 0)).not.toContain(secret);
    }
    expect(made).toMatchObject({ code: 'NOT_FOUND' });
    expect(reason('evil-a')).toMatch(/master\.data\.initrdPath must be the spec's source\.initrd/);
  }, 120_000);

  it('(b) never clones a node backed by a foreign volume; the record is quarantined with the rule', async () => {
    const made = await nodesOf('evil-b', 'plant-b').catch((error: unknown) => error);
    expect((await admin.domains.listAll()).filter((d) => d.name.startsWith(prefix))).toEqual([]);
    expect((await volumeNames()).filter((v) => v.includes('plant-b'))).toEqual([]);
    expect(made).toMatchObject({ code: 'NOT_FOUND' });
    expect(reason('evil-b')).toMatch(/master\.id must (carry a master name vmkit issued|be a master volume)/);
  }, 120_000);

  it('(c, d) keeps foreign volumes named in volumes and in retired volumes through start-up, deleteImage and pruneImages', async () => {
    for (const id of ['evil-c', 'evil-d']) await service?.deleteImage(id).catch(() => {});
    await service?.pruneImages();
    expect(await volumeNames()).toEqual(expect.arrayContaining(victims));
    expect(reason('evil-c')).toMatch(/master\.data\.volumes must be the master's own volumes/);
    expect(reason('evil-d')).toMatch(/retired\[0\]\.data\.volumes must be the master's own volumes/);
  }, 120_000);
});
