import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ComputeService } from '@vmkit/core';
import { VmkitError } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianDiskSpec, debianGuest } from '../../test-support/debian-guest.js';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../test-support/libvirt-compute.js';
import { leftovers } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';

// sharedFolders on real QEMU (TCG) with the Debian 12 guest, whose cloud kernel has virtiofs (and
// no 9p): a node reads a host file through a share and writes one back, a read-only share refuses
// the write inside the guest, the template's own user data still runs beside vmkit's mounts, a
// missing host path is refused before anything is made, and destroy leaves no virtiofsd behind.
// The master is the guest's disk as it is (family `linux`, no post-install: no build boot).

const run = promisify(execFile);
const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('shr');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-shares-'));
const rwDir = join(dir, 'rw');
const roDir = join(dir, 'ro');
/** About 70 s to SSH under TCG on an idle machine, minutes when the two cores are shared. */
const BOOT_MS = 400_000;

let t: LibvirtTestCompute;
let compute: ComputeService;

/** The virtiofsd processes serving a directory of this test. */
async function virtiofsdFor(hostDir: string): Promise<string[]> {
  const out = await run('pgrep', ['-a', '-f', `virtiofsd.*source=${hostDir}`]).catch(
    (e: { code?: number }) => {
      if (e.code === 1) return { stdout: '' };
      throw e;
    },
  );
  return out.stdout.split('\n').filter((l) => l.trim() !== '');
}

beforeAll(async () => {
  mkdirSync(rwDir);
  mkdirSync(roDir);
  // QEMU and virtiofsd run as root here, but the guest's writes keep the guest user's ids.
  chmodSync(rwDir, 0o777);
  const spec = debianDiskSpec('debian-shares', debianGuest(), 768);
  t = await libvirtTestCompute(prefix, [spec], {}, { credentials: true });
  compute = t.compute;
});

afterAll(async () => {
  await t?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('libvirt sharedFolders (virtiofs) with the Debian guest', () => {
  it('refuses a host path that is missing or not a directory, naming it, before anything is made', async () => {
    const missing = join(dir, 'no-such-dir');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    for (const [hostPath, why] of [
      [missing, 'does not exist'],
      [file, 'is not a directory'],
    ] as const) {
      const error = await compute
        .createNodesInGroup('nope', 1, {
          loginUser: 'debian',
          sharedFolders: [
            { hostPath: rwDir, guestPath: '/mnt/a' },
            { hostPath, guestPath: '/mnt/b' },
          ],
        })
        .catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as VmkitError).details.field).toBe('sharedFolders[1].hostPath');
      expect((error as Error).message).toContain(`${hostPath} ${why}`);
    }
    // Not even the master was built (its volume would carry the prefix).
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
  });

  it(
    'a node reads a host file through a share and writes one back; a read-only share refuses the write; destroy leaves no virtiofsd',
    async () => {
      const secret = `from the host ${Date.now()}`;
      writeFileSync(join(rwDir, 'in.txt'), secret);
      writeFileSync(join(roDir, 'keep.txt'), 'read only');
      const started = Date.now();
      const [node] = await compute.createNodesInGroup('shr', 1, {
        loginUser: 'debian',
        inboundPorts: [22],
        // The template's own user data: it still runs beside the mounts vmkit adds.
        userData: '#cloud-config\nruncmd:\n  - [sh, -c, "echo user data ran > /var/tmp/vmkit-user-data"]\n',
        sharedFolders: [
          { hostPath: rwDir, guestPath: '/mnt/host' },
          { hostPath: roDir, guestPath: '/srv/host ro', readOnly: true },
        ],
      });
      if (!node) throw new Error('no node');
      // libvirt started one virtiofsd per share (two processes each: the daemon and its sandbox).
      expect((await virtiofsdFor(rwDir)).length).toBeGreaterThan(0);
      expect((await virtiofsdFor(roDir)).length).toBeGreaterThan(0);
      await compute.waitForNode(node.id, { until: 'ssh', timeoutMs: BOOT_MS });
      console.info(`[shares] Debian node with two shares reached over SSH in ${Date.now() - started} ms`);
      const sh = (script: string) => compute.runScriptOnNode(node.id, script, { transport: 'ssh' });

      const read = await sh('cat /mnt/host/in.txt');
      expect([read.exitCode, read.stdout]).toEqual([0, secret]);
      const wrote = await sh('echo "from the guest $(hostname)" > /mnt/host/out.txt && sync');
      expect(wrote.exitCode).toBe(0);
      expect(readFileSync(join(rwDir, 'out.txt'), 'utf8')).toBe(`from the guest ${node.name}\n`);

      const ro = await sh(
        "cat '/srv/host ro/keep.txt'; echo; touch '/srv/host ro/written' && echo WROTE; findmnt -no FSTYPE,OPTIONS '/srv/host ro'",
      );
      expect(ro.stdout).toMatch(/^read only\n/);
      expect(ro.stdout).not.toContain('WROTE');
      expect(ro.stderr).toMatch(/Read-only file system/);
      expect(ro.stdout).toMatch(/^virtiofs\s+ro[,\s]/m);
      expect(existsSync(join(roDir, 'written'))).toBe(false);

      // cloud-init's final stage (the template's runcmd) ends by writing boot-finished.
      const userData = await sh(
        'timeout 300 sh -c "until [ -f /var/lib/cloud/instance/boot-finished ]; do sleep 1; done"; cat /var/tmp/vmkit-user-data',
      );
      expect(userData.stdout).toBe('user data ran\n');

      // The boothook runs at every boot: after a reboot both shares are mounted again.
      const AFTER =
        "cat /proc/sys/kernel/random/boot_id; cat /mnt/host/out.txt; findmnt -no FSTYPE,OPTIONS '/srv/host ro'";
      const [first] = (await sh(AFTER)).stdout.split('\n');
      // From inside: this guest has no D-Bus, so nothing there acts on the ACPI request of rebootNode.
      await sh('systemd-run --on-active=1 systemctl reboot');
      const deadline = Date.now() + BOOT_MS;
      // Waits on SSH (with its own growing pauses), then on the boot id: sshd may still answer
      // from the boot before, or not yet finish a handshake in the one after.
      let after: string[] = [];
      for (;;) {
        await compute.waitForNode(node.id, { until: 'ssh', timeoutMs: Math.max(1, deadline - Date.now()) });
        after = (await sh(AFTER).catch(() => undefined))?.stdout.split('\n') ?? [];
        if (after[0] !== undefined && after[0] !== '' && after[0] !== first) break;
        if (Date.now() > deadline) throw new Error('the node did not come back from its reboot');
      }
      expect(after[1]).toBe(`from the guest ${node.name}`);
      expect(after[2]).toMatch(/^virtiofs\s+ro[,\s]/);

      await compute.destroyNode(node.id);
      expect(await virtiofsdFor(rwDir)).toEqual([]);
      expect(await virtiofsdFor(roDir)).toEqual([]);
      const left = await leftovers(URI, prefix, POOL);
      expect(left.domains).toEqual([]);
      expect(left.volumes.filter((v) => !v.startsWith(`${prefix}m-`))).toEqual([]);
    },
    BOOT_MS + 120_000,
  );
});
