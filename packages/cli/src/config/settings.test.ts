import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from './settings.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-settings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadSettings', () => {
  it('reads vmkit.config.mjs (a function), makes its paths relative to the file, and defaults the rest', async () => {
    const project = join(dir, 'mjs');
    await mkdir(join(project, 'sub'), { recursive: true });
    await writeFile(
      join(project, 'vmkit.config.mjs'),
      `export default async () => ({
        store: { dir: 'meta' },
        ports: { leaseDir: 'leases' },
        images: [{ id: 'a', source: { type: 'kernel', kernel: 'k/vmlinuz', initrd: '/abs/initrd' } },
                 { id: 'b', source: { type: 'disk', url: 'https://example.com/b.qcow2' } }],
      });`,
    );
    const s = await loadSettings({}, {}, join(project, 'sub'));
    expect(s.configFile).toBe(join(project, 'vmkit.config.mjs'));
    expect(s.provider).toEqual({ type: 'libvirt', uri: 'qemu:///system' });
    expect(s.store).toEqual({ dir: join(project, 'meta') });
    expect(s.leaseDir).toBe(join(project, 'leases'));
    expect(s.images[0]?.source).toEqual({
      type: 'kernel',
      kernel: join(project, 'k/vmlinuz'),
      initrd: '/abs/initrd',
    });
    expect(s.images[1]?.source).toEqual({ type: 'disk', url: 'https://example.com/b.qcow2' });
  });

  it('lets VMKIT_* variables override the file and flags override both', async () => {
    const project = join(dir, 'json');
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, 'vmkit.config.json'),
      JSON.stringify({
        provider: { uri: 'qemu:///session', pool: 'p1', namePrefix: 'f-' },
        store: { dir: 'x' },
      }),
    );
    const env = { VMKIT_URI: 'test+unix:///default', VMKIT_POOL: 'p2', VMKIT_STORE: 'env-store' };
    const byEnv = await loadSettings({}, env, project);
    expect(byEnv.provider).toEqual({
      type: 'libvirt',
      uri: 'test+unix:///default',
      pool: 'p2',
      namePrefix: 'f-',
    });
    expect(byEnv.store).toEqual({ dir: join(project, 'env-store') });
    const byFlags = await loadSettings(
      { uri: 'qemu:///system', prefix: 'g-', s3Bucket: 'b', s3Endpoint: 'http://127.0.0.1:9000' },
      env,
      project,
    );
    expect(byFlags.provider).toEqual({
      type: 'libvirt',
      uri: 'qemu:///system',
      pool: 'p2',
      namePrefix: 'g-',
    });
    expect(byFlags.store).toEqual({ s3: { bucket: 'b', endpoint: 'http://127.0.0.1:9000' } });
  });

  it('works without any config file', async () => {
    const empty = join(dir, 'none');
    await mkdir(empty, { recursive: true });
    const s = await loadSettings({}, {}, empty);
    // A config file further up (none in a temp dir) would be found; none is: defaults apply.
    expect(s.configFile).toBeUndefined();
    expect(s.store).toEqual({ dir: join(empty, '.vmkit/store') });
    expect(s.images).toEqual([]);
  });
});
