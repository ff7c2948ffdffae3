import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystemBlobStore } from '../blobstore/index.js';
import { createComputeService, type MasterSpec } from '../index.js';
import { memoryProvider } from '../testing/index.js';

// As an attacker would look: every file under the store root, read as plain bytes, after a build
// of an image whose login has a password and a private key; the process's umask lets everything
// through, so only the store's own modes protect the files.

const password = `pw-${randomBytes(12).toString('hex')}`;
const keyBody = randomBytes(48).toString('base64');
const privateKey = `-----BEGIN OPENSSH PRIVATE KEY-----\n${keyBody}\n-----END OPENSSH PRIVATE KEY-----\n`;

function spec(login: MasterSpec['login']): MasterSpec {
  return {
    id: 'secret-image',
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
    login,
  };
}

const configured = spec({ user: 'ops', password, privateKey });

async function walk(dir: string): Promise<{ files: string[]; folders: string[] }> {
  const files: string[] = [];
  const folders: string[] = [dir];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    (entry.isDirectory() ? folders : files).push(path);
  }
  return { files, folders };
}

async function modes(paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = ((await stat(p)).mode & 0o777).toString(8);
  return out;
}

let dir: string;
let previousUmask: number;
beforeAll(async () => {
  previousUmask = process.umask(0o000);
  dir = await mkdtemp(join(tmpdir(), 'vmkit-secrets-'));
});
afterAll(async () => {
  process.umask(previousUmask);
  await rm(dir, { recursive: true, force: true });
});

describe('login secrets and the filesystem store', () => {
  const root = () => join(dir, 'store');
  const statePath = () => join(dir, 'hypervisor.json');
  const open = (images: MasterSpec[]) => {
    const provider = memoryProvider({ statePath: statePath() });
    return {
      provider,
      service: createComputeService({
        provider,
        store: fileSystemBlobStore({ root: root() }),
        images,
        ports: { leaseDir: join(dir, 'ports'), probe: false },
      }),
    };
  };

  it('a build leaves no password or private key in any file of the store', async () => {
    const { service } = open([configured]);
    await using compute = await service;
    await compute.ensureImage(configured.id);
    // Nothing that needs the login loses it: nodes of a configured image keep the password.
    const [node] = await compute.createNodesInGroup('web', 1);
    expect(node?.login).toEqual({ user: 'ops', password, privateKey });

    const { files } = await walk(root());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(file, 'latin1');
      expect(text, file).not.toContain(password);
      expect(text, file).not.toContain(keyBody);
      expect(text, file).not.toContain(keyBody.slice(0, 24));
    }
  });

  it('every file of the store is 0600 and every folder 0700, whatever the umask', async () => {
    const { files, folders } = await walk(root());
    const fileModes = await modes(files);
    const folderModes = await modes(folders);
    expect(Object.values(fileModes).length).toBeGreaterThan(0);
    for (const [p, m] of Object.entries(fileModes)) expect(`${p} ${m}`).toBe(`${p} 600`);
    for (const [p, m] of Object.entries(folderModes)) expect(`${p} ${m}`).toBe(`${p} 700`);
  });

  it('after a restart the image is available without a rebuild; an image known only from its record has no secret', async () => {
    const again = open([configured]);
    await using compute = await again.service;
    expect((await compute.getImage(configured.id))?.status).toBe('available');
    await compute.ensureImage(configured.id);
    const [node] = await compute.createNodesInGroup('web2', 1);
    expect(again.provider.stats.builds).toBe(0);
    expect(node?.login).toEqual({ user: 'ops', password, privateKey });
    await compute.close();

    const unconfigured = open([]);
    await using bare = await unconfigured.service;
    const image = await bare.getImage(configured.id);
    expect(image?.status).toBe('available');
    expect(image?.login).toEqual({ user: 'ops' });
    expect(unconfigured.provider.stats.builds).toBe(0);
  });

  it('a configured spec whose password changed rebuilds its master, and the new password is not stored either', async () => {
    const changedPassword = `pw-${randomBytes(12).toString('hex')}`;
    const changed = spec({ user: 'ops', password: changedPassword, privateKey });
    const again = open([changed]);
    await using compute = await again.service;
    expect((await compute.getImage(changed.id))?.status).toBe('buildable');
    await compute.ensureImage(changed.id);
    expect(again.provider.stats.builds).toBe(1);
    for (const file of (await walk(root())).files) {
      const text = await readFile(file, 'latin1');
      expect(text, file).not.toContain(changedPassword);
      expect(text, file).not.toContain(password);
    }
  });
});
