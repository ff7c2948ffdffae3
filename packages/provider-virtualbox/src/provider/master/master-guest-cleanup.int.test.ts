import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressEvent } from '@vmkit/core';
import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, describe, expect } from 'vitest';
import { loggedStep } from '../../../test-support/post-install-check.js';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';
import { POST_INSTALL_PROPERTY, POST_INSTALL_REPORT_PROPERTY } from './post-install-script.js';

// What the guest clean-up removes (as on libvirt): planted in every simulated guest's root, as if
// the installer had left them on the master's disk. Two files it must leave alone are planted too.
const REMOVED = [
  '/etc/udev/rules.d/70-persistent-net.rules',
  '/etc/udev/rules.d/70-persistent-cd.rules',
  '/var/lib/dhcp/dhclient.eth0.leases',
  '/var/lib/NetworkManager/internal-eth0.lease',
  '/var/lib/dbus/machine-id',
  '/etc/ssh/ssh_host_ed25519_key',
  '/etc/ssh/ssh_host_ed25519_key.pub',
];
const KEPT = ['/etc/ssh/sshd_config', '/etc/udev/rules.d/99-local.rules'];
const GUEST_FILES: Record<string, string> = {
  ...Object.fromEntries([...REMOVED, ...KEPT].map((p) => [p, `planted ${p}\n`])),
  '/etc/machine-id': '0123456789abcdef0123456789abcdef\n',
  '/etc/hostname': 'build-host\n',
};

/** Each step's outcome (on its last event) and the message it reported before, from a build's progress events. */
function outcomes(events: readonly ProgressEvent[]): Record<string, string> {
  const said = new Map<string, string>();
  const out: Record<string, string> = {};
  for (const e of events) {
    if (e.step === undefined) continue;
    if (e.stepOutcome === undefined) said.set(e.step, e.message);
    else out[e.step] = `${e.stepOutcome}: ${said.get(e.step) ?? e.message}`;
  }
  return out;
}

const envs: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const env of envs) await env.close();
});

/** Builds a master whose one step leaves a DHCP lease, in a simulator planting {@link GUEST_FILES}. */
async function buildWithPlantedGuest(guestAdditions: boolean) {
  const env = await vboxTestEnv({ behaviour: { guestFiles: GUEST_FILES, guestAdditions } });
  envs.push(env);
  const provider = testProvider(env);
  const spec = {
    ...(await isoMasterSpec(env, `vbox-cleanup-${guestAdditions}`)),
    postInstall: [loggedStep('lease', 'echo lease > /var/lib/dhcp/dhclient.leases')],
  };
  const events: ProgressEvent[] = [];
  const ref = await runMasterBuild(provider, spec, `cleanup-${guestAdditions}`, {
    onProgress: (e) => events.push(e),
  });
  const [run, ...more] = simOf(env)
    .guestRuns()
    .filter((r) => r.machine === ref.id);
  expect(more).toEqual([]);
  const root = run?.root ?? '';
  await provider.deleteMaster(ref);
  await provider.close();
  return { events, run, root, sim: simOf(env) };
}

describe('VirtualBox guest clean-up in the post-install boot', () => {
  itOnSimulator(
    'removes persistent NIC rules, leases, SSH host keys and the machine id in the guest, resets its host name, and reports clean-udev-rules and reset-identity done with the paths',
    async () => {
      const { events, run, root, sim } = await buildWithPlantedGuest(true);
      const steps = outcomes(events);
      expect(steps['clean-udev-rules']).toBe(
        'done: clean-udev-rules: /etc/udev/rules.d/70-persistent-net.rules, /etc/udev/rules.d/70-persistent-cd.rules, ' +
          '/var/lib/dhcp/dhclient.eth0.leases, /var/lib/dhcp/dhclient.leases, /var/lib/NetworkManager/internal-eth0.lease',
      );
      expect(steps['reset-identity']).toBe(
        'done: reset-identity: /etc/machine-id, /var/lib/dbus/machine-id, /etc/ssh/ssh_host_ed25519_key, ' +
          '/etc/ssh/ssh_host_ed25519_key.pub, /etc/hostname',
      );
      expect(steps['post-install']).toMatch(/^done: /);
      // What the guest's root holds once the master powered off.
      for (const path of [...REMOVED, '/var/lib/dhcp/dhclient.leases'])
        expect(existsSync(join(root, path)), `${path} is still there`).toBe(false);
      expect(readFileSync(join(root, 'etc/machine-id'), 'utf8')).toBe('');
      expect(readFileSync(join(root, 'etc/hostname'), 'utf8')).toBe('localhost\n');
      for (const path of KEPT) expect(readFileSync(join(root, path), 'utf8')).toBe(`planted ${path}\n`);
      // The guest reported through guest additions: the clean-up's lines, then ok, then powered off.
      expect(run?.calls.map((c) => [c.command, ...c.args].join(' '))).toEqual([
        `VBoxControl --nologo guestproperty set ${POST_INSTALL_REPORT_PROPERTY} ${[
          '/etc/udev/rules.d/70-persistent-net.rules',
          '/etc/udev/rules.d/70-persistent-cd.rules',
          '/var/lib/dhcp/dhclient.eth0.leases',
          '/var/lib/dhcp/dhclient.leases',
          '/var/lib/NetworkManager/internal-eth0.lease',
        ]
          .map((p) => `VMKIT-CLEANED clean-udev-rules ${p}\n`)
          .join('')}${[
          '/etc/machine-id',
          '/var/lib/dbus/machine-id',
          '/etc/ssh/ssh_host_ed25519_key',
          '/etc/ssh/ssh_host_ed25519_key.pub',
          '/etc/hostname',
        ]
          .map((p) => `VMKIT-CLEANED reset-identity ${p}`)
          .join('\n')}`,
        `VBoxControl --nologo guestproperty set ${POST_INSTALL_PROPERTY} ok`,
        'poweroff',
      ]);
      expect(sim.rejections).toEqual([]);
    },
  );

  itOnSimulator(
    'without guest additions the clean-up still runs in the guest; both steps report done, saying the guest could not tell what it removed',
    async () => {
      const { events, run, root } = await buildWithPlantedGuest(false);
      const steps = outcomes(events);
      for (const step of ['clean-udev-rules', 'reset-identity'])
        expect(steps[step]).toBe(
          `done: ${step}: ran in the post-install boot (the guest could not report what it removed)`,
        );
      for (const path of REMOVED) expect(existsSync(join(root, path)), `${path} is still there`).toBe(false);
      expect(readFileSync(join(root, 'etc/machine-id'), 'utf8')).toBe('');
      expect(run?.calls.map((c) => c.command)).toEqual(['poweroff']);
    },
  );
});
