import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmkitError } from '@vmkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  debianInstallerSpec,
  endRun,
  installOnly,
  PRESEED_MARKER,
  recordingLogger,
} from '../../test-support/debian-installer.js';
import { runPrefix } from '../../test-support/test-guest.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('di');
const storeRoot = mkdtempSync(join(tmpdir(), 'vmkit-debian-installer-'));
const where = { uri: URI, pool: POOL, prefix, storeRoot };

describe("the real Debian installer (debian-installer-12-netboot-amd64) reads vmkit's answers from its initrd", () => {
  afterAll(() => endRun(URI, prefix, POOL, storeRoot));

  it('the preseed appended as a second cpio archive ran its early_command, whose power-off ended the install', async () => {
    const logger = recordingLogger();
    const run = await installOnly(
      { ...where, logger },
      debianInstallerSpec('di-initrd', 'preseed/file=/preseed.cfg', 'initrd'),
    );
    // Stopped by the test once create-and-install was done: the power-off was taken as "installed".
    expect(VmkitError.is(run.error, 'ABORTED')).toBe(true);
    expect(run.console).toContain(`${PRESEED_MARKER} for di-initrd`);
    expect(run.ms).toBeLessThan(360_000);
    const log = logger.lines.join('\n');
    expect(log).toMatch(/unattended answer file .*"file":"preseed.cfg","bytes":\d+/);
    expect(log).not.toContain('early_command');
  }, 420_000);

  it('a missing answer file fails the build with the console tail in the error', async () => {
    // Debian reads /preseed.cfg of its initrd whatever the boot line says: deliver another name.
    const master = debianInstallerSpec('di-missing', 'preseed/file=/preseed.cfg', 'initrd', {
      installTimeoutMs: 50_000,
      fileName: 'answers.cfg',
    });
    const run = await installOnly({ ...where, logger: recordingLogger() }, master);
    expect(VmkitError.is(run.error, 'TIMEOUT')).toBe(true);
    const error = run.error as VmkitError;
    expect(error.message).toMatch(/still running after 50000 ms; the console's last lines:\n/);
    expect(error.message).toContain(String(error.details.consoleTail));
    // The installer's own console (its screen and status line, or its start-up), never the marker.
    expect(String(error.details.consoleTail)).toMatch(/installer|preconfiguration|syslogd/i);
    expect(String(error.details.consoleTail)).not.toContain(PRESEED_MARKER);
    expect(run.console).toBe('');
  }, 420_000);
});
