import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MasterSpec, VmkitError } from '@vmkit/core';
import { readIso9660 } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endRun, installOnly, recordingLogger } from '../../test-support/debian-installer.js';
import { writeIsolinuxIso } from '../../test-support/isolinux-iso.js';
import { runPrefix, testGuest } from '../../test-support/test-guest.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('bc');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-boot-command-'));
const iso = join(dir, 'prompt.iso');
const ANSWER = 'ks answer: user={{user}} host={{hostname}}\n';

/**
 * An isolinux ISO of the busybox test guest that stops at isolinux's `boot:` prompt and waits for
 * ever (`prompt 1`, `timeout 0`): nothing boots unless keys are typed. Its only label does not ask
 * for `vmkit.mode=print` (the guest's mode that prints a labelled drive's files and powers off):
 * only the typed line does. Made with vmkit's own ISO writer into this test's directory.
 */
async function promptIso(): Promise<void> {
  const g = testGuest();
  await writeIsolinuxIso(
    iso,
    'VMKIT_PROMPT',
    [
      'serial 0 115200',
      'prompt 1',
      'timeout 0',
      'default live',
      'label live',
      '  kernel /live/vmlinuz',
      '  append initrd=/live/initrd.img console=ttyS0 panic=-1',
    ],
    { 'live/vmlinuz': g.kernel, 'live/initrd.img': g.initrd },
  );
}

function spec(id: string, bootCommand: string[]): MasterSpec {
  return {
    id,
    os: { family: 'linux', version: 'vmkit-test-guest', arch: 'x86_64' },
    source: {
      type: 'iso',
      path: iso,
      bootCommand,
      bootWait: 3000,
      installTimeoutMs: 120_000,
      unattended: { files: { 'ks.cfg': ANSWER }, delivery: ['drive'] },
    },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
    login: { user: 'ops' },
  };
}

describe('a boot command typed through libvirt send-key, answers on a labelled drive (busybox test guest)', () => {
  beforeAll(promptIso, 60_000);
  afterAll(() => endRun(URI, prefix, POOL, dir));

  it("reaches isolinux's boot: prompt, whose kernel then reads the OEMDRV drive vmkit made", async () => {
    const logger = recordingLogger();
    const master = spec('typed', [
      '<wait>live vmkit.mode=print vmkit.label=OEMDRV',
      ' vmkit.typed=Yes!<enter>',
    ]);
    const run = await installOnly({ uri: URI, pool: POOL, prefix, storeRoot: dir, logger }, master);
    expect(VmkitError.is(run.error, 'ABORTED')).toBe(true);
    // Typed characters, shifted ones included, reached the kernel's command line.
    expect(run.console).toMatch(/Command line: .*vmkit\.mode=print vmkit\.label=OEMDRV vmkit\.typed=Yes!/);
    expect(run.console).toContain('VMKIT-DRIVE-BEGIN label=OEMDRV');
    expect(run.console).toContain('ks answer: user=ops host=typed');
    expect(logger.lines.join('\n')).toMatch(/boot command typed .*"keys":\d+/);
  }, 240_000);

  it('with the iso delivery the answers sit at the root of the remastered ISO, which still boots', async () => {
    const base = spec('on-iso', ['<wait>live vmkit.mode=print vmkit.label=OEMDRV<enter>']);
    const master = {
      ...base,
      source: {
        ...base.source,
        kernelParams: 'vmkit.answers=/cdrom/ks.cfg',
        unattended: { files: { 'ks.cfg': ANSWER }, delivery: ['iso', 'drive'] },
      },
    } as MasterSpec;
    let onIso = '';
    let catalogue = 0;
    const run = await installOnly(
      {
        uri: URI,
        pool: POOL,
        prefix,
        storeRoot: dir,
        logger: recordingLogger(),
        // The ISO the installer boots, read from the pool while it runs.
        whileRunning: (poolDir) => {
          const name = readdirSync(poolDir).find(
            (n) => n.startsWith(`${prefix}m-`) && n.endsWith('.iso') && !n.includes('answers'),
          );
          copyFileSync(join(poolDir, name ?? 'missing'), join(dir, 'booted.iso'));
        },
      },
      master,
    );
    const booted = await readIso9660(join(dir, 'booted.iso'));
    onIso = Buffer.from(await booted.readFile('ks.cfg')).toString();
    catalogue = booted.files.filter((f) => f.path === 'isolinux/isolinux.bin').length;
    expect(onIso).toBe('ks answer: user=ops host=on-iso\n');
    expect(catalogue).toBe(1);
    expect(VmkitError.is(run.error, 'ABORTED')).toBe(true);
    // It booted: the remastered parameter and the typed line reached the kernel.
    expect(run.console).toMatch(/Command line: .*vmkit\.answers=\/cdrom\/ks\.cfg.*vmkit\.mode=print/);
    expect(run.console).toContain('ks answer: user=ops host=on-iso');
  }, 240_000);

  it('without the typed line the installer waits at the prompt until installTimeoutMs, and the error shows it', async () => {
    const master = {
      ...spec('untyped', ['<wait>']),
      source: { ...spec('untyped', []).source, bootCommand: ['<wait>'], installTimeoutMs: 20_000 },
    } as MasterSpec;
    const run = await installOnly(
      { uri: URI, pool: POOL, prefix, storeRoot: dir, logger: recordingLogger() },
      master,
    );
    expect(VmkitError.is(run.error, 'TIMEOUT')).toBe(true);
    expect((run.error as Error).message).toMatch(/the console's last lines:\n[\s\S]*boot:/);
  }, 240_000);
});
