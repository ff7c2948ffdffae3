import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent, GuestProcessStatus } from '../spi/guest-agent.js';
import { WARM_ZERO_MEMORY_SCRIPT, zeroFreeGuestMemory } from './warm-memory.js';

const exec = promisify(execFile);

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmkit-warm-memory-'));
  await mkdir(join(root, 'run'));
  await writeFile(join(root, 'min_free_kbytes'), '1000\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The script with the guest's files under `root`, and the tmpfs mount a plain folder. */
async function run(memFreeKiB: number, mounts = true): Promise<string> {
  await writeFile(
    join(root, 'meminfo'),
    `MemTotal: 250000 kB\nMemFree: ${memFreeKiB} kB\nMemAvailable: 1 kB\n`,
  );
  const script = WARM_ZERO_MEMORY_SCRIPT.replace('/proc/meminfo', join(root, 'meminfo'))
    .replace('/proc/sys/vm/min_free_kbytes', join(root, 'min_free_kbytes'))
    .replace('/run/', `${root}/run/`)
    .replace(/mount -t tmpfs [^;]*2>\/dev\/null/, mounts ? 'true' : 'false')
    .replace('umount "$d"', `ls "$d" >${root}/left`);
  const { stdout } = await exec('sh', ['-c', script]);
  return stdout.trim();
}

describe('zeroing a warm template free memory', () => {
  it('fills a private folder with zeros up to the free memory less the margin, then empties and removes it', async () => {
    // (20000 - 3 * 1000 - 4096) KiB = 12 MiB.
    expect(await run(20_000)).toBe('VMKIT-WARM-ZERO 12');
    expect(await readdir(join(root, 'run'))).toEqual([]);
  });

  it('zeroes nothing when the free memory is within the margin, or the mount fails', async () => {
    expect(await run(7000)).toBe('VMKIT-WARM-ZERO 0');
    expect(await run(20_000, false)).toBe('VMKIT-WARM-ZERO 0');
    expect(await readdir(join(root, 'run'))).toEqual([]);
  });

  it('waits for the script to end, and names the node when it fails', async () => {
    const statuses: GuestProcessStatus[] = [{ exited: false }, { exited: true, exitCode: 0 }];
    const calls: string[] = [];
    const agent = (next: () => GuestProcessStatus): GuestAgent => ({
      maxChunkBytes: 1024,
      ping: async () => {},
      spawn: async (request) => {
        calls.push(request.args[1] ?? '');
        return 7;
      },
      processStatus: async () => next(),
      openFile: async () => 1,
      readFile: async () => ({ data: new Uint8Array(), eof: true }),
      writeFile: async () => {},
      closeFile: async () => {},
      networkInterfaces: async () => [],
    });
    await zeroFreeGuestMemory(
      agent(() => statuses.shift() as GuestProcessStatus),
      'tpl',
    );
    expect(statuses).toEqual([]);
    expect(calls).toEqual([WARM_ZERO_MEMORY_SCRIPT]);
    const failed = await zeroFreeGuestMemory(
      agent(() => ({ exited: true, exitCode: 2 })),
      'tpl',
    ).catch((e: unknown) => e);
    expect(VmkitError.is(failed, 'PROVIDER')).toBe(true);
    expect((failed as VmkitError).details.node).toBe('tpl');
  });

  it('stops a filling that runs too long (kills its dd by the pid the script wrote) and goes on; TIMEOUT only if the script then does not end', async () => {
    const spawned: string[] = [];
    let exitAfterStop = true;
    const agent: GuestAgent = {
      maxChunkBytes: 1024,
      ping: async () => {},
      spawn: async (request) => {
        spawned.push(request.args[1] ?? '');
        return spawned.length === 1 ? 41 : 42;
      },
      // Runs until the stop was sent (then ends at once when `exitAfterStop`).
      processStatus: async () =>
        spawned.length > 1 && exitAfterStop ? { exited: true, exitCode: 0 } : { exited: false },
      openFile: async () => 1,
      readFile: async () => ({ data: new Uint8Array(), eof: true }),
      writeFile: async () => {},
      closeFile: async () => {},
      networkInterfaces: async () => [],
    };
    await zeroFreeGuestMemory(agent, 'tpl', undefined, { fillMs: 0, graceMs: 0 });
    expect(spawned).toHaveLength(2);
    expect(spawned[1]).toContain('kill "$(cat /run/vmkit-zero.41.dd)"');
    // The script writes that file: `$d.dd`, with d=/run/vmkit-zero.$$ and $$ the spawned shell.
    expect(WARM_ZERO_MEMORY_SCRIPT).toContain('d=/run/vmkit-zero.$$');
    expect(WARM_ZERO_MEMORY_SCRIPT).toContain('echo $! >"$d.dd"');
    spawned.length = 0;
    exitAfterStop = false;
    const stuck = await zeroFreeGuestMemory(agent, 'tpl', undefined, { fillMs: 0, graceMs: 0 }).catch(
      (e: unknown) => e,
    );
    expect(VmkitError.is(stuck, 'TIMEOUT')).toBe(true);
    expect((stuck as VmkitError).details.node).toBe('tpl');
  });

  it('a background fill killed part-way still leaves the folder emptied and removed', async () => {
    await writeFile(join(root, 'meminfo'), 'MemFree: 200000 kB\n');
    const script = WARM_ZERO_MEMORY_SCRIPT.replace('/proc/meminfo', join(root, 'meminfo'))
      .replace('/proc/sys/vm/min_free_kbytes', join(root, 'min_free_kbytes'))
      .replace('/run/', `${root}/run/`)
      .replace(/mount -t tmpfs [^;]*2>\/dev\/null/, 'true')
      .replace('umount "$d"', 'true')
      // A fill that would take long.
      .replace('dd if=/dev/zero of="$d/zero" bs=1048576 count="$n" 2>/dev/null &', 'sleep 30 &');
    expect(script).toContain('sleep 30 &');
    const child = execFile('sh', ['-c', script]);
    const ended = new Promise<number | null>((r) => child.once('exit', r));
    // Wait for the pid file, then kill the fill as the host does.
    let pidFile: string | undefined;
    for (let i = 0; i < 200 && !pidFile; i++) {
      pidFile = (await readdir(join(root, 'run'))).find((f) => f.endsWith('.dd'));
      if (!pidFile) await new Promise((r) => setTimeout(r, 10));
    }
    expect(pidFile).toBeDefined();
    await exec('sh', ['-c', `kill "$(cat ${join(root, 'run', pidFile as string)})"`]);
    expect(await ended).toBe(0);
    expect(await readdir(join(root, 'run'))).toEqual([]);
  });
});
