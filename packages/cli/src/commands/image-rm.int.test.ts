import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeMemoryGuestNode } from '../../test-support/memory-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

// `vmkit image rm` and `vmkit export --format box` with real qemu-img and tar; the compute
// service is core's on the memory provider, kept in a folder (see memory-guest-service.ts).
vi.mock('../runtime/open-service.js', async (actual) => ({
  ...(await actual<object>()),
  ...(await import('../../test-support/memory-guest-service.js')).memoryOpenServiceModule(),
}));

const exec = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-image-rm-'));
  await makeMemoryGuestNode(dir);
  await exec('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'disk.raw'), '8M']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vmkit = (args: string[]) => runCli(['--store', join(dir, 'store'), ...args], dir);

describe('vmkit image rm', () => {
  it('refuses a master nodes use, then --force deletes it with its nodes (--json)', async () => {
    const refused = await vmkit(['image', 'rm', 'tiny']);
    expect(refused.code, refused.stderr).toBe(4); // conflict
    expect(refused.stderr).toMatch(/tiny/);
    const forced = await vmkit(['image', 'rm', 'tiny', '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ imageId: 'tiny', deleted: true, kind: 'master' });
    expect(JSON.parse((await vmkit(['ls', '--json'])).stdout)).toEqual([]);
  });

  it('deletes an imported image: its master, its disks and its record; export then finds nothing', async () => {
    const imported = await vmkit([
      'import',
      'disk.raw',
      '--image-id',
      'appl',
      '--os',
      'linux/t/x86_64',
      '--wait',
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(
      (JSON.parse((await vmkit(['images', '--json'])).stdout) as Array<{ id: string }>).map((i) => i.id),
    ).toContain('appl');
    const removed = await vmkit(['image', 'rm', 'appl']);
    expect(removed).toMatchObject({
      code: 0,
      stdout: 'deleted image appl (imported: disks, record and master)\n',
    });
    expect(
      (JSON.parse((await vmkit(['images', '--json'])).stdout) as Array<{ id: string }>).map((i) => i.id),
    ).not.toContain('appl');
    expect(await readdir(join(dir, 'store', '.import', 'images'))).toEqual([]);
    const exported = await vmkit(['export', 'appl', '--format', 'raw', '-o', 'appl.raw']);
    expect(exported.code).toBe(3); // not found
    expect(exported.stderr).toMatch(/appl was not made by vmkit import/);
  });
});

describe('vmkit export --format box and vmkit import of a .box', () => {
  it('writes a virtualbox box and imports it back by its name (.box), --box-provider checked', async () => {
    expect((await vmkit(['import', 'disk.raw', '--image-id', 'src', '--wait'])).code).toBe(0);
    const out = await vmkit([
      'export',
      'src',
      '--format',
      'box',
      '--box-provider',
      'virtualbox',
      '-o',
      'src.box',
    ]);
    expect(out).toMatchObject({
      code: 0,
      stdout: `wrote ${join(dir, 'src.box')} (virtualbox box, image src)\n`,
    });
    const listing = (await exec('tar', ['tf', join(dir, 'src.box')])).stdout
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(listing).toEqual(['Vagrantfile', 'box-disk001.vmdk', 'box.ovf', 'metadata.json']);
    const wrong = await vmkit([
      'import',
      'src.box',
      '--box-provider',
      'libvirt',
      '--image-id',
      'nope',
      '--wait',
    ]);
    expect(wrong.code, wrong.stdout + wrong.stderr).not.toBe(0);
    expect(await readdir(join(dir, 'store', '.import', 'images'))).not.toContain('nope');
    expect(wrong.stderr).toMatch(/provider is virtualbox, but the source asks for libvirt/);
    const back = await vmkit(['import', 'src.box', '--image-id', 'back', '--wait', '--json']);
    expect(back.code, back.stderr).toBe(0);
    const task = JSON.parse(back.stdout) as { login: string; snapshotDetails: Array<{ outputPath: string }> };
    expect(task.login).toBe('vagrant');
    await exec('qemu-img', [
      'compare',
      '-f',
      'raw',
      '-F',
      'qcow2',
      join(dir, 'disk.raw'),
      task.snapshotDetails[0]!.outputPath,
    ]);
  });
});
