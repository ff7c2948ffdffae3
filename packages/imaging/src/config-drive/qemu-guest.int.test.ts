import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run, tempDir } from '../../test-fixtures/tools.js';
import { buildConfigDrive, configDriveLayout } from './build-config-drive.js';

const GUEST = process.env.VMKIT_GUEST_DIR ?? join(REPO, '.vmkit', 'test-guest');

interface PrintedDrive {
  readonly label: string;
  readonly fs: string;
  readonly files: Map<string, Buffer>;
}

/** Parses the test guest's print-mode console output (base64 encoding). */
function parseConsole(output: string): PrintedDrive {
  const lines = output.split(/\r?\n/);
  const begin = lines.findIndex((l) => l.startsWith('VMKIT-DRIVE-BEGIN '));
  if (begin < 0) throw new Error(`the guest printed no drive:\n${output.slice(-3000)}`);
  const [, label = '', fs = ''] = /label=(\S+) fs=(\S+)/.exec(lines[begin] as string) ?? [];
  const files = new Map<string, Buffer>();
  let i = begin + 1;
  for (; i < lines.length && lines[i] !== 'VMKIT-DRIVE-END'; i++) {
    const line = lines[i] as string;
    if (!line.startsWith('VMKIT-FILE ')) continue;
    const rest = line.slice('VMKIT-FILE '.length);
    const path = rest.slice(0, rest.lastIndexOf(' '));
    const size = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    let b64 = '';
    for (i++; lines[i] !== 'VMKIT-FILE-END'; i++) b64 += lines[i];
    const content = Buffer.from(b64, 'base64');
    expect(content.length, path).toBe(size);
    files.set(path, content);
  }
  if (i >= lines.length)
    throw new Error(`the guest output ended before VMKIT-DRIVE-END:\n${output.slice(-3000)}`);
  return { label, fs, files };
}

/** Boots the test guest in print mode with `drive` attached; hard timeout 150 s. */
async function boot(drive: string[]): Promise<string> {
  const { stdout } = await run(
    'qemu-system-x86_64',
    [
      '-machine',
      'pc,accel=tcg',
      '-m',
      '256',
      '-nographic',
      '-no-reboot',
      '-net',
      'none',
      '-kernel',
      join(GUEST, 'vmlinuz'),
      '-initrd',
      join(GUEST, 'initrd.img'),
      '-append',
      'console=ttyS0 panic=-1 quiet vmkit.mode=print vmkit.encoding=base64',
      ...drive,
    ],
    { timeoutMs: 150_000 },
  );
  return stdout;
}

describe('a real guest under QEMU (TCG) finds our config drives by label', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir('qemu');
    await run('bash', [join(REPO, 'test-guest', 'build.sh')], { timeoutMs: 280_000 });
    expect(existsSync(join(GUEST, 'vmlinuz')) && existsSync(join(GUEST, 'initrd.img'))).toBe(true);
  }, 300_000);
  afterAll(async () => tmp?.remove());

  it('reads a NoCloud cidata ISO on an IDE CD-ROM and prints its files byte for byte', async () => {
    const userData =
      '#cloud-config\nhostname: guest-test\nwrite_files: [{path: /tmp/ünïcødé, content: "名前"}]\n';
    const spec = {
      format: 'nocloud' as const,
      instanceId: 'iid-qemu-iso',
      hostname: 'guest-iso',
      userData,
      files: [
        {
          path: 'extra/deep/dir/a file with a long name of more than sixty-four characters.txt',
          content: 'deep',
        },
      ],
    };
    const iso = join(tmp.path, 'cidata.iso');
    await writeFile(iso, await buildConfigDrive(spec));
    const drive = parseConsole(
      await boot(['-drive', `file=${iso},media=cdrom,if=ide,readonly=on,format=raw`]),
    );
    expect(drive).toMatchObject({ label: 'cidata', fs: 'iso9660' });
    const layout = configDriveLayout(spec);
    expect([...drive.files.keys()]).toEqual(layout.entries.map((e) => e.path).sort());
    expect(drive.files.get('user-data')?.toString()).toBe(userData);
    expect(drive.files.get('meta-data')?.toString()).toBe(
      'instance-id: "iid-qemu-iso"\nlocal-hostname: "guest-iso"\n',
    );
    expect(drive.files.get(spec.files[0]!.path)?.toString()).toBe('deep');
  });

  it('reads an OpenStack config-2 vfat drive on virtio and prints its files byte for byte', async () => {
    const spec = {
      format: 'openstack' as const,
      filesystem: 'vfat' as const,
      instanceId: 'a1b2c3d4-0000-4000-8000-00000000qemu',
      hostname: 'guest-vfat',
      userData: Uint8Array.from({ length: 256 }, (_, i) => i),
      publicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test@vmkit'],
    };
    const img = join(tmp.path, 'config-2.img');
    await writeFile(img, await buildConfigDrive(spec, { randomSeed: new Uint8Array(16) }));
    const drive = parseConsole(await boot(['-drive', `file=${img},format=raw,if=virtio,readonly=on`]));
    expect(drive).toMatchObject({ label: 'config-2', fs: 'vfat' });
    const layout = configDriveLayout(spec, { randomSeed: new Uint8Array(16) });
    expect([...drive.files.keys()]).toEqual(layout.entries.map((e) => e.path).sort());
    expect(drive.files.get('openstack/latest/user_data')?.equals(Buffer.from(spec.userData))).toBe(true);
    const meta = JSON.parse(drive.files.get('openstack/latest/meta_data.json')?.toString() ?? '{}');
    expect(meta).toMatchObject({
      uuid: spec.instanceId,
      hostname: 'guest-vfat',
      public_keys: { 'key-0': spec.publicKeys[0] },
    });
  });
});
