import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MASTER_RECORD_SCHEMA_VERSION } from '../masters/master-record.js';
import { providerNamespace } from '../masters/master-repository.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { specHash } from '../util/canonical-json.js';
import { debianSpec, recordingLogger, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

describe('restart over the same filesystem store', () => {
  it('lists built masters as available without rebuilding', async () => {
    const statePath = join(s.dir, 'hypervisor.json');
    const first = memoryProvider({ statePath });
    const a = await s.service(first, { images: [debianSpec('one'), debianSpec('two')] });
    await a.ensureImage('one');
    await a.ensureImage('two');
    await a.close();

    const second = memoryProvider({ statePath });
    const b = await s.service(second, { images: [debianSpec('one'), debianSpec('two')] });
    expect((await b.listImages()).map((i) => [i.id, i.status])).toEqual([
      ['one', 'available'],
      ['two', 'available'],
    ]);
    await b.createNodesInGroup('again', 2);
    expect(second.stats.builds).toBe(0);
  });

  it('lists persisted images that are no longer configured, with their spec', async () => {
    const statePath = join(s.dir, 'hypervisor.json');
    const a = await s.service(memoryProvider({ statePath }), { images: [debianSpec('kept')] });
    await a.ensureImage('kept');
    const b = await s.service(memoryProvider({ statePath }), { images: [] });
    expect((await b.getImage('kept'))?.status).toBe('available');
  });

  it('quarantines truncated, wrong-schema and hostile blobs with a warning naming each, and loads the rest', async () => {
    const statePath = join(s.dir, 'hypervisor.json');
    const a = await s.service(memoryProvider({ statePath }), { images: [debianSpec('good')] });
    await a.ensureImage('good');
    const prefix = `${providerNamespace(`memory:${statePath}`)}/`;
    const goodJson = await (await s.store.getBlob('vmkit-images', `${prefix}good.json`))?.text();
    const record = JSON.parse(goodJson as string);
    const hostileSpec = { ...record.spec, id: '../../etc/passwd' };
    const bad: Record<string, string> = {
      'truncated.json': (goodJson as string).slice(0, 40),
      'not-json.json': 'hello',
      'wrong-schema.json': JSON.stringify({ ...record, schemaVersion: 99, imageId: 'wrong-schema' }),
      'hostile.json': JSON.stringify({
        ...record,
        imageId: '../../etc/passwd',
        spec: hostileSpec,
        specHash: specHash(hostileSpec),
      }),
      'mismatch.json': JSON.stringify(record),
      'nested/evil.json': JSON.stringify(record),
    };
    for (const [name, body] of Object.entries(bad))
      await s.store.putBlob('vmkit-images', `${prefix}${name}`, body);

    const logger = recordingLogger();
    const b = await s.service(memoryProvider({ statePath }), { images: [debianSpec('good')], logger });
    expect((await b.listImages()).map((i) => [i.id, i.status])).toEqual([['good', 'available']]);
    const named = logger.warnings
      .filter((w) => w.message.includes('quarantined master metadata'))
      .map((w) => w.fields?.blob);
    expect(named.sort()).toEqual(
      Object.keys(bad)
        .map((n) => `${prefix}${n}`)
        .sort(),
    );
    const remaining = (await s.store.list('vmkit-images')).items.map((i) => i.name);
    expect(remaining).toEqual([`${prefix}good.json`]);
    const quarantined = await s.store.list('vmkit-images-quarantine');
    expect(quarantined.items).toHaveLength(Object.keys(bad).length);
    expect(MASTER_RECORD_SCHEMA_VERSION).toBe(1);
    // Nothing was written outside the store.
    expect(await readdir(s.dir)).not.toContain('etc');
  });

  it('quarantines a metadata file cut short on disk (its trailer gone)', async () => {
    const statePath = join(s.dir, 'hypervisor.json');
    const a = await s.service(memoryProvider({ statePath }));
    await a.ensureImage('debian-12');
    const folder = join(s.dir, 'store', 'vmkit-images', providerNamespace(`memory:${statePath}`));
    const file = join(folder, 'debian-12.json');
    const { truncate } = await import('node:fs/promises');
    await truncate(file, 100);
    const logger = recordingLogger();
    const b = await s.service(memoryProvider({ statePath }), { logger });
    expect((await b.getImage('debian-12'))?.status).toBe('buildable');
    expect(logger.warnings.map((w) => w.fields?.blob)).toContain(
      `${providerNamespace(`memory:${statePath}`)}/debian-12.json`,
    );
    expect((await s.store.list('vmkit-images-quarantine')).items).toHaveLength(1);
  });

  it('marks a master that vanished from the hypervisor and rebuilds it on demand', async () => {
    const statePath = join(s.dir, 'hypervisor.json');
    const a = await s.service(memoryProvider({ statePath }));
    await a.ensureImage('debian-12');
    const p = memoryProvider({ statePath });
    p.vanishMaster(p.masterNames()[0] as string);
    const b = await s.service(p);
    const image = await b.getImage('debian-12');
    expect(image?.status).toBe('broken');
    expect(image?.statusDetail).toMatch(/no longer exists/);
    const nodes = await b.createNodesInGroup('back', 1);
    expect(nodes).toHaveLength(1);
    expect(p.stats.builds).toBe(1);
    expect((await b.getImage('debian-12'))?.status).toBe('available');
  });

  it('rebuilds when the configured spec changed, and deletes the superseded master', async () => {
    const statePath = join(s.dir, 'hypervisor.json');
    const a = await s.service(memoryProvider({ statePath }));
    await a.ensureImage('debian-12');
    const p = memoryProvider({ statePath });
    const changed = debianSpec('debian-12', { hardware: { cores: 2, ramMiB: 512, diskGiB: 2 } });
    const b = await s.service(p, { images: [changed] });
    expect((await b.getImage('debian-12'))?.status).toBe('buildable');
    await b.ensureImage('debian-12');
    expect(p.stats.builds).toBe(1);
    expect(p.masterNames()).toHaveLength(1);
  });

  it('refuses to delete an image while nodes use it, unless forced', async () => {
    const p = memoryProvider();
    const service = await s.service(p);
    await service.createNodesInGroup('user', 2);
    await expect(service.deleteImage('debian-12')).rejects.toThrow(/used by 2 node/);
    await service.deleteImage('debian-12', { force: true });
    expect(await service.listNodes()).toEqual([]);
    expect(p.masterNames()).toEqual([]);
    expect((await service.getImage('debian-12'))?.status).toBe('buildable');
    expect((await s.store.list('vmkit-images')).items).toEqual([]);
  });
});
