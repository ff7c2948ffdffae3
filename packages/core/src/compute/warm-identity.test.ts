import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  appendFile,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { GuestAgent } from '../spi/guest-agent.js';
import {
  entropyEscapes,
  parseSshProbe,
  resetWarmIdentity,
  SSH_PROBE_SCRIPT,
  WARM_IDENTITY_SCRIPT,
} from './warm-identity.js';

const exec = promisify(execFile);

/** Shells the script must run under (Debian's dash, busybox's ash), where this host has them. */
async function shells(): Promise<string[][]> {
  const found: string[][] = [];
  for (const shell of [['dash'], ['busybox', 'sh']]) {
    try {
      await exec('sh', ['-c', `command -v ${shell[0]}`]);
      found.push(shell);
    } catch {}
  }
  // Every test runs the script in at least one shell.
  expect(found.length).toBeGreaterThan(0);
  return found;
}

let root: string;

/**
 * The script with its guest paths moved under `root` (`/etc`, `/run`, the kernel's hostname) and
 * the drive's steps faked: `findfs` finds a device, `mount` copies `root/drive`, `umount` removes the copy.
 */
function rooted(script: string): string {
  return (
    script
      .replace('PATH=/usr/sbin:/usr/bin:/sbin:/bin', `PATH=${root}/bin:/usr/sbin:/usr/bin:/sbin:/bin`)
      .replaceAll('/etc/', `${root}/etc/`)
      .replaceAll('/sys/block/sr*', `${root}/sys/block/sr*`)
      .replaceAll('/dev/sr*', `${root}/dev/sr*`)
      .replaceAll('/run/', `${root}/run/`)
      .replace('/usr/lib/openssh/sshd-session', `${root}/usr/lib/openssh/sshd-session`)
      .replace('/proc/sys/kernel/hostname', `${root}/kernel-hostname`)
      .replaceAll('/dev/urandom', `${root}/urandom`)
      .replace('/sys/bus/acpi/drivers/vmgenid', `${root}/sys/vmgenid`)
      .replace('findfs "LABEL=$l"', 'echo /dev/fake-$l')
      .replace(/^ *mount -o ro -t iso9660 .*$/m, `cp -r ${root}/drive/. "$m"`)
      .replace('umount "$mnt" && rmdir "$mnt"', 'rm -rf "$mnt"')
      .replace('chown "$ids"', 'true')
      // Never the test host's own sshd: a restart through systemd is only noted.
      .replace('systemctl try-restart ssh.service sshd.service', `echo try-restart >>${root}/systemctl`)
  );
}

