import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MasterSpec, VmkitError } from '@vmkit/core';
import { appendToInitrd } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endRun, installOnly, recordingLogger } from '../../test-support/debian-installer.js';
import { runPrefix, testGuest } from '../../test-support/test-guest.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
/** The provider's `installPowerOffMs` here: this installer does not answer the power button. */
const POWER_OFF_MS = 3000;
const prefix = runPrefix('if');
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
let dir = '';
let initrd = '';

/**
 * The busybox test guest's installer, changed at its very end: instead of powering off once it
 * installed, it gives a signal and then waits for ever (until the ACPI power button, which the
 * guest's acpid and /init's trap turn into a power-off): with `vmkit.done=URL` it requests URL, with `vmkit.port=N` it
 * serves HTTP on port N. The change is a second cpio archive replacing `/vmkit/mode-install.sh`
 * in the guest's initrd (`appendToInitrd`), so the shared test guest stays as it is.
 */
async function signallingInstaller(): Promise<string> {
  const original = readFileSync(join(repo, 'test-guest/guest/mode-install.sh'), 'utf8');
  const end = 'echo "VMKIT-INSTALL-DONE"\nvmkit_poweroff\n';
  if (!original.endsWith(end))
    throw new Error('mode-install.sh no longer ends with the power-off this test replaces');
  const signal = [
    'echo "VMKIT-INSTALL-DONE"',
    // The guest's own power button handling: acpid runs /etc/acpi/PWRF/00000080, which prints
    // VMKIT-POWER-BUTTON and signals /init, whose trap powers off (at the next short sleep).
    'acpid -c /etc/acpi',
    'ifconfig lo 127.0.0.1 up',
    'ifconfig eth0 up',
    'udhcpc -i eth0 -s /vmkit/udhcpc.sh -n -q -f -t 5 -T 1 >/dev/null 2>&1 || ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up',
    'done_url=$(cmdline_get vmkit.done "")',
    'port=$(cmdline_get vmkit.port "")',
    'if [ -n "$done_url" ]; then wget -q -O /dev/null "$done_url" && echo "VMKIT-CALLED"; fi',
    'if [ -n "$port" ]; then mkdir -p /run/www; echo up >/run/www/index.html; httpd -p "$port" -h /run/www; echo "VMKIT-LISTENING $port"; fi',
    'echo "VMKIT-WAITING"',
    'while :; do sleep 1; done',
    '',
  ].join('\n');
  const out = join(dir, 'signalling-initrd.img');
  await appendToInitrd(
    testGuest().initrd,
    [
      {
        name: 'vmkit/mode-install.sh',
        content: Buffer.from(original.slice(0, -end.length) + signal),
        mode: 0o755,
      },
    ],
    out,
  );
  return out;
}

/** The busybox installer as a `kernel` master whose install ends with `installFinished`. */
function spec(id: string, extra: string, more: Record<string, unknown>): MasterSpec {
  return {
    id,
    os: { family: 'linux', version: 'vmkit-test-guest', arch: 'x86_64' },
    source: {
      type: 'kernel',
      kernel: testGuest().kernel,
      initrd,
      // The guest's own watchdog (vmkit.timeout) would power it off: far beyond installTimeoutMs.
      cmdline: `console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vda vmkit.timeout=900 ${extra}`,
      installTimeoutMs: 150_000,
      ...more,
    },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
  } as MasterSpec;
}

describe('installFinished: signals other than the power-off (busybox installer on libvirt)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-install-finished-'));
    initrd = await signallingInstaller();
  }, 60_000);
  afterAll(() => endRun(URI, prefix, POOL, dir));

  it("{ call }: the guest's request of {{http}}/<call> on the answer server ends the install; vmkit powers it off", async () => {
    const logger = recordingLogger();
    const master = spec('called', 'vmkit.done={{http}}/done', {
      unattended: { files: { 'ks.cfg': 'unused\n' }, delivery: ['http'] },
      installFinished: { call: 'done' },
    });
    const run = await installOnly(
      { uri: URI, pool: POOL, prefix, storeRoot: dir, logger, installPowerOffMs: POWER_OFF_MS },
      master,
    );
    // Without the signal the guest waits for ever: the build would fail with TIMEOUT.
    expect(VmkitError.is(run.error, 'ABORTED'), String(run.error)).toBe(true);
    expect(run.console).toContain('VMKIT-INSTALL-DONE');
    expect(run.console).toContain('VMKIT-CALLED');
    expect(run.console).toContain('VMKIT-WAITING');
    // The guest heard the power button vmkit pressed (or was turned off POWER_OFF_MS later).
    if (!run.console.includes('VMKIT-POWER-BUTTON'))
      console.warn('the guest did not answer the power button');
    const log = logger.lines.join('\n');
    expect(log).toMatch(/answer server: called .*"call":"done"/);
    expect(log).toMatch(/libvirt installer finished .*"by":"call done"/);
  }, 300_000);

  it("{ port }: a guest port answering through the installer's forward ends the install", async () => {
    const logger = recordingLogger();
    const master = spec('ported', 'vmkit.port=8080', { installFinished: { port: 8080 } });
    const run = await installOnly(
      { uri: URI, pool: POOL, prefix, storeRoot: dir, logger, installPowerOffMs: POWER_OFF_MS },
      master,
    );
    expect(VmkitError.is(run.error, 'ABORTED'), String(run.error)).toBe(true);
    expect(run.console).toContain('VMKIT-LISTENING 8080');
    expect(logger.lines.join('\n')).toMatch(/libvirt installer finished .*"by":"port 8080 answering"/);
  }, 300_000);

  it('{ port } of a port nothing listens on: the forward alone does not count, the build times out', async () => {
    const master = spec('unheard', 'vmkit.port=8080', {
      installFinished: { port: 8081 },
      // Long past the guest's listening (about 10 s in): the forward alone never ends it.
      installTimeoutMs: 60_000,
    });
    const run = await installOnly(
      {
        uri: URI,
        pool: POOL,
        prefix,
        storeRoot: dir,
        logger: recordingLogger(),
        installPowerOffMs: POWER_OFF_MS,
      },
      master,
    );
    expect(VmkitError.is(run.error, 'TIMEOUT'), String(run.error)).toBe(true);
    expect((run.error as Error).message).toMatch(/the console's last lines:[\s\S]*VMKIT-WAITING/);
  }, 300_000);
});
