import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianGuest, debianWarmSpec } from '../../../test-support/debian-guest.js';
import { leftovers, sweep } from '../../../test-support/libvirt-sweep.js';
import { keyOf, makeSshKeys, type SshKeys, sshBannerOnce, waitForSsh } from '../../../test-support/ssh.js';
import { runPrefix } from '../../../test-support/test-guest.js';
import { libvirtProvider } from '../libvirt-provider.js';

// The Debian proof: two warm clones of the Debian test guest (systemd, cloud-init,
// OpenSSH) reached over SSH with the key of the call (not the template's), each with its own
// machine-id, host key, hostname and random state, and the host's time. The master is built once
// (its post-install boot installs the guest agent), the template boots once; the clones resume.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('wdeb');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-warm-debian-'));
/** One Debian boot under TCG: about 70 s idle, minutes on a busy two-core host. */
const BOOT_TIMEOUT_MS = 420_000;

/**
 * A unit the master gets at build: at every boot, after cloud-init's init stage (hostname, host
 * keys) and before sshd, it records the guest's identity. The template writes it at its boot; a
 * resumed clone does not boot, so it still holds the template's identity, which its own must differ from.
 */
const RECORD_BOOT_IDENTITY = `mkdir -p /var/lib/vmkit-test
cat >/etc/systemd/system/vmkit-boot-identity.service <<'EOF'
[Unit]
After=cloud-init.service
Before=ssh.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c '{ cat /etc/machine-id; cat /etc/ssh/ssh_host_ed25519_key.pub; hostname; } >/var/lib/vmkit-test/boot-identity; chmod 0644 /var/lib/vmkit-test/boot-identity'
[Install]
WantedBy=multi-user.target
EOF
systemctl enable vmkit-boot-identity.service`;

/** What a clone prints over SSH, one value a line. */
const PROBE = [
  'cat /etc/machine-id',
  'cat /etc/ssh/ssh_host_ed25519_key.pub',
  'hostname',
  "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo",
  'date +%s.%N',
  'cat ~/.ssh/authorized_keys | wc -l',
  'grep -c vmkit-vmkit-warm ~/.ssh/authorized_keys || true',
  'cat /var/lib/vmkit-test/boot-identity',
].join('; ');

describe('warm clones of the Debian guest on qemu:///system', () => {
  let compute: ComputeService;
  let keys: SshKeys;

  beforeAll(async () => {
    const guest = debianGuest();
    keys = await makeSshKeys();
    const spec = debianWarmSpec('debian-warm', guest, BOOT_TIMEOUT_MS, [
      { name: 'record-boot-identity', run: RECORD_BOOT_IDENTITY },
    ]);
    compute = await createComputeService({
      provider: libvirtProvider({
        uri: URI,
        pool: POOL,
        namePrefix: prefix,
        postInstallTimeoutMs: BOOT_TIMEOUT_MS,
      }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
      // The template's drive authorises the vmkit-warm group's key; the clones must not keep it.
      credentials: { directory: join(dir, 'credentials') },
    });
  });

  afterAll(async () => {
    await compute?.close();
    await keys?.dispose();
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "2 warm clones answer SSH with the call's key, each with its own machine-id, host key, hostname and random bytes, on the host's time",
    async () => {
      const t0 = Date.now();
      await compute.ensureImage('debian-warm');
      const t1 = Date.now();
      const nodes = await compute.createNodesInGroup(
        'wdeb',
        2,
        { inboundPorts: [22], authorizePublicKey: keys.publicKey },
        { warm: true },
      );
      const t2 = Date.now();
      // The template's sshd (OpenSSH 9.2) reads its host keys for each connection, as the probe
      // found and the record keeps: the clones' sshd was left running (and served the clones' own
      // host keys all the same, checked below).
      const store = fileSystemBlobStore({ root: join(dir, 'store') });
      const recordName = (await store.list('vmkit-images')).items
        .map((i) => i.name)
        .find((n) => n.endsWith('/debian-warm.json'));
      const blob = await store.getBlob('vmkit-images', recordName ?? 'missing');
      const record = JSON.parse((await blob?.text()) ?? '{}');
      expect(record.warm.sshdRereadsHostKeys).toBe(true);
      // Each sshd listens when the call returns: the first connection is greeted, not reset (the
      // first version signalled this sshd, whose port then refused connections while it restarted).
      for (const node of nodes)
        expect(await sshBannerOnce(node.hostPorts['tcp-22'] as number)).toMatch(/^SSH-2\.0-/);
      const seen = await Promise.all(
        nodes.map(async (node) => {
          expect(node.warm).toEqual({ resumed: true });
          const before = Date.now() / 1000;
          const r = await waitForSsh(keys, node.hostPorts['tcp-22'] as number, 'debian', PROBE, 120_000);
          const after = Date.now() / 1000;
          const [machineId, hostKey, hostname, random, date, keyCount, templateKeys, ...template] = r.stdout
            .trim()
            .split('\n');
          return {
            node,
            r,
            machineId,
            hostKey,
            hostname,
            random,
            date: Number(date),
            before,
            after,
            keyCount,
            templateKeys,
            template,
          };
        }),
      );
      console.info(
        `Debian warm: master ${t1 - t0} ms, template + 2 clones ${t2 - t1} ms, SSH after ${seen.map((s) => Math.round(s.r.ms)).join(', ')} ms`,
      );
      const [a, b] = seen;
      if (!a || !b) throw new Error('two nodes expected');
      for (const s of seen) {
        const [templateMachineId, templateHostKey, templateHostname] = s.template;
        expect(s.machineId).toMatch(/^[0-9a-f]{32}$/);
        expect(templateMachineId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.machineId).not.toBe(templateMachineId);
        expect(keyOf(s.hostKey)).toMatch(/^ssh-ed25519 \S+$/);
        expect(keyOf(s.hostKey)).not.toBe(keyOf(templateHostKey));
        // The server presented the clone's new key: sshd 9.2, left running, read it for this connection.
        expect(s.r.hostKey).toBe(keyOf(s.hostKey));
        expect(s.hostname).toBe(s.node.name);
        expect(templateHostname).toMatch(/^warm-[0-9a-f]{12}$/);
        expect(s.random).toMatch(/^[0-9a-f]{64}$/);
        // The guest's clock was set to the host's on resume (the template's stopped at its save):
        // read during the SSH call, it lies between the host's clock before and after it.
        expect(s.date).toBeGreaterThanOrEqual(s.before - 0.5);
        expect(s.date).toBeLessThanOrEqual(s.after + 0.5);
        // Reached with the call's key; the template's (vmkit-warm group key) is no longer authorised.
        expect(s.templateKeys).toBe('0');
      }
      // Both resumed the same template ...
      expect(a.template).toEqual(b.template);
      // ... yet each has its own identity and random state.
      expect(a.machineId).not.toBe(b.machineId);
      expect(keyOf(a.hostKey)).not.toBe(keyOf(b.hostKey));
      expect(a.hostname).not.toBe(b.hostname);
      expect(a.random).not.toBe(b.random);

      await compute.destroyNodesMatching((n) => n.group === 'wdeb');
      await compute.deleteImage('debian-warm');
      expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
    },
    3 * BOOT_TIMEOUT_MS,
  );
});