async function run(shell: string[], env: Record<string, string>) {
  const [cmd, ...args] = shell as [string, ...string[]];
  return exec(cmd, [...args, '-c', rooted(WARM_IDENTITY_SCRIPT)], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmkit-warm-identity-'));
  for (const d of ['etc/ssh', 'etc/sudoers.d', 'run', 'drive', 'home/debian/.ssh'])
    await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'etc/hosts'), '127.0.0.1 localhost\n127.0.1.1\ttemplate\n');
  await writeFile(join(root, 'etc/hostname'), 'template\n');
  await writeFile(join(root, 'etc/machine-id'), 'template-id\n');
  await writeFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), 'template key\n', { mode: 0o600 });
  await writeFile(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'ssh-ed25519 TEMPLATE\n');
  await writeFile(
    join(root, 'etc/sudoers.d/90-cloud-init-users'),
    '# made by cloud-init\ndebian ALL=(ALL) NOPASSWD:ALL\n',
  );
  await writeFile(
    join(root, 'etc/passwd'),
    `root:x:0:0::/root:/bin/sh\ndebian:x:1000:1000::${root}/home/debian:/bin/sh\n`,
  );
  await writeFile(
    join(root, 'home/debian/.ssh/authorized_keys'),
    'ssh-ed25519 TEMPLATEKEY vmkit-vmkit-warm\nssh-rsa OTHERKEY kept\n',
    { mode: 0o600 },
  );
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the warm identity script', () => {
  it('applies a NoCloud drive: hostname, hosts line, machine-id, host keys, keys, resume script', async () => {
    await writeFile(join(root, 'drive/meta-data'), 'instance-id: iid-7\r\nlocal-hostname: "web-1"\n');
    for (const shell of await shells()) {
      const { stdout } = await run(shell, {
        VMKIT_MACHINE_ID: '0123456789abcdef0123456789abcdef',
        VMKIT_HOST_KEY_ed25519: 'NEW PRIVATE',
        VMKIT_HOST_PUB_ed25519: 'ssh-ed25519 NEWPUB root@web-1',
        VMKIT_SSH_KEYS: 'ssh-ed25519 CLONEKEY clone',
        VMKIT_SSH_DROP_KEYS: 'ssh-ed25519 TEMPLATEKEY vmkit-vmkit-warm',
        VMKIT_RESUME:
          'echo "resumed $VMKIT_INSTANCE_ID $VMKIT_HOSTNAME $(cat $VMKIT_DRIVE/meta-data | wc -l)"',
      });
      expect(stdout).toContain('resumed iid-7 web-1 2');
      expect(stdout).toContain('VMKIT-WARM-IDENTITY instance-id=iid-7 hostname=web-1');
      expect(await readFile(join(root, 'kernel-hostname'), 'utf8')).toBe('web-1\n');
      expect(await readFile(join(root, 'etc/hostname'), 'utf8')).toBe('web-1\n');
      expect(await readFile(join(root, 'etc/hosts'), 'utf8')).toBe('127.0.0.1 localhost\n127.0.1.1 web-1\n');
      expect(await readFile(join(root, 'etc/machine-id'), 'utf8')).toBe('0123456789abcdef0123456789abcdef\n');
      expect(await readFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), 'utf8')).toBe('NEW PRIVATE\n');
      expect((await stat(join(root, 'etc/ssh/ssh_host_ed25519_key'))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')).toBe(
        'ssh-ed25519 NEWPUB root@web-1\n',
      );
      // Run twice (both shells): the clone's key is there once, the template's not at all.
      expect(await readFile(join(root, 'home/debian/.ssh/authorized_keys'), 'utf8')).toBe(
        'ssh-rsa OTHERKEY kept\nssh-ed25519 CLONEKEY clone\n',
      );
      // Rewritten in place: the file and its folder keep their modes.
      expect((await stat(join(root, 'home/debian/.ssh/authorized_keys'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(root, 'home/debian/.ssh'))).mode & 0o777).toBe(0o755);
    }
  });

  it('keeps authorised key lines with backslashes whole (dash echo reads \\c), and hides the host keys from the resume script', async () => {
    await writeFile(join(root, 'drive/meta-data'), 'instance-id: iid-8\n');
    const odd = String.raw`command="echo a\\b \c" ssh-ed25519 ODDKEY odd`;
    for (const shell of await shells()) {
      await writeFile(join(root, 'home/debian/.ssh/authorized_keys'), `${odd}\nssh-rsa OTHERKEY kept\n`);
      const { stdout } = await run(shell, {
        VMKIT_HOST_KEY_ed25519: 'SECRET PRIVATE',
        VMKIT_HOST_PUB_ed25519: 'ssh-ed25519 NEWPUB root@x',
        VMKIT_MACHINE_ID: 'fedcba9876543210fedcba9876543210',
        VMKIT_SSH_KEYS: 'ssh-ed25519 CLONEKEY clone',
        VMKIT_RESUME: 'env | grep -c "^VMKIT_HOST_\\|^VMKIT_MACHINE_ID" || true',
      });
      expect(await readFile(join(root, 'home/debian/.ssh/authorized_keys'), 'utf8')).toBe(
        `${odd}\nssh-rsa OTHERKEY kept\nssh-ed25519 CLONEKEY clone\n`,
      );
      expect(stdout.split('\n')[0]).toBe('0');
      expect(await readFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), 'utf8')).toBe('SECRET PRIVATE\n');
    }
  });

  it("reads an OpenStack drive's uuid and hostname, making the hostname one the kernel takes", async () => {
    await mkdir(join(root, 'drive/openstack/latest'), { recursive: true });
    await writeFile(
      join(root, 'drive/openstack/latest/meta_data.json'),
      '{"name": "x", "uuid": "u-123",\n "hostname": "my host!"}',
    );
    for (const shell of await shells()) {
      const { stdout } = await run(shell, {});
      expect(stdout).toContain('VMKIT-WARM-IDENTITY instance-id=u-123 hostname=my-host-');
    }
  });

  it('given its identity, host keys and no resume script, it mounts no drive and starts no program but sleep while sshd restarts', async () => {
    // Every program the script may start, wrapped to log its name before it runs the real one.
    const programs = ['blockdev', 'findfs', 'mount', 'umount', 'mkdir', 'rmdir', 'mv', 'chown', 'chmod'];
    programs.push('sed', 'tr', 'cut', 'sleep', 'ssh-keygen', 'hostname', 'rm', 'systemctl', 'cat', 'sync');
    await mkdir(join(root, 'bin'));
    for (const name of programs) {
      await writeFile(
        join(root, 'bin', name),
        `#!/bin/sh\necho ${name} >>${root}/started\nPATH=/usr/sbin:/usr/bin:/sbin:/bin exec ${name} "$@"\n`,
        { mode: 0o755 },
      );
    }
    // A running "sshd" that, as the guest's, takes SIGHUP as an order to start again, and writes its
    // pid file once it listens anew: here 0.4 s after the signal.
    const sshdProgram = join(root, 'sshd');
    await writeFile(
      sshdProgram,
      `#!/bin/sh\ntrap 'echo hup >>${root}/sshd.hup; sleep 0.4; echo $$ >${root}/run/sshd.pid' HUP\nwhile :; do sleep 0.05; done\n`,
      { mode: 0o755 },
    );
    // An empty drive: what is applied comes from the environment.
    for (const shell of await shells()) {
      await rm(join(root, 'sshd.hup'), { force: true });
      const sshd = spawn(sshdProgram, [], { stdio: 'ignore' });
      onTestFinished(() => {
        sshd.kill();
      });
      // Its name, as the script reads it.
      await expect.poll(() => readFile(`/proc/${sshd.pid}/comm`, 'utf8').catch(() => '')).toBe('sshd\n');
      await writeFile(join(root, 'run/sshd.pid'), `${sshd.pid}\n`);
      const started = performance.now();
      const { stdout } = await run(shell, {
        VMKIT_IDENTITY: '1',
        VMKIT_IDENTITY_INSTANCE: 'iid-given',
        VMKIT_IDENTITY_HOSTNAME: 'web-2',
        VMKIT_MACHINE_ID: '0123456789abcdef0123456789abcdef',
        VMKIT_HOST_KEY_ed25519: 'NEW PRIVATE',
        VMKIT_HOST_PUB_ed25519: 'ssh-ed25519 NEWPUB root@web-2',
        VMKIT_SSH_KEYS: 'ssh-ed25519 CLONEKEY clone',
        VMKIT_SSH_DROP_KEYS: 'ssh-ed25519 TEMPLATEKEY vmkit-vmkit-warm',
      });
      expect(stdout).toContain('VMKIT-WARM-IDENTITY instance-id=iid-given hostname=web-2');
      expect(await readFile(join(root, 'kernel-hostname'), 'utf8')).toBe('web-2\n');
      expect(await readFile(join(root, 'etc/hosts'), 'utf8')).toBe('127.0.0.1 localhost\n127.0.1.1 web-2\n');
      expect(await readFile(join(root, 'home/debian/.ssh/authorized_keys'), 'utf8')).toBe(
        'ssh-rsa OTHERKEY kept\nssh-ed25519 CLONEKEY clone\n',
      );
      // Rewritten in place: the file keeps its mode.
      expect((await stat(join(root, 'home/debian/.ssh/authorized_keys'))).mode & 0o777).toBe(0o600);
      // sshd was told once, and the script ended only after sshd had written its pid file again.
      expect(await readFile(join(root, 'sshd.hup'), 'utf8')).toBe('hup\n');
      expect(await readFile(join(root, 'run/sshd.pid'), 'utf8')).toBe(`${sshd.pid}\n`);
      expect(performance.now() - started).toBeGreaterThanOrEqual(400);
      sshd.kill();
    }
    // The only program started is sleep, while sshd restarts.
    const ran = await readFile(join(root, 'started'), 'utf8').catch(() => '');
    expect(ran.split('\n').filter((p) => p && p !== 'sleep')).toEqual([]);
  });

  it('leaves alone an sshd that reads its host keys for each connection', async () => {
    const sshdProgram = join(root, 'sshd');
    await writeFile(
      sshdProgram,
      `#!/bin/sh\ntrap 'echo hup >>${root}/sshd.hup; echo $$ >${root}/run/sshd.pid' HUP\nwhile :; do sleep 0.05; done\n`,
      {
        mode: 0o755,
      },
    );
    const rereads = {
      VMKIT_IDENTITY: '1',
      VMKIT_IDENTITY_INSTANCE: 'iid-1',
      VMKIT_HOST_KEY_ed25519: 'NEW PRIVATE',
      VMKIT_HOST_PUB_ed25519: 'ssh-ed25519 NEWPUB',
      VMKIT_SSHD_REREADS: '1',
    };
    for (const shell of await shells()) {
      const sshd = spawn(sshdProgram, [], { stdio: 'ignore' });
      onTestFinished(() => {
        sshd.kill();
      });
      await expect.poll(() => readFile(`/proc/${sshd.pid}/comm`, 'utf8').catch(() => '')).toBe('sshd\n');
      await writeFile(join(root, 'run/sshd.pid'), `${sshd.pid}\n`);
      await run(shell, rereads);
      // The keys are written; sshd is not signalled and its pid file is as it was.
      expect(await readFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), 'utf8')).toBe('NEW PRIVATE\n');
      await new Promise((r) => setTimeout(r, 200));
      await expect(readFile(join(root, 'sshd.hup'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readFile(join(root, 'run/sshd.pid'), 'utf8')).toBe(`${sshd.pid}\n`);
      // Where OpenSSH 9.8's sshd-session is found, the record's word is not taken: sshd is told.
      await mkdir(join(root, 'usr/lib/openssh'), { recursive: true });
      await writeFile(join(root, 'usr/lib/openssh/sshd-session'), '');
      await run(shell, rereads);
      await expect.poll(() => readFile(join(root, 'sshd.hup'), 'utf8').catch(() => '')).toBe('hup\n');
      await rm(join(root, 'usr'), { recursive: true });
      await rm(join(root, 'sshd.hup'));
      sshd.kill();
    }
  });

  it('does not wait for an sshd that ended on the signal', async () => {
    // An "sshd" that dies of SIGHUP: the script must not wait 10 s for its pid file.
    const sshdProgram = join(root, 'sshd');
    await writeFile(sshdProgram, '#!/bin/sh\nwhile :; do sleep 0.05; done\n', { mode: 0o755 });
    for (const shell of await shells()) {
      const sshd = spawn(sshdProgram, [], { stdio: 'ignore' });
      onTestFinished(() => {
        sshd.kill();
      });
      const ended = new Promise<NodeJS.Signals | null>((resolve) =>
        sshd.once('exit', (_code, signal) => resolve(signal)),
      );
      await expect.poll(() => readFile(`/proc/${sshd.pid}/comm`, 'utf8').catch(() => '')).toBe('sshd\n');
      await writeFile(join(root, 'run/sshd.pid'), `${sshd.pid}\n`);
      const started = performance.now();
      await run(shell, {
        VMKIT_IDENTITY: '1',
        VMKIT_IDENTITY_INSTANCE: 'iid-1',
        VMKIT_HOST_KEY_ed25519: 'K',
        VMKIT_HOST_PUB_ed25519: 'ssh-ed25519 P',
      });
      expect(await ended).toBe('SIGHUP');
      expect(performance.now() - started).toBeLessThan(5000);
      // The pid file is left empty: no process of that pid is sshd any more.
      expect(await readFile(join(root, 'run/sshd.pid'), 'utf8')).toBe('');
    }
  });

  it('without an authorised keys file, makes one for the user: mode 0600 in a 0700 folder', async () => {
    await writeFile(join(root, 'drive/meta-data'), 'instance-id: iid-9\n');
    await rm(join(root, 'home/debian/.ssh'), { recursive: true });
    for (const shell of await shells()) {
      await run(shell, { VMKIT_SSH_KEYS: 'ssh-ed25519 CLONEKEY clone' });
      expect(await readFile(join(root, 'home/debian/.ssh/authorized_keys'), 'utf8')).toBe(
        'ssh-ed25519 CLONEKEY clone\n',
      );
      expect((await stat(join(root, 'home/debian/.ssh/authorized_keys'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(root, 'home/debian/.ssh'))).mode & 0o777).toBe(0o700);
    }
  });

  it('refuses an authorized_keys or .ssh that is a link, writing nothing through it', async () => {
    await writeFile(join(root, 'drive/meta-data'), 'instance-id: i\n');
    await writeFile(join(root, 'target'), 'untouched\n');
    await rm(join(root, 'home/debian/.ssh/authorized_keys'));
    await symlink(join(root, 'target'), join(root, 'home/debian/.ssh/authorized_keys'));
    for (const shell of await shells()) {
      const failed = run(shell, { VMKIT_SSH_KEYS: 'ssh-ed25519 K c' });
      await expect(failed).rejects.toMatchObject({ code: 6 });
      await expect(failed).rejects.toThrow(/is a link/);
      expect(await readFile(join(root, 'target'), 'utf8')).toBe('untouched\n');
    }
  });

  it('drops a key given with options by its key material, keeping other keys of its type', async () => {
    await writeFile(join(root, 'drive/meta-data'), 'instance-id: i\n');
    await writeFile(
      join(root, 'home/debian/.ssh/authorized_keys'),
      'no-pty ssh-ed25519 TEMPLATEKEY t\nssh-ed25519 OTHERKEY kept\n',
      { mode: 0o600 },
    );
    for (const shell of await shells()) {
      await run(shell, {
        VMKIT_SSH_DROP_KEYS: 'no-pty ssh-ed25519 TEMPLATEKEY t',
        VMKIT_SSH_KEYS: 'ssh-ed25519 CLONEKEY clone',
      });
      expect(await readFile(join(root, 'home/debian/.ssh/authorized_keys'), 'utf8')).toBe(
        'ssh-ed25519 OTHERKEY kept\nssh-ed25519 CLONEKEY clone\n',
      );
    }
  });

  it('fails naming a login user the guest does not have', async () => {
    await writeFile(join(root, 'drive/meta-data'), 'instance-id: i\n');
    for (const shell of await shells()) {
      const failed = run(shell, { VMKIT_SSH_USER: 'nosuchuser', VMKIT_SSH_KEYS: 'ssh-ed25519 K c' });
      await expect(failed).rejects.toMatchObject({ code: 5 });
      await expect(failed).rejects.toThrow(/no user nosuchuser for the SSH keys/);
    }
  });
});

