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
const prefix = runPrefix('dh');
const storeRoot = mkdtempSync(join(tmpdir(), 'vmkit-debian-installer-'));

describe("the real Debian installer (debian-installer-12-netboot-amd64) fetches vmkit's answers over HTTP", () => {
  afterAll(() => endRun(URI, prefix, POOL, storeRoot));

  it('from the per-build answer server through user networking ({{http}} in the boot line), then powers off', async () => {
    const logger = recordingLogger();
    const master = debianInstallerSpec(
      'di-http',
      'url={{http}}/preseed.cfg hw-detect/load_firmware=false',
      'http',
    );
    const run = await installOnly({ uri: URI, pool: POOL, prefix, storeRoot, logger }, master);
    expect(VmkitError.is(run.error, 'ABORTED')).toBe(true);
    expect(run.console).toContain(`${PRESEED_MARKER} for di-http`);
    expect(run.ms).toBeLessThan(360_000);
    const log = logger.lines.join('\n');
    expect(log).toMatch(/answer server: served .*"file":"preseed.cfg","bytes":\d+/);
    expect(log).not.toContain('early_command');
    // The URL the installer was given is gone with the build.
    const url = /url=(http:\/\/10\.0\.2\.2:(\d+)\/[A-Za-z0-9_-]+)\/preseed\.cfg/.exec(run.console);
    expect(url).not.toBeNull();
    await expect(fetch(`http://127.0.0.1:${url?.[2]}/`)).rejects.toThrow();
  }, 420_000);
});
