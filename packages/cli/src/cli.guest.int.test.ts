import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix, testGuest } from '../../provider-libvirt/test-support/test-guest.js';
import { LIBVIRT_POOL, LIBVIRT_URI, libvirtProject } from '../test-support/libvirt-project.js';
import { runCliProcess, spawnCli, VMKIT_BIN } from '../test-support/spawn-cli.js';

// vmkit exec, cp and ls on qemu:///system with the busybox test guest, which runs qemu-ga on the
// agent channel every domain vmkit defines: the real binary, the real agent, one node.
const URI = LIBVIRT_URI;
const POOL = LIBVIRT_POOL;
const prefix = runPrefix('g');
const dir = libvirtProject('guest-int', prefix);
const cli = (...args: string[]) => runCliProcess(args, dir);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** `vmkit ARGS` with `input` on its standard input (a pipe). */
function cliWithInput(args: string[], input: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [VMKIT_BIN, ...args], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout })));
}

describe('vmkit exec, cp and ls through the guest agent of a libvirt node', () => {
  let name = '';
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('up --wait=agent returns once the agent answers; ls --json shows the addresses the guest has', async () => {
    const up = await cli('up', 'web', '-n', '1', '--wait=agent', '--wait-timeout', '5m', '--json');
    expect(up.code, up.stderr).toBe(0);
    name = (JSON.parse(up.stdout) as Array<{ name: string }>)[0]?.name ?? '';
    const listed = JSON.parse((await cli('ls', '--json')).stdout) as Array<{
      name: string;
      privateAddresses: string[];
      nicAddresses: Array<{ slot: number; addresses?: string[]; source?: string }>;
    }>;
    const node = listed.find((n) => n.name === name);
    const inside = await cli('exec', name, '--', 'ip', '-o', '-4', 'addr', 'show', 'scope', 'global');
    expect(inside.code, inside.stderr).toBe(0);
    const guestAddresses = [...inside.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
    expect(guestAddresses.length).toBeGreaterThan(0);
    expect(node?.nicAddresses[0]?.addresses).toEqual(expect.arrayContaining(guestAddresses));
    expect(node?.privateAddresses).toEqual(expect.arrayContaining(guestAddresses));
    const table = await cli('ls');
    expect(table.stdout).toMatch(
      new RegExp(`^${name} +web +tiny +running +${guestAddresses[0]?.replace(/\./g, '\\.')}`, 'm'),
    );
  });

  it('exec: the kernel answers uname -r; exit codes 0, 3 and 127 pass through; stdout and stderr apart; stdin echoed', async () => {
    const kernel = JSON.parse(readFileSync(join(testGuest().dir, 'manifest.json'), 'utf8')) as {
      kernelVersion: string;
    };
    const uname = await cli('exec', name, '--', 'uname', '-r');
    expect(uname).toMatchObject({ code: 0, stdout: `${kernel.kernelVersion}\n` });
    const three = await cli('exec', name, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    expect(three).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await cli('exec', name, '--', 'vmkit-no-such-program')).code).toBe(127);
    expect(await cliWithInput(['exec', name, '--', 'cat'], 'hello from the host')).toEqual({
      code: 0,
      stdout: 'hello from the host',
    });
  });

  it('exec: Ctrl-C kills the guest process and exits 130', async () => {
    const run = spawnCli(['exec', name, '--', 'sh', '-c', 'echo started >&2; exec sleep 417'], dir);
    await run.waitForStderr(/started/);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    const ps = await cli('exec', name, '--', 'ps');
    expect(ps.code).toBe(0);
    expect(ps.stdout).not.toContain('sleep 417');
  });

  it('cp: 1 MiB in and out equal by SHA-256; into a guest directory, out to standard output; a relative guest path is exit 2', async () => {
    const data = randomBytes(1024 * 1024 + 3);
    const local = join(dir, 'random.bin');
    writeFileSync(local, data);
    const copyIn = await cli('cp', local, `${name}:/tmp/random.bin`, '--json');
    expect(copyIn.code, copyIn.stderr).toBe(0);
    expect(JSON.parse(copyIn.stdout)).toMatchObject({
      bytes: data.length,
      sha256: sha256(data),
      transport: 'agent',
    });
    const back = join(dir, 'back.bin');
    const copyOut = await cli('cp', `${name}:/tmp/random.bin`, back);
    expect(copyOut.code, copyOut.stderr).toBe(0);
    expect(sha256(readFileSync(back))).toBe(sha256(data));
    const text = join(dir, 'note.txt');
    writeFileSync(text, 'a line of text\n');
    expect((await cli('cp', text, `${name}:/tmp/`)).code).toBe(0);
    expect(await cli('cp', `${name}:/tmp/note.txt`, '-')).toMatchObject({
      code: 0,
      stdout: 'a line of text\n',
    });
    const relative = await cli('cp', local, `${name}:tmp/x`);
    expect(relative.code).toBe(2);
  });

  it('destroy leaves nothing', async () => {
    expect((await cli('destroy', 'web')).code).toBe(0);
    expect((await leftovers(URI, prefix, POOL)).domains).toEqual([]);
  });
});
