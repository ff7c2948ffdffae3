import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess, spawnCli, VMKIT_BIN } from '../test-support/spawn-cli.js';

// The real binary on real images: qcow2 files made by qemu-img, and the boot ISO fixtures of
// scripts/test.d/30-boot-isos.sh, read back with xorriso.

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = process.env.VMKIT_BOOT_ISO_DIR ?? join(repo, '.vmkit', 'boot-isos');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-imaging-'));
  await exec('bash', [join(repo, 'scripts/test.d/30-boot-isos.sh')], { timeout: 240_000 });
  await exec('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'good.qcow2'), '64M']);
  await exec('qemu-img', [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    'good.qcow2',
    '-F',
    'qcow2',
    join(dir, 'child.qcow2'),
  ]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The boot lines of `xorriso -report_el_torito plain`, without the load sectors. */
async function elTorito(iso: string): Promise<string[]> {
  const { stdout } = await exec('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('El Torito boot img') || l.startsWith('El Torito img'))
    .map((l) => (l.startsWith('El Torito boot img') ? l.replace(/\s+\d+\s*$/, '') : l));
}

describe('vmkit inspect', () => {
  it('prints format and sizes of a qcow2 and refuses one with a backing file, naming the rule', async () => {
    const good = await runCliProcess(['inspect', 'good.qcow2'], dir);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('format: qcow2');
    expect(good.stdout).toContain('virtual size: 64.0 MiB (67108864 bytes)');
    expect(good.stdout).toContain('safe: yes');
    const both = await runCliProcess(['inspect', 'good.qcow2', 'child.qcow2', '--json'], dir);
    expect(both.code).toBe(2);
    const results = JSON.parse(both.stdout) as Array<{ file: string; safe: boolean; rule?: string }>;
    expect(results.map((r) => [r.file, r.safe, r.rule])).toEqual([
      ['good.qcow2', true, undefined],
      ['child.qcow2', false, 'qcow2-backing-file'],
    ]);
    expect(both.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^vmkit: child\.qcow2: .*rule qcow2-backing-file/),
    ]);
    const claimed = await runCliProcess(['inspect', 'good.qcow2', '--format', 'raw'], dir);
    expect(claimed.code).toBe(2);
    expect(claimed.stderr).toMatch(/rule format-mismatch/);
  });
});

describe('vmkit remaster', () => {
  it('adds the parameters to grub.cfg and keeps the boot entries', async () => {
    const source = join(fixtures, 'isolinux.iso');
    const out = join(dir, 'out.iso');
    const run = await runCliProcess(
      ['remaster', source, '-o', out, '--params', 'vmkit.cli=yes', '--json'],
      dir,
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { patched: string[]; bootEntries: unknown[] };
    expect(result.patched).toContain('boot/grub/grub.cfg');
    expect(result.bootEntries.map((e) => (e as { platform: string }).platform)).toEqual(['bios', 'efi']);
    expect(await elTorito(out)).toEqual(await elTorito(source));
    await exec('xorriso', [
      '-osirrox',
      'on',
      '-indev',
      out,
      '-extract',
      '/boot/grub/grub.cfg',
      join(dir, 'grub.cfg'),
    ]);
    expect(await readFile(join(dir, 'grub.cfg'), 'utf8')).toMatch(/linux\s.*vmkit\.cli=yes/);
    const text = await runCliProcess(
      ['remaster', source, '-o', join(dir, 'out2.iso'), '--params', 'a=1'],
      dir,
    );
    expect(text.stdout).toMatch(/^patched boot\/grub\/grub\.cfg$/m);
    expect(text.stdout).toMatch(/^boot bios /m);
    expect(text.stderr).toMatch(/transfer out2\.iso: 100%/);
  });

  it('draws a progress bar on a pseudo-terminal', async () => {
    const command = `${process.execPath} ${VMKIT_BIN} remaster ${join(fixtures, 'isolinux.iso')} -o pty.iso --params a=1`;
    const { stdout } = await exec('script', ['-qec', command, '/dev/null'], { cwd: dir });
    expect(stdout).toContain('\u001b['); // redrawn in place
    expect(stdout).toMatch(/transfer pty\.iso \|[\u2588]{24}\| 100%/);
    expect(stdout).toMatch(/^boot efi boot\/grub\/efi\.img\r?$/m);
  });

  it('refuses a bad parameter before writing anything', async () => {
    const run = await runCliProcess(
      ['remaster', join(fixtures, 'isolinux.iso'), '-o', 'bad.iso', '--params', 'a="x'],
      dir,
    );
    expect(run.code).toBe(2);
    expect(await readdir(dir)).not.toContain('bad.iso');
  });

  it('leaves nothing at the output when interrupted by SIGINT', async () => {
    const work = await mkdtemp(join(dir, 'sigint-'));
    const filler = join(work, 'filler');
    await mkdir(filler);
    for (let i = 0; i < 40; i++) await exec('truncate', ['-s', '10M', join(filler, `f${i}.bin`)]);
    const big = join(work, 'big.iso');
    await exec('xorriso', [
      ...['-indev', join(fixtures, 'isolinux.iso'), '-outdev', big],
      ...['-map', filler, '/filler', '-boot_image', 'any', 'replay'],
    ]);
    await rm(filler, { recursive: true });
    const child = spawnCli(['remaster', big, '-o', join(work, 'out.iso'), '--params', 'x=1'], work);
    await child.waitForStderr(/transfer out\.iso: [2-7]\d%/);
    child.child.kill('SIGINT');
    const done = await child.done;
    expect(done.code).toBe(130);
    expect(done.stderr).toMatch(/SIGINT: stopping/);
    expect(await readdir(work)).toEqual(['big.iso']);
  });
});
