import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ComputeService, createComputeService, type MasterSpec } from '@vmkit/core';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { memoryProvider } from '@vmkit/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packOva, qemuImg } from '../../test-support/import-fixtures.js';
import { vagrantBoxReader } from './vagrant-box-reader.js';

// A Vagrant box as a master source ({ type: 'box' }): read by @vmkit/import's reader into a
// disk master of core's compute service (memory provider), with real tar and qemu-img.

const exec = promisify(execFile);
let dir: string;
const closing: ComputeService[] = [];
const at = (...n: string[]) => join(dir, ...n);
const os = { family: 'linux', version: 'box', arch: 'x86_64' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-box-master-'));
  await mkdir(at('box'));
  await qemuImg('create', '-q', '-f', 'qcow2', at('box', 'box.img'), '16M');
  await writeFile(at('box', 'metadata.json'), '{"provider":"libvirt","format":"qcow2","virtual_size":1}');
  await writeFile(
    at('box', 'Vagrantfile'),
    'Vagrant.configure("2") do |c|\n  c.vm.provider :libvirt do |v|\n    v.memory = 640\n    v.cpus = 2\n  end\nend\n',
  );
  await exec('tar', ['czf', at('dev.box'), '-C', at('box'), '.']);
  return () => rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of closing.splice(0)) await c.close();
});

async function compute(images: MasterSpec[], withReader = true): Promise<ComputeService> {
  const c = await createComputeService({
    provider: memoryProvider({ statePath: at('provider.json') }),
    store: memoryBlobStore(),
    images,
    ports: { leaseDir: at('leases'), probe: false },
    ...(withReader ? { sources: { box: vagrantBoxReader({ cacheDir: at('boxes') }) } } : {}),
  });
  closing.push(c);
  return c;
}

describe("a Vagrant box as a master source ({ type: 'box' })", () => {
  it('is unpacked once into a disk master with the Vagrantfile hardware and the vagrant login, and clones', async () => {
    const spec: MasterSpec = {
      id: 'devbox',
      os,
      source: { type: 'box', path: at('dev.box'), provider: 'libvirt' },
    };
    const c = await compute([spec]);
    const image = (await c.getImage('devbox'))!;
    expect(image.defaultHardware).toMatchObject({ cores: 2, ramMiB: 640 });
    expect(image.login?.user).toBe('vagrant');
    const [folder, ...others] = await readdir(at('boxes'));
    expect(others).toEqual([]);
    expect((await readdir(at('boxes', folder!))).sort()).toEqual(['box.img', 'vmkit-box.json']);
    const [node] = await c.createNodesInGroup('dev', 1, await c.templateBuilder().imageId('devbox').build());
    expect(node).toMatchObject({ imageId: 'devbox', status: 'running' });

    // Registered again (a new service, ensureImage): the same disk, not unpacked again.
    const before = (await stat(at('boxes', folder!, 'vmkit-box.json'))).mtimeMs;
    const again = await compute([]);
    expect((await again.ensureImage(spec)).specHash).toBe(image.specHash);
    expect((await stat(at('boxes', folder!, 'vmkit-box.json'))).mtimeMs).toBe(before);
    expect(await readdir(at('boxes'))).toEqual([folder]);
  });

  it('without a reader is UNSUPPORTED naming source.type; a hostile or mismatched box is refused, nothing left in the cache', async () => {
    const spec: MasterSpec = { id: 'nobox', os, source: { type: 'box', path: at('dev.box') } };
    await expect(compute([spec], false)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      details: { field: 'source.type' },
    });
    await packOva(at('evil.box'), [
      ['metadata.json', Buffer.from('{"provider":"libvirt"}')],
      ['../escape', Buffer.from('x')],
    ]);
    const c = await compute([]);
    const evil: MasterSpec = { id: 'evil', os, source: { type: 'box', path: at('evil.box') } };
    await expect(c.ensureImage(evil)).rejects.toThrow(/names a path outside the archive \(rule box-member\)/);
    const wrong: MasterSpec = {
      id: 'wrong',
      os,
      source: { type: 'box', path: at('dev.box'), provider: 'virtualbox' },
    };
    await expect(c.ensureImage(wrong)).rejects.toThrow(
      /provider is libvirt, but the source asks for virtualbox/,
    );
    expect((await readdir(at('boxes'))).filter((n) => n.startsWith('unpacking-'))).toEqual([]);
    expect(await c.getImage('evil')).toBeUndefined();
  });
});