describe('resetWarmIdentity', () => {
  describe("the clone's random number generator", () => {
    /** A stand-in for `name` in the script's PATH: notes its arguments, then exits `code`. */
    async function standIn(name: string, code: number) {
      await mkdir(join(root, 'bin'), { recursive: true });
      await writeFile(join(root, 'bin', name), `#!/bin/sh\necho "${name} $*" >>${root}/ran\nexit ${code}\n`, {
        mode: 0o755,
      });
    }
    const decoded = (escapes: string) =>
      Buffer.from(
        escapes
          .split('\\')
          .slice(1)
          .map((o) => Number.parseInt(o, 8)),
      );
    const ran = async () => readFile(join(root, 'ran'), 'utf8').catch(() => '');

    it('writes the host bytes to /dev/urandom first, then has perl reseed it (RNDRESEEDCRNG)', async () => {
      await standIn('perl', 0);
      await standIn('python3', 0);
      for (const shell of await shells()) {
        await rm(join(root, 'urandom'), { force: true });
        await rm(join(root, 'ran'), { force: true });
        const entropy = entropyEscapes(64);
        const { stdout } = await run(shell, { VMKIT_ENTROPY: entropy, VMKIT_IDENTITY: '1' });
        expect(stdout).toMatch(/rng=perl$/m);
        expect(await readFile(join(root, 'urandom'))).toEqual(decoded(entropy));
        expect(await ran()).toMatch(/^perl -e .*open\(my \$f, ">", ".*\/urandom"\).*ioctl\(\$f, 0x5207, 0\)/);
        expect(await ran()).not.toContain('python3');
      }
    });

    it('falls back to python3, and says none (still writing the bytes) when neither can', async () => {
      await standIn('perl', 1);
      await standIn('python3', 0);
      for (const shell of await shells()) {
        const { stdout } = await run(shell, { VMKIT_ENTROPY: entropyEscapes(16), VMKIT_IDENTITY: '1' });
        expect(stdout).toMatch(/rng=python3$/m);
      }
      expect(await ran()).toMatch(
        /^python3 -c import fcntl, os; fcntl\.ioctl\(os\.open\(".*\/urandom", os\.O_WRONLY\), 0x5207\)$/m,
      );
      await standIn('python3', 1);
      for (const shell of await shells()) {
        await rm(join(root, 'urandom'), { force: true });
        const { stdout } = await run(shell, { VMKIT_ENTROPY: entropyEscapes(16), VMKIT_IDENTITY: '1' });
        expect(stdout).toMatch(/rng=none$/m);
        expect((await readFile(join(root, 'urandom'))).length).toBe(16);
      }
    });

    it('starts no program where a device of the VM generation id driver reseeded the kernel at the resume', async () => {
      await standIn('perl', 0);
      // The driver without a device (a kernel with it, a machine without one): not reseeded by it.
      await mkdir(join(root, 'sys/vmgenid'), { recursive: true });
      for (const shell of await shells()) {
        const { stdout } = await run(shell, { VMKIT_ENTROPY: entropyEscapes(8), VMKIT_IDENTITY: '1' });
        expect(stdout).toMatch(/rng=perl$/m);
      }
      await rm(join(root, 'ran'));
      await mkdir(join(root, 'sys/vmgenid/QEMUVGID:00'));
      for (const shell of await shells()) {
        const { stdout } = await run(shell, { VMKIT_ENTROPY: entropyEscapes(8), VMKIT_IDENTITY: '1' });
        expect(stdout).toMatch(/rng=vmgenid$/m);
      }
      expect(await ran()).toBe('');
    });

    it("the script's perl program runs in the real perl: it reseeds /dev/urandom (as root), and fails cleanly on anything else", async () => {
      const program = /perl -e '([^']+)'/.exec(WARM_IDENTITY_SCRIPT)?.[1] ?? '';
      expect(program).toContain('0x5207');
      try {
        await exec('sh', ['-c', 'command -v perl']);
      } catch {
        return; // no perl on this host: the stand-in tests above still hold
      }
      await writeFile(join(root, 'not-a-device'), '');
      const onFile = await exec('perl', [
        '-e',
        program.replace('/dev/urandom', join(root, 'not-a-device')),
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      // exit 1 from the failed ioctl (ENOTTY), not perl dying on the program.
      expect(onFile).toEqual(expect.objectContaining({ code: 1, stderr: '' }));
      if (process.getuid?.() === 0) await exec('perl', ['-e', program]);
    });

    it('gives each run fresh bytes, none of them zero', () => {
      const a = decoded(entropyEscapes(64));
      expect(a).toHaveLength(64);
      expect(a.includes(0)).toBe(false);
      expect(decoded(entropyEscapes(64))).not.toEqual(a);
    });
  });

  it("gives the script the clone's identity from its drive, so the guest need not mount it", async () => {
    let env: readonly string[] = [];
    const agent = {
      maxChunkBytes: 1,
      captureOutputBytes: 1000,
      async spawn(request: { env?: readonly string[] }) {
        env = request.env ?? [];
        return 7;
      },
      async processStatus() {
        return {
          exited: true,
          exitCode: 0,
          stdout: new TextEncoder().encode('VMKIT-WARM-IDENTITY instance-id=i-abc hostname=web-3 rng=perl\n'),
        };
      },
    } as unknown as GuestAgent;
    expect(
      await resetWarmIdentity(agent, 'web-3', { identity: { instanceId: 'i-abc', hostname: 'web-3' } }),
    ).toEqual({ rng: 'perl' });
    // Fresh bytes for the clone's random number generator, as printf escapes, none zero.
    expect(env.find((e) => e.startsWith('VMKIT_ENTROPY='))).toMatch(/^VMKIT_ENTROPY=(\\[0-3][0-7]{2}){64}$/);
    expect(env).toEqual(
      expect.arrayContaining([
        'VMKIT_IDENTITY=1',
        'VMKIT_IDENTITY_INSTANCE=i-abc',
        'VMKIT_IDENTITY_HOSTNAME=web-3',
      ]),
    );
    await resetWarmIdentity(agent, 'web-3', {});
    expect(env.some((e) => e.startsWith('VMKIT_IDENTITY'))).toBe(false);
  });
});

