import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressEvent } from '@vmkit/core';
import { runMasterBuild } from '@vmkit/core/spi';
import { writeIso9660 } from '@vmkit/imaging';
import { describe, expect, it } from 'vitest';
import { isoMasterSpec, simOf, testProvider, vboxTestEnv } from '../../../test-support/vbox-env.js';
import type { VboxSimulatorOptions } from '../../testing/index.js';

// The install-agent step of a VirtualBox master build, against the simulator: its guests run the
// install script for real and show the host's Guest Additions ISO under /media (as an automounter
// would); the test's "Guest Additions" installer and "apt-get" are scripts that leave traces.

const INSTALLER = [
  '#!/bin/sh',
  'mkdir -p /opt/VBoxGuestAdditions-7.0.20 /usr/sbin',
  'echo "$@" > /opt/VBoxGuestAdditions-7.0.20/installed-with',
  'printf "#!/bin/sh\\n" > /usr/sbin/VBoxService && chmod 755 /usr/sbin/VBoxService',
  '',
].join('\n');
const APT = '#!/bin/sh\necho "apt-get $*" >> /var/log/apt.log\n';

async function additionsIso(folder: string): Promise<string> {
  const path = join(folder, 'VBoxGuestAdditions.iso');
  writeFileSync(
    path,
    await writeIso9660([{ path: 'VBoxLinuxAdditions.run', content: INSTALLER }], {
      volumeId: 'VBOX_GAS_7_0_20',
    }),
  );
  return path;
}

/** Builds a master on a fresh simulator; returns each step's outcome and message, and the guest runs. */
async function build(sim: (folder: string) => Promise<VboxSimulatorOptions>, family = 'linux') {
  const folder = mkdtempSync(join(tmpdir(), 'vmkit-ga-test-'));
  const env = await vboxTestEnv(await sim(folder));
  const provider = testProvider(env);
  const events: ProgressEvent[] = [];
  try {
    const spec = { ...(await isoMasterSpec(env, 'ga')), os: { family, version: 'test', arch: 'x86_64' } };
    const master = await runMasterBuild(provider, spec, 'ga', { onProgress: (e) => events.push(e) });
    const step = events.filter((e) => e.step === 'install-agent' && e.stepOutcome !== undefined).at(-1);
    const runs = simOf(env).guestRuns();
    const media = simOf(env)
      .machines()
      .flatMap((m) => m.media);
    // Read now: the guests' roots go with the simulator.
    const read = (path: string) =>
      runs.map((r) => join(r.root, path)).flatMap((p) => (existsSync(p) ? [readFileSync(p, 'utf8')] : []));
    const traces: Record<string, string[]> = {
      installed: read('opt/VBoxGuestAdditions-7.0.20/installed-with'),
      apt: read('var/log/apt.log'),
    };
    const files = (what: 'installed' | 'apt') => traces[what] ?? [];
    await provider.deleteMaster(master);
    return { outcome: step?.stepOutcome, message: step?.message ?? '', runs, media, files };
  } finally {
    await provider.close();
    await env.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

describe('VirtualBox install-agent (Guest Additions)', () => {
  it('installs the Guest Additions from the host ISO when the guest has a package manager', async () => {
    let iso = '';
    const r = await build(async (folder) => {
      iso = await additionsIso(folder);
      return { additionsIso: iso, behaviour: { guestFiles: { '/usr/bin/apt-get': APT } } };
    });
    expect(r.outcome).toBe('done');
    expect(r.runs.map((run) => run.instanceId)).toEqual(['vmkit-install-agent-ga']);
    expect(r.runs[0]?.calls.map((call) => call.command)).toEqual(['VBoxControl', 'poweroff']);
    expect(r.files('installed')).toEqual(['--nox11\n']);
    expect(r.files('apt')[0]).toMatch(
      /^apt-get update\napt-get install -y build-essential dkms bzip2 linux-headers-/,
    );
    // The ISO was attached for the boot only.
    expect(r.media).not.toContain(iso);
  });

  it('reports skipped, with the guest’s reason, when the guest has no package manager', async () => {
    const r = await build(async (folder) => ({ additionsIso: await additionsIso(folder) }));
    expect(r.outcome).toBe('skipped');
    expect(r.message).toMatch(/no package manager/);
    expect(r.files('installed')).toEqual([]);
  });

  it('reports skipped without booting when the host has no Guest Additions ISO or the guest is not Linux', async () => {
    const none = await build(async () => ({}));
    expect(none.outcome).toBe('skipped');
    expect(none.message).toMatch(
      /no Guest Additions ISO \(ISystemProperties\.defaultAdditionsISO is empty\)/,
    );
    expect(none.runs).toEqual([]);
    const windows = await build(async (folder) => ({ additionsIso: await additionsIso(folder) }), 'windows');
    expect(windows.outcome).toBe('skipped');
    expect(windows.message).toMatch(/for Linux guests \(os.family 'windows'\)/);
    expect(windows.runs).toEqual([]);
  });
});
