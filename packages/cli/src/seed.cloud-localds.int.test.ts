import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cloudInitRead,
  run,
  tempDir,
  xorrisoComplaints,
  xorrisoExtract,
} from '../../imaging/test-fixtures/tools.js';
import { runCliProcess } from '../test-support/spawn-cli.js';

const userData = '#cloud-config\nhostname: ünïcødé\nruncmd:\n  - [sh, -c, "echo 名前 > /tmp/x"]\n';
const metaData =
  'instance-id: iid-seed-7\nlocal-hostname: node-7\npublic-keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample a@b\navailability-zone: zone-a\ntags: {role: db}\n';
const networkConfig =
  'version: 2\nethernets:\n  eth0:\n    match: {macaddress: "52:54:00:12:34:56"}\n    dhcp4: true\n';
const vendorData = '#cloud-config\nruncmd: [true]\n';

/** What cloud-init's NoCloud reader finds on a seed image (extracted with xorriso or mcopy). */
async function readSeed(image: string, filesystem: 'iso9660' | 'vfat'): Promise<Record<string, unknown>> {
  const out = `${image}.d`;
  if (filesystem === 'iso9660') expect(xorrisoComplaints(await xorrisoExtract(image, out))).toEqual([]);
  else await run('mcopy', ['-s', '-n', '-i', image, '::/', out]);
  return cloudInitRead('nocloud', out);
}

describe('vmkit seed is a drop-in for cloud-localds: cloud-init reads the same data from both', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const file = (name: string) => join(tmp.path, name);
  beforeAll(async () => {
    tmp = await tempDir('vmkit-seed');
    await writeFile(file('user-data'), userData);
    await writeFile(file('meta-data'), metaData);
    await writeFile(file('network-config'), networkConfig);
    await writeFile(file('vendor-data'), vendorData);
  });
  afterAll(async () => tmp?.remove());

  it.each(['iso9660', 'vfat'] as const)(
    'with meta-data, network config and vendor data, on %s',
    async (fs) => {
      const flags = [
        '-f',
        fs === 'vfat' ? 'vfat' : 'iso',
        '-N',
        file('network-config'),
        '-V',
        file('vendor-data'),
      ];
      const ours = file(`ours-${fs}.img`);
      const theirs = file(`theirs-${fs}.img`);
      const mine = await runCliProcess(
        ['seed', ...flags, ours, file('user-data'), file('meta-data')],
        tmp.path,
      );
      expect(mine).toMatchObject({ code: 0, stdout: '', stderr: '' });
      await run('cloud-localds', [...flags, theirs, file('user-data'), file('meta-data')]);
      const [a, b] = await Promise.all([readSeed(ours, fs), readSeed(theirs, fs)]);
      expect(a).toEqual(b);
      expect(a['instance-id']).toBe('iid-seed-7');
      expect(a['user-data']).toBe(userData);
      expect(a['network-config']).toMatchObject({ version: 2 });
    },
  );

  it('without meta-data: the same default instance id, with --hostname and --dsmode', async () => {
    const flags = ['-H', 'web-1', '-m', 'local'];
    await runCliProcess(
      ['seed', '-o', file('ours.iso'), '--user-data', file('user-data'), ...flags],
      tmp.path,
    );
    await run('cloud-localds', [...flags, file('theirs.iso'), file('user-data')]);
    const [a, b] = await Promise.all([
      readSeed(file('ours.iso'), 'iso9660'),
      readSeed(file('theirs.iso'), 'iso9660'),
    ]);
    expect(a).toEqual(b);
    expect(a['meta-data']).toEqual({
      'instance-id': 'iid-local01',
      'local-hostname': 'web-1',
      dsmode: 'local',
    });
  });
});
