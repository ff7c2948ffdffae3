import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunNodesError } from '../errors/run-nodes-error.js';
import type { DataVolumeSpec } from '../model/data-volume-spec.js';
import { outcome, provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

describe('data volumes', () => {
  it('gives each node its data volumes, owned by it and removed with it', async () => {
    const p = provider();
    const service = await s.service(p);
    const dataVolumes: DataVolumeSpec[] = [
      { sizeMiB: 16, filesystem: 'vfat', label: 'SEED', files: { 'hello.txt': 'hi' } },
      { sizeMiB: 1024 },
    ];
    const nodes = await service.createNodesInGroup('db', 2, { dataVolumes });
    for (const n of nodes) {
      expect(p.diskNames().filter((d) => d.startsWith(`node:${n.id}:`))).toEqual([
        `node:${n.id}:data0`,
        `node:${n.id}:data1`,
      ]);
    }
    await service.destroyNode(nodes[0]?.id as string);
    expect(p.diskNames().some((d) => d.startsWith(`node:${nodes[0]?.id}`))).toBe(false);
    expect(p.diskNames().filter((d) => d.startsWith(`node:${nodes[1]?.id}:data`))).toHaveLength(2);
  });

  it('rolls the data volumes of a failed node back with it', async () => {
    const p = provider({ failClone: 2 });
    const service = await s.service(p, { concurrency: { clones: 1 } });
    const error = await service
      .createNodesInGroup('db', 2, { dataVolumes: [{ sizeMiB: 8 }, { sizeMiB: 8 }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunNodesError);
    const [kept] = (error as RunNodesError).nodes;
    expect(
      p
        .diskNames()
        .filter((d) => d.startsWith('node:'))
        .sort(),
    ).toEqual([`node:${kept?.id}`, `node:${kept?.id}:data0`, `node:${kept?.id}:data1`].sort());
  });

  it('refuses bad specs with INVALID_ARGUMENT naming the field, before any work', async () => {
    const p = provider();
    const service = await s.service(p);
    const bad = (dataVolumes: unknown) =>
      outcome(service.createNodesInGroup('db', 1, { dataVolumes } as never));
    expect(await bad([{ sizeMiB: 0 }])).toMatch(
      /^INVALID_ARGUMENT \S*dataVolumes\[0\]\.sizeMiB: .*at least 1/,
    );
    expect(await bad([{ sizeMiB: 1.5 }])).toMatch(/dataVolumes\[0\]\.sizeMiB: .*integer/);
    expect(await bad([{ sizeMiB: 2 ** 21 }])).toMatch(/dataVolumes\[0\]\.sizeMiB: .*at most 1048576/);
    expect(await bad([{ sizeMiB: 1 }, { sizeMiB: 1, format: 'qcow2' }])).toMatch(
      /dataVolumes\[1\]\.format: must be raw/,
    );
    expect(await bad([{ sizeMiB: 1, filesystem: 'ext4' }])).toMatch(
      /dataVolumes\[0\]\.filesystem: must be vfat/,
    );
    expect(await bad([{ sizeMiB: 1, label: 'DATA' }])).toMatch(
      /dataVolumes\[0\]\.label: needs filesystem: vfat/,
    );
    expect(await bad([{ sizeMiB: 1, filesystem: 'vfat', label: 'much-too-long' }])).toMatch(
      /dataVolumes\[0\]\.label: must be 1-11/,
    );
    expect(await bad([{ sizeMiB: 1, filesystem: 'vfat', label: 'A/B' }])).toMatch(
      /dataVolumes\[0\]\.label: must not contain/,
    );
    expect(await bad([{ sizeMiB: 1, filesystem: 'vfat', files: { '../etc/passwd': 'x' } }])).toMatch(
      /dataVolumes\[0\]\.files.*: file paths must be relative/,
    );
    expect(await bad([{ sizeMiB: 1, filesystem: 'vfat', files: { '/abs': 'x' } }])).toMatch(
      /file paths must be relative/,
    );
    expect(await bad([{ sizeMiB: 1, filesystem: 'vfat', files: { a: 3 } }])).toMatch(
      /dataVolumes\[0\]\.files\.a: must be a string or a Uint8Array/,
    );
    expect(await bad([{ sizeMiB: 1, size: 3 }])).toMatch(/dataVolumes\[0\]/);
    expect(await bad([{ sizeMiB: 1, content: new Uint8Array(1024 * 1024 + 1) }])).toMatch(
      /dataVolumes\[0\]\.content: is 1048577 bytes, larger than the 1 MiB volume/,
    );
    expect(await bad([{ sizeMiB: 1, filesystem: 'vfat', content: 'x' }])).toMatch(
      /dataVolumes\[0\]\.content: is for volumes without a filesystem/,
    );
    expect(await bad(Array.from({ length: 9 }, () => ({ sizeMiB: 1 })))).toMatch(
      /dataVolumes: must have at most 8/,
    );
    expect(p.stats.clones).toBe(0);
  });

  it('is UNSUPPORTED, naming dataVolumes, on a provider without them', async () => {
    const p = provider();
    const caps = await p.capabilities();
    p.capabilities = async () => ({ ...caps, dataVolumes: false });
    const service = await s.service(p);
    expect(await outcome(service.createNodesInGroup('db', 1, { dataVolumes: [{ sizeMiB: 1 }] }))).toMatch(
      /^UNSUPPORTED dataVolumes: dataVolumes: memory cannot attach data volumes/,
    );
    expect(p.stats.clones).toBe(0);
  });
});
