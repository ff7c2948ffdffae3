import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tempDir } from '../../test-fixtures/tools.js';
import { assertSafeImage } from './assert-safe-image.js';
import { inspectImage } from './inspect-image.js';

const SIZE = '64M';
/** name → qemu-img create arguments (format, options) and the format qemu-img names it. */
const SAFE: Array<[string, string, string[], string]> = [
  ['disk.qcow2', 'qcow2', [], 'qcow2'],
  ['disk.raw', 'raw', [], 'raw'],
  ['sparse.vmdk', 'vmdk', [], 'vmdk'],
  ['stream.vmdk', 'vmdk', ['-o', 'subformat=streamOptimized'], 'vmdk'],
  ['dynamic.vhd', 'vpc', [], 'vpc'],
  ['fixed.vhd', 'vpc', ['-o', 'subformat=fixed,force_size=on'], 'vpc'],
  ['disk.vhdx', 'vhdx', [], 'vhdx'],
  ['disk.vdi', 'vdi', [], 'vdi'],
];

async function qemuInfo(file: string, format?: string): Promise<{ format: string; 'virtual-size': number }> {
  const args = ['info', '--output=json', ...(format ? ['-f', format] : []), file];
  return JSON.parse((await run('qemu-img', args)).stdout);
}

function ruleOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    if (VmkitError.is(error)) return error.details.rule as string;
    throw error;
  }
  return undefined;
}

describe('inspectImage on images qemu-img made', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const at = (name: string) => join(tmp.path, name);
  beforeAll(async () => {
    tmp = await tempDir('inspect-int');
    for (const [name, format, opts] of SAFE)
      await run('qemu-img', ['create', '-q', '-f', format, ...opts, at(name), SIZE]);
    // Some data, so sparse formats have allocated clusters and the streamOptimized one has grains.
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 1M 3M', at('disk.qcow2')]);
    await run('qemu-img', [
      'convert',
      '-O',
      'vmdk',
      '-o',
      'subformat=streamOptimized',
      at('disk.qcow2'),
      at('data.vmdk'),
    ]);
  });
  afterAll(async () => tmp?.remove());

  it.each([...SAFE.map(([name, , , q]) => [name, q]), ['data.vmdk', 'vmdk']])(
    '%s: same format and virtual size as qemu-img info, no issues, headers only',
    async (name, qemuFormat) => {
      // qemu's probe does not recognise a fixed VHD (its footer is at the end): name the format.
      const q = await qemuInfo(at(name), name === 'fixed.vhd' ? 'vpc' : undefined);
      const info = await inspectImage(at(name));
      expect(q.format).toBe(qemuFormat);
      expect(info.format).toBe(qemuFormat === 'vpc' ? 'vhd' : qemuFormat);
      expect(info.virtualSize).toBe(q['virtual-size']);
      expect(info.issues).toEqual([]);
      expect(info.bytesRead).toBeLessThanOrEqual(Math.min(info.fileSize, 128 * 1024));
      expect(() => assertSafeImage(info, { format: qemuFormat })).not.toThrow();
    },
  );

  it('refuses the hostile set, each naming its rule', async () => {
    const base = at('disk.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', at('backed.qcow2')]);
    await run('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-o',
      `data_file=${at('data.bin')}`,
      at('datafile.qcow2'),
      SIZE,
    ]);
    await run('qemu-img', ['create', '-q', '-f', 'qed', at('disk.qed'), SIZE]);
    await run('qemu-img', [
      'create',
      '-q',
      '-f',
      'vmdk',
      '-o',
      'subformat=monolithicFlat',
      at('flat.vmdk'),
      SIZE,
    ]);
    await writeFile(
      at('host.vmdk'),
      '# Disk DescriptorFile\nversion=1\ncreateType="monolithicSparse"\nRW 8 SPARSE "/etc/shadow"\n',
    );
    const head = (await run('head', ['-c', '50', base], { encoding: 'latin1' })).stdout;
    await writeFile(at('truncated.qcow2'), Buffer.from(head, 'latin1'));
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', at('huge.qcow2'), '1P']);
    const cases: Array<[string, Parameters<typeof assertSafeImage>[1], string]> = [
      ['backed.qcow2', {}, 'qcow2-backing-file'],
      ['backed.qcow2', { format: 'raw' }, 'qcow2-backing-file'],
      ['datafile.qcow2', {}, 'qcow2-data-file'],
      ['disk.qed', {}, 'qed'],
      ['flat.vmdk', { format: 'vmdk' }, 'vmdk-create-type'],
      ['host.vmdk', {}, 'vmdk-extent-path'],
      ['truncated.qcow2', {}, 'truncated'],
      ['huge.qcow2', {}, 'virtual-size-limit'],
      ['disk.vdi', { format: 'raw' }, 'format-mismatch'],
    ];
    for (const [name, opts, rule] of cases) {
      const info = await inspectImage(at(name));
      expect([name, ruleOf(() => assertSafeImage(info, opts))]).toEqual([name, rule]);
    }
    const raw = await inspectImage(at('backed.qcow2'));
    expect(ruleOf(() => assertSafeImage(raw, { format: 'raw', formats: ['raw'] }))).toBe(
      'qcow2-backing-file',
    );
    expect((await qemuInfo(at('huge.qcow2')))['virtual-size']).toBe(
      (await inspectImage(at('huge.qcow2'))).virtualSize,
    );
  });
});
