// Planted master records, as a writer of the store would plant them: what they name is never touched.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

const RECORDS = 'vmkit-images';

/** Builds the image `victim` in one service, closes it; returns its master's name and the record folder. */
async function victimBuilt(statePath: string) {
  const a = await s.service(memoryProvider({ statePath }), { images: [debianSpec('victim')] });
  await a.ensureImage('victim');
  await a.close();
  const prefix = `${providerNamespace(`memory:${statePath}`)}/`;
  const victim = JSON.parse(
    (await (await s.store.getBlob(RECORDS, `${prefix}victim.json`))?.text()) as string,
  );
  return { prefix, victim: victim.master as { id: string; data: Record<string, unknown> }, record: victim };
}

/** A record of image `id` that passes the envelope checks (name, schema, spec hash), with `extra` fields. */
function planted(id: string, record: Record<string, unknown>, extra: Record<string, unknown>) {
  const spec = debianSpec(id);
  return JSON.stringify({ ...record, imageId: id, spec, specHash: specHash(spec), ...extra });
}

describe('master records are checked at load against what vmkit and the provider would have made', () => {
  it("quarantines a record naming another image's master, current or retired, and never deletes that master", async () => {
    const statePath = join(s.dir, 'hv.json');
    const { prefix, victim, record } = await victimBuilt(statePath);
    await s.store.putBlob(RECORDS, `${prefix}evil-a.json`, planted('evil-a', record, { master: victim }));
    const own = { id: 'vmkit-evil-r-00000000-0000', data: { disk: 'master:vmkit-evil-r-00000000-0000' } };
    await s.store.putBlob(
      RECORDS,
      `${prefix}evil-r.json`,
      planted('evil-r', record, { master: own, retired: [victim] }),
    );
    const logger = recordingLogger();
    const provider = memoryProvider({ statePath });
    const b = await s.service(provider, { images: [], logger });
    const reasons = logger.warnings
      .filter((w) => w.message.startsWith('quarantined'))
      .map((w) => w.fields?.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /evil-a\.json: master\.id must carry a master name vmkit issued for image evil-a/,
        ),
        expect.stringMatching(/evil-r\.json: retired\[0\]\.id must carry a master name vmkit issued/),
      ]),
    );
    await expect(b.deleteImage('evil-a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await provider.mastersExist([victim])).toEqual([true]);
    expect((await b.getImage('victim'))?.status).toBe('available');
  });

  it("quarantines a record the provider's check refuses, naming the field, for the master and each retired one", async () => {
    const statePath = join(s.dir, 'hv.json');
    const { prefix, victim, record } = await victimBuilt(statePath);
    const id = 'vmkit-evil-d-00000000-0000';
    const foreignDisk = { id, data: { disk: `master:${victim.id}` } };
    await s.store.putBlob(
      RECORDS,
      `${prefix}evil-d.json`,
      planted('evil-d', record, { master: foreignDisk }),
    );
    const x = 'vmkit-evil-x-00000000-0000';
    const extra = { id: x, data: { disk: `master:${x}`, path: '/etc/shadow' } };
    const good = { id: x, data: { disk: `master:${x}` } };
    await s.store.putBlob(
      RECORDS,
      `${prefix}evil-x.json`,
      planted('evil-x', record, { master: good, retired: [extra] }),
    );
    const logger = recordingLogger();
    await s.service(memoryProvider({ statePath }), { images: [], logger });
    const reasons = logger.warnings.map((w) => w.fields?.reason);
    expect(reasons).toContainEqual(
      expect.stringMatching(/evil-d\.json: master\.data\.disk must be the master's own disk/),
    );
    expect(reasons).toContainEqual(
      expect.stringMatching(/evil-x\.json: retired\[0\]\.data\.path is not a field/),
    );
  });
});

describe('record signing (recordSigning)', () => {
  const key = 'k'.repeat(32);
  const other = 'o'.repeat(32);

  async function signedVictim(statePath: string) {
    const a = await s.service(memoryProvider({ statePath }), {
      images: [debianSpec('victim')],
      recordSigning: { key },
    });
    await a.ensureImage('victim');
    await a.close();
    const prefix = `${providerNamespace(`memory:${statePath}`)}/`;
    const text = (await (await s.store.getBlob(RECORDS, `${prefix}victim.json`))?.text()) as string;
    return { prefix, text, record: JSON.parse(text) as Record<string, unknown> };
  }

  const quarantined = (logger: ReturnType<typeof recordingLogger>) =>
    logger.warnings.filter((w) => w.message.startsWith('quarantined')).map((w) => String(w.fields?.reason));

  it('writes signed records and trusts them with the right key, from the records and then from the snapshot', async () => {
    const statePath = join(s.dir, 'hv.json');
    const { record } = await signedVictim(statePath);
    expect(record.signature).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    for (let i = 0; i < 2; i++) {
      const logger = recordingLogger();
      const b = await s.service(memoryProvider({ statePath }), {
        images: [],
        logger,
        recordSigning: { key },
      });
      expect((await b.getImage('victim'))?.status).toBe('available');
      expect(quarantined(logger)).toEqual([]);
      await b.close();
    }
    const rotated = await s.service(memoryProvider({ statePath }), {
      images: [],
      recordSigning: { key: other, previousKeys: [key] },
    });
    expect((await rotated.getImage('victim'))?.status).toBe('available');
  });

  it('quarantines a tampered record, an unsigned one and one signed with another key', async () => {
    const statePath = join(s.dir, 'hv.json');
    const { prefix, record } = await signedVictim(statePath);
    const retired = [
      { id: 'vmkit-victim-00000000-0000', data: { disk: 'master:vmkit-victim-00000000-0000' } },
    ];
    await s.store.putBlob(RECORDS, `${prefix}victim.json`, JSON.stringify({ ...record, retired }));
    const { signature: _, ...unsigned } = record;
    await s.store.putBlob(RECORDS, `${prefix}unsigned.json`, planted('unsigned', unsigned, {}));
    const wrong = await s.service(memoryProvider({ id: 'memory:wrong-key' }), {
      images: [debianSpec('wrong')],
      recordSigning: { key: other },
      store: s.store,
    });
    await wrong.ensureImage('wrong');
    await wrong.close();
    const wrongPrefix = `${providerNamespace('memory:wrong-key')}/`;
    const wrongText = (await (await s.store.getBlob(RECORDS, `${wrongPrefix}wrong.json`))?.text()) as string;
    await s.store.putBlob(RECORDS, `${prefix}wrong.json`, wrongText);

    const logger = recordingLogger();
    const provider = memoryProvider({ statePath });
    const b = await s.service(provider, { images: [], logger, recordSigning: { key } });
    expect(quarantined(logger).sort()).toEqual([
      expect.stringMatching(/unsigned\.json: not signed with the fleet's key/),
      expect.stringMatching(/victim\.json: not signed with the fleet's key/),
      expect.stringMatching(/wrong\.json: not signed with the fleet's key/),
    ]);
    expect(await b.listImages()).toEqual([]);
    expect(provider.stats.builds).toBe(0);
  });

  it('checks the option eagerly, naming the field', async () => {
    const p = memoryProvider();
    await expect(s.service(p, { recordSigning: { key: 'short' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/recordSigning\.key.*at least 32 bytes/),
    });
    await expect(s.service(p, { recordSigning: { key, previousKeys: [42 as never] } })).rejects.toMatchObject(
      {
        message: expect.stringMatching(/recordSigning\.previousKeys\[0\]: must be a string or a Uint8Array/),
      },
    );
  });
});
