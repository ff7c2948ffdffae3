import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MasterSpec, VmkitError } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  debianInstaller,
  endRun,
  installOnly,
  PRESEED_MARKER,
  recordingLogger,
  TEST_PRESEED,
} from '../../test-support/debian-installer.js';
import { writeIsolinuxIso } from '../../test-support/isolinux-iso.js';
import { runPrefix } from '../../test-support/test-guest.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('dio');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-debian-installer-iso-'));
const iso = join(dir, 'debian-installer.iso');

/**
 * An installer ISO made with vmkit's own writer from the files of Debian's
 * debian-installer-12-netboot-amd64 (its `linux` and `initrd.gz`) and Debian's isolinux, booting
 * straight into the installer with the preseed looked for at the initrd's root.
 */
async function debianInstallerIso(): Promise<void> {
  const di = debianInstaller();
  await writeIsolinuxIso(
    iso,
    'VMKIT_DEBIAN_INSTALLER',
    [
      'serial 0 115200',
      'default install',
      'prompt 0',
      'timeout 0',
      'label install',
      '  kernel /install/linux',
      '  append initrd=/install/initrd.gz auto=true priority=critical console=ttyS0 preseed/file=/preseed.cfg',
    ],
    { 'install/linux': di.kernel, 'install/initrd.gz': di.initrd },
  );
}

describe("the real Debian installer on an installer ISO reads vmkit's answers from the ISO's initrd", () => {
  beforeAll(debianInstallerIso, 60_000);
  afterAll(() => endRun(URI, prefix, POOL, dir));

  it('the ISO remastered with the preseed appended to the initrd its isolinux loads, booted, read it and powered off', async () => {
    const logger = recordingLogger();
    const master: MasterSpec = {
      id: 'di-iso',
      os: { family: 'debian', version: '12', arch: 'x86_64' },
      source: {
        type: 'iso',
        path: iso,
        unattended: { files: { 'preseed.cfg': TEST_PRESEED }, delivery: ['initrd'] },
        installTimeoutMs: 360_000,
      },
      hardware: { cores: 2, ramMiB: 1024, diskGiB: 1 },
    };
    const run = await installOnly({ uri: URI, pool: POOL, prefix, storeRoot: dir, logger }, master);
    expect(VmkitError.is(run.error, 'ABORTED')).toBe(true);
    expect(run.console).toContain(`${PRESEED_MARKER} for di-iso`);
    expect(run.ms).toBeLessThan(360_000);
    expect(logger.lines.join('\n')).toMatch(
      /answers put on the installer ISO .*"files":\["install\/initrd\.gz"\]/,
    );
  }, 420_000);
});
