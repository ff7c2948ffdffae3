import { describe, expect, it } from 'vitest';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import type { MasterSpec } from '../model/master-spec.js';
import { specHash } from '../util/canonical-json.js';
import { silentLogger } from '../util/logger.js';
import { loadValidators } from '../validation/load-validators.js';
import { INDEX, RECORDS, record } from './catalogue.fixture.js';
import { masterSpecHash, publicLogin, storedSpecOf, withoutLoginSecrets } from './login-secrets.js';
import type { MasterRecord } from './master-record.js';
import { MasterRepository } from './master-repository.js';

const base: MasterSpec = {
  id: 'img',
  os: { family: 'debian', version: '12', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/k', initrd: '/i' },
};
const withSecrets: MasterSpec = {
  ...base,
  login: { user: 'ops', password: 'hunter2', privateKey: 'PEM-KEY' },
};

describe('login secrets in spec hashes', () => {
  it('leaves the hash of a spec without secrets as earlier versions computed it', () => {
    const plain = { ...base, login: { user: 'root', authenticateSudo: true } };
    expect(masterSpecHash(plain)).toBe(specHash(plain));
    expect(storedSpecOf(plain)).toBe(plain);
  });

  it('replaces secrets by a digest that a changed password, key or image id changes', () => {
    const stored = storedSpecOf(withSecrets);
    expect(JSON.stringify(stored)).not.toMatch(/hunter2|PEM-KEY/);
    expect(stored.login?.secretsDigest).toMatch(/^scrypt\$N=65536,r=8,p=1\$[A-Za-z0-9_-]{43}$/);
    const other = (login: MasterSpec['login'], id = 'img') => masterSpecHash({ ...withSecrets, id, login });
    const hash = masterSpecHash(withSecrets);
    expect(other({ user: 'ops', password: 'hunter3', privateKey: 'PEM-KEY' })).not.toBe(hash);
    expect(other({ user: 'ops', password: 'hunter2', privateKey: 'PEM-KEY2' })).not.toBe(hash);
    expect(other({ user: 'ops', password: 'hunter2' })).not.toBe(hash);
    expect(other(withSecrets.login, 'img2')).not.toBe(hash);
    // The stored spec hashes to the same value: a record's hash is recomputable from the record.
    expect(specHash(stored)).toBe(hash);
    expect(masterSpecHash(stored)).toBe(hash);
  });

  it('keeps the digest out of the login callers see', () => {
    const login = storedSpecOf(withSecrets).login;
    expect(login && publicLogin(login)).toEqual({ user: 'ops' });
  });

  it('refuses a stored login holding both a secret and its digest, and a digest of another form', async () => {
    const checks = await loadValidators();
    const stored = storedSpecOf(withSecrets);
    const good: MasterRecord = { ...record('img'), spec: stored, specHash: specHash(stored) };
    expect(checks.checkMasterRecord(good, 'r').spec.login?.secretsDigest).toBeDefined();
    const both = { ...good, spec: { ...stored, login: { ...stored.login, password: 'x' } } };
    expect(() => checks.checkMasterRecord(both, 'r')).toThrow(/secretsDigest/);
    const odd = { ...good, spec: { ...stored, login: { user: 'ops', secretsDigest: 'sha256$abc' } } };
    expect(() => checks.checkMasterRecord(odd, 'r')).toThrow(/secretsDigest/);
    // A configured spec has no digest to give.
    expect(() =>
      checks.checkMasterSpec({ ...base, login: { user: 'ops', secretsDigest: 'x' } }, 's'),
    ).toThrow();
  });
});

describe('records of earlier versions that hold login secrets', () => {
  it('are rewritten without them at load, keeping their master; the snapshot loses them too', async () => {
    const store = memoryBlobStore();
    const repo = new MasterRepository(store, { container: RECORDS, providerId: 'p', logger: silentLogger });
    await repo.init();
    // What an earlier version wrote: the whole spec, hashed as it is.
    const legacy: MasterRecord = { ...record('img'), spec: withSecrets, specHash: specHash(withSecrets) };
    await repo.save(legacy);
    await repo.save(record('plain'));

    const { records, quarantined } = await repo.loadAll();
    expect(quarantined).toEqual([]);
    const img = records.find((r) => r.imageId === 'img');
    expect(img?.master).toEqual(legacy.master);
    expect(img?.specHash).toBe(masterSpecHash(withSecrets));
    expect(img?.spec.login).toEqual({ user: 'ops', secretsDigest: expect.any(String) });
    expect(withoutLoginSecrets(legacy)).toEqual(img);

    for (const container of [RECORDS, INDEX]) {
      for (const item of (await store.list(container)).items) {
        const text = (await store.getBlob(container, item.name))?.text();
        expect(await text, `${container}/${item.name}`).not.toMatch(/hunter2|PEM-KEY/);
      }
    }
    expect((await repo.get('img'))?.specHash).toBe(masterSpecHash(withSecrets));
  });
});