describe('the SSH probe of a warm template', () => {
  it('reads OpenSSH versions: before 9.8 sshd reads the host keys for each connection', () => {
    const keys = '/etc/ssh/ssh_host_rsa_key\n/etc/ssh/ssh_host_ed25519_key\n';
    expect(parseSshProbe(`${keys}sshd-version=OpenSSH_9.2p1\n`)).toEqual({
      hostKeyTypes: ['rsa', 'ed25519'],
      sshdRereadsHostKeys: true,
    });
    expect(parseSshProbe('sshd-version=OpenSSH_8.4p1\n').sshdRereadsHostKeys).toBe(true);
    expect(parseSshProbe('sshd-version=OpenSSH_9.7p1\n').sshdRereadsHostKeys).toBe(true);
    expect(parseSshProbe('sshd-version=OpenSSH_9.8p1\n').sshdRereadsHostKeys).toBe(false);
    expect(parseSshProbe('sshd-version=OpenSSH_10.0p2\n').sshdRereadsHostKeys).toBe(false);
    // A compatibility pattern is not a release; OpenBSD's own release (no p part) is not placed.
    expect(parseSshProbe('sshd-version=OpenSSH_3.0\n').sshdRereadsHostKeys).toBe(false);
    // No version found (not OpenSSH, started with -r, no sshd): restarted, as always safe.
    expect(parseSshProbe(keys)).toEqual({ hostKeyTypes: ['rsa', 'ed25519'], sshdRereadsHostKeys: false });
    expect(parseSshProbe('sshd-version=OpenSSH_9.2p1 extra\n').sshdRereadsHostKeys).toBe(false);
  });

  it("finds the running sshd's version in its program, unless it runs with -r", async () => {
    // A program named sshd (a copy of dash or busybox holding an OpenSSH version string) that stays up.
    const shell = (await shells())[0] as string[];
    const found = execFileSync('sh', ['-c', `command -v ${shell[0]}`], { encoding: 'utf8' }).trim();
    const sshdProgram = join(root, 'sshd');
    await copyFile(found, sshdProgram);
    // sshd's compatibility table holds version patterns too; the release comes after them here.
    await appendFile(
      sshdProgram,
      '\0OpenSSH_2.*,OpenSSH_3.0*\0OpenSSH_6.6.1*\0OpenSSH_9.2p1 Debian-2+deb12u10\0',
    );
    const probe = async (args: string[]) => {
      const base = shell.length > 1 ? shell.slice(1) : [];
      const sshd = spawn(sshdProgram, [...base, '-c', 'sleep 30; :', 'sshd', ...args], { stdio: 'ignore' });
      onTestFinished(() => {
        sshd.kill();
      });
      await expect.poll(() => readFile(`/proc/${sshd.pid}/comm`, 'utf8').catch(() => '')).toBe('sshd\n');
      await writeFile(join(root, 'run/sshd.pid'), `${sshd.pid}\n`);
      const [cmd, ...rest] = shell as [string, ...string[]];
      const { stdout } = await exec(cmd, [...rest, '-c', rooted(SSH_PROBE_SCRIPT)]);
      sshd.kill();
      return stdout.replaceAll(root, '');
    };
    expect(await probe([])).toBe('/etc/ssh/ssh_host_ed25519_key\nsshd-version=OpenSSH_9.2p1\n');
    expect(parseSshProbe(await probe(['-D', '-r'])).sshdRereadsHostKeys).toBe(false);
  });
});
