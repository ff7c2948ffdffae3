import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, type Logger, type MasterSpec, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, describe, expect, it } from 'vitest';
import { debianInstaller } from '../../test-support/debian-installer.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('di');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-debian-installer-'));
const poolDir = /<path>([^<]+)<\/path>/.exec(execFileSync('virsh', ['-c', URI, 'pool-dumpxml', POOL], { encoding: 'utf8' }))?.[1] ?? '';
const installer = debianInstaller();

/** What `preseed/early_command` prints, computed by the installer's shell so no file or boot line holds it. */
const MARKER = 'VMKIT-PRESEED-READ-42';
const PRESEED = [
  '# vmkit test preseed: prove the installer read it, then stop',
  'd-i debian-installer/locale string en_US',
  'd-i keyboard-configuration/xkb-keymap select us',
  `d-i preseed/early_command string echo "VMKIT-PRESEED-READ-$((6*7)) for {{hostname}}" > /dev/ttyS0; sync; poweroff -f`,
  '',
].join('\n');

function spec(id: string, cmdline: string, delivery: 'initrd' | 'http', installTimeoutMs = 90_000): MasterSpec {
  return {
    id,
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: {
      type: 'kernel',
      ...installer,
      cmdline: `auto=true priority=critical console=ttyS0 ${cmdline}`,
      unattended: { files: { 'preseed.cfg': PRESEED }, delivery: [delivery] },
      installTimeoutMs,
    },
    hardware: { cores: 2, ramMiB: 1024, diskGiB: 1 },
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (message: string, fields?: unknown) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: log, info: log, warn: log, error: log };
}

/** The console log of this run's installer, read from the pool's directory. */
function consoleLogText(): string {
  const name = readdirSync(poolDir).find((n) => n.startsWith(`${prefix}install-`) && n.endsWith('.log'));
  return name ? readFileSync(join(poolDir, name), 'utf8') : '';
}

/**
 * Builds through the public API until `create-and-install` is done (the installer powered off:
 * the install finished), reads the console log then, and stops the build there (the disk is empty
 * after such an install). Returns the console text and the build's error.
 */
async function installOnly(master: MasterSpec, logger: Logger) {
  await using compute = await createComputeService({
    provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
    store: fileSystemBlobStore({ root: join(dir, master.id) }),
    logger,
  });
  const stop = new AbortController();
  let console = '';
  const started = Date.now();
  const error = await compute
    .ensureImage(master, {
      signal: stop.signal,
      onProgress: (e) => {
        if (e.step === 'create-and-install' && e.stepOutcome === 'done') {
          console = consoleLogText();
          stop.abort();
        }
      },
    })
    .then(() => undefined, (e: unknown) => e);
  return { console, error, ms: Date.now() - started };
}

describe("the real Debian installer (debian-installer-12-netboot-amd64) reads vmkit's answers", () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    expect(await leftovers(URI, prefix, POOL)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('from its initrd: the preseed appended as a second cpio archive ran its early_command, which powered off', async () => {
    const logger = recordingLogger();
    const run = await installOnly(spec('di-initrd', 'preseed/file=/preseed.cfg', 'initrd'), logger);
    expect(VmkitError.is(run.error, 'ABORTED')).toBe(true);
    expect(run.console).toContain(`${MARKER} for di-initrd`);
    expect(run.ms).toBeLessThan(60_000);
    expect(logger.lines.join('\n')).toMatch(/unattended answer file .*"file":"preseed.cfg","bytes":\d+/);
  }, 120_000);

  it('over HTTP from the answer server through user networking ({{http}} in the boot line)', async () => {
    const logger = recordingLogger();
    const run = await installOnly(spec('di-http', 'url={{http}}/preseed.cfg', 'http'), logger);
    expect(VmkitError.is(run.error, 'ABORTED')).toBe(true);
    expect(run.console).toContain(`${MARKER} for di-http`);
    expect(run.ms).toBeLessThan(60_000);
    const log = logger.lines.join('\n');
    expect(log).toMatch(/answer server: served .*"file":"preseed.cfg"/);
    expect(log).not.toContain('early_command');
  }, 120_000);

  it('a wrong answer file name fails the build with the console tail in the error', async () => {
    const run = await installOnly(spec('di-wrong', 'preseed/file=/wrong.cfg', 'initrd', 40_000), recordingLogger());
    expect(VmkitError.is(run.error, 'TIMEOUT')).toBe(true);
    const error = run.error as VmkitError;
    expect(error.message).toMatch(/still running after 40000 ms; the console's last lines:\n/);
    expect(String(error.details.consoleTail)).toMatch(/preconfiguration|preseed/i);
    expect(run.console).toBe('');
  }, 120_000);
});
