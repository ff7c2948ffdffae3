import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { provider, type Scratch, scratch } from '../compute/service.fixture.js';
import type { ConfigDriveSpec } from '../model/config-drive-spec.js';
import { memoryProvider } from '../testing/memory-provider.js';
import type { LogFields } from '../util/logger.js';
import { publicKeyOf } from './ssh-key-pair.js';

// jclouds' "store credentials", through the public API: a memory provider records the config
// drives it is asked for; the credential folder, the blob store and every log line are read as
// plain files and text.

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

/** A memory provider that keeps the config drive of every clone. */
function recordingProvider(id?: string) {
  const p = id === undefined ? provider() : memoryProvider({ id });
  const drives: Array<ConfigDriveSpec | undefined> = [];
  const clone = p.cloneNode.bind(p);
  p.cloneNode = async (spec, options) => {
    drives.push(spec.configDrive);
    return clone(spec, options);
  };
  return { p, drives };
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const PRIVATE_KEY_BODY = /-----BEGIN OPENSSH PRIVATE KEY-----\n([A-Za-z0-9+/=\n]+)-----END/;

describe('group key pairs (store credentials)', () => {
  it('makes one ed25519 pair per group, authorises it in the config drive, and hands the private key only to getNodeCredentials', async () => {
    const { p, drives } = recordingProvider();
    const lines: string[] = [];
    const log = (level: string) => (message: string, fields?: LogFields) =>
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const service = await s.service(p, { logger });
    const web = await service.createNodesInGroup('web', 2, { configDrive: true });
    const more = await service.createNodesInGroup('web', 1, { configDrive: { format: 'openstack' } });
    const db = await service.createNodesInGroup('db', 1, { userData: '#cloud-config\n' });
    const keys = drives.map((d) => d?.publicKeys);
    expect(
      keys.every((k) => k?.length === 1 && /^ssh-ed25519 AAAA\S+ vmkit-(web|db)$/.test(k[0] as string)),
    ).toBe(true);
    const [webKey, , moreKey, dbKey] = keys.map((k) => k?.[0]);
    expect(new Set(keys.slice(0, 3).map((k) => k?.[0])).size).toBe(1);
    expect(moreKey).toBe(webKey);
    expect(dbKey).not.toBe(webKey);

    const login = await service.getNodeCredentials(web[0]?.id as string);
    expect(login?.user).toBe('root');
    expect(await publicKeyOf(login?.privateKey as string)).toBe(webKey?.split(' ').slice(0, 2).join(' '));
    expect((await service.getNodeCredentials(db[0]?.id as string))?.privateKey).not.toBe(login?.privateKey);

    // The private key is in the credential folder, in a 0600 file, and nowhere else.
    const body = PRIVATE_KEY_BODY.exec(login?.privateKey as string)?.[1]?.replaceAll('\n', '') as string;
    expect(body.length).toBeGreaterThan(100);
    // A piece of the private part (the start of the format is the same in every key).
    const fragment = body.slice(Math.floor(body.length * 0.55), Math.floor(body.length * 0.55) + 40);
    const credentialFiles = await filesUnder(join(s.dir, 'credentials'));
    const holding = [];
    for (const f of credentialFiles) {
      if ((await readFile(f, 'utf8')).replaceAll('\n', '').includes(fragment)) holding.push(f);
      expect(((await stat(f)).mode & 0o777).toString(8)).toBe('600');
    }
    expect(holding.map((f) => f.slice(s.dir.length))).toEqual([
      expect.stringMatching(/^\/credentials\/groups\/p-[0-9a-f]{16}\/web\/id_ed25519$/),
    ]);
    for (const f of await filesUnder(join(s.dir, 'store')))
      expect((await readFile(f, 'latin1')).includes(fragment), f).toBe(false);
    const views = JSON.stringify([
      web,
      more,
      db,
      await service.listNodes(),
      await service.getNode(web[0]?.id as string),
    ]);
    expect(views).not.toContain(fragment);
    expect(views).not.toContain('PRIVATE KEY');
    expect(lines.join('\n')).not.toContain(fragment);
  });

  it('makes one pair for a group however many calls create its nodes at once', async () => {
    const { p, drives } = recordingProvider('memory:burst');
    const service = await s.service(p);
    await Promise.all(
      Array.from({ length: 8 }, () => service.createNodesInGroup('burst', 1, { configDrive: true })),
    );
    expect(drives).toHaveLength(8);
    expect(drives[0]?.publicKeys?.[0]).toMatch(/^ssh-ed25519 AAAA\S+ vmkit-burst$/);
    expect(new Set(drives.map((d) => d?.publicKeys?.[0])).size).toBe(1);
    // A second service on the same folder (another process) finds the same pair.
    const again = recordingProvider('memory:burst');
    const other = await s.service(again.p);
    await other.createNodesInGroup('burst', 1, { configDrive: true });
    expect(again.drives[0]?.publicKeys).toEqual(drives[0]?.publicKeys);
  });

  it("logs in as the template's loginUser, kept with the group (the node's record does not keep it)", async () => {
    const { p } = recordingProvider();
    const service = await s.service(p);
    const [made] = await service.createNodesInGroup('ops', 1, { configDrive: true, loginUser: 'operator' });
    expect(made?.login?.user).toBe('operator');
    expect((await service.getNode(made?.id as string))?.login?.user).toBe('root');
    expect((await service.getNodeCredentials(made?.id as string))?.user).toBe('operator');
  });

  it('makes no pair when the template names a key or asks for no config drive', async () => {
    const { p, drives } = recordingProvider();
    const service = await s.service(p);
    const own = await service.createNodesInGroup('own', 1, { authorizePublicKey: 'ssh-ed25519 AAAA me' });
    const bare = await service.createNodesInGroup('bare', 1);
    expect(drives[0]?.publicKeys).toEqual(['ssh-ed25519 AAAA me']);
    expect(drives[1]).toBeUndefined();
    expect(await service.getNodeCredentials(own[0]?.id as string)).toBeUndefined();
    expect(await service.getNodeCredentials(bare[0]?.id as string)).toBeUndefined();
    await expect(readdir(join(s.dir, 'credentials'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(service.getNodeCredentials('no-such-node')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps the default folder under $XDG_STATE_HOME, private', async () => {
    const previous = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = join(s.dir, 'state');
    try {
      const { p } = recordingProvider();
      const service = await s.service(p, { credentials: undefined });
      await service.createNodesInGroup('def', 1, { configDrive: true });
      const folder = join(s.dir, 'state', 'vmkit', 'credentials');
      for (const f of [join(s.dir, 'state', 'vmkit'), folder])
        expect(((await stat(f)).mode & 0o777).toString(8)).toBe('700');
      expect((await filesUnder(folder)).map((f) => f.slice(folder.length)).sort()).toEqual([
        expect.stringMatching(/^\/groups\/p-[0-9a-f]{16}\/def\/id_ed25519$/),
        expect.stringMatching(/^\/groups\/p-[0-9a-f]{16}\/def\/login-user$/),
      ]);
    } finally {
      if (previous === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = previous;
    }
  });

  it('refuses a credentials option that is no store, naming it', async () => {
    const { p } = recordingProvider();
    await expect(s.service(p, { credentials: { get: () => undefined } as never })).rejects.toThrow(
      /credentials\.put: must be a function/,
    );
    await expect(s.service(p, { credentials: { directory: '' } })).rejects.toThrow(/credentials\.directory/);
  });
});
