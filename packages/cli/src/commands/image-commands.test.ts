import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test-support/run-cli.js';
import { formatFromName, osOption } from './import-args.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-args-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vmkit inspect arguments', () => {
  it('needs a file and refuses a bad --max-virtual-size (exit 2)', async () => {
    expect((await runCli(['inspect'], dir)).stderr).toMatch(/missing required argument 'file'/);
    const bad = await runCli(['inspect', 'x.img', '--max-virtual-size', 'huge'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must be a size in bytes or with a unit/);
  });

  it('checks each file against the limit and the claimed format, exiting by the first failure', async () => {
    const raw = join(dir, 'disk.raw');
    await writeFile(raw, Buffer.alloc(4096));
    const ok = await runCli(['inspect', raw, '--format', 'raw', '--json'], dir);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([
      expect.objectContaining({ file: raw, safe: true, format: 'raw', virtualSize: 4096, fileSize: 4096 }),
    ]);
    const limited = await runCli(['inspect', raw, '--max-virtual-size', '2K'], dir);
    expect(limited.code).toBe(2);
    expect(limited.stdout).toContain('safe: no, breaks rule virtual-size-limit');
    expect(limited.stderr).toMatch(
      /rule virtual-size-limit: virtual size 4096 exceeds the limit of 2048 bytes/,
    );
    const missing = await runCli(['inspect', join(dir, 'nope.img'), raw], dir);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain('safe: yes');
  });
});

describe('vmkit remaster arguments', () => {
  it('needs --output and --params, and refuses bad parameters and volume ids before writing', async () => {
    expect((await runCli(['remaster', 'in.iso', '--params', 'a=1'], dir)).stderr).toMatch(
      /required option '-o, --output <file>'/,
    );
    expect((await runCli(['remaster', 'in.iso', '-o', 'out.iso'], dir)).code).toBe(2);
    const quote = await runCli(['remaster', 'in.iso', '-o', 'out.iso', '--params', 'a="b'], dir);
    expect(quote.code).toBe(2);
    expect(quote.stderr).toMatch(/^vmkit: kernelParams: .*unbalanced/m);
    const same = await runCli(['remaster', 'in.iso', '-o', 'in.iso', '--params', 'a=1'], dir);
    expect(same.stderr).toMatch(/output: must differ from source/);
    const volume = await runCli(
      ['remaster', 'in.iso', '-o', 'o.iso', '--params', 'a', '--volume-id', 'x'.repeat(33)],
      dir,
    );
    expect(volume.stderr).toMatch(/volumeId: must be 1 to 32/);
    expect(await readdir(dir)).not.toContain('out.iso');
  });
});

describe('vmkit import and export arguments', () => {
  it('parses --os as family/version/arch and tells formats from names', () => {
    expect(osOption('debian/12/x86_64')).toEqual({ family: 'debian', version: '12', arch: 'x86_64' });
    expect(() => osOption('debian-12')).toThrow(/must be family\/version\/arch/);
    expect(() => osOption('a/b/c/d')).toThrow(/must be family/);
    expect(formatFromName('/x/disk.VMDK')).toBe('vmdk');
    expect(formatFromName('disk.img')).toBe('raw');
    expect(formatFromName('https://example.test/a.ova?sig=1.vmdk')).toBe('ova');
    expect(formatFromName('disk')).toBeUndefined();
  });

  it('refuses bad formats, a bad --os, a URL of unknown format, and an export without -o (exit 2)', async () => {
    const fmt = await runCli(['import', 'a.img', '--format', 'qed'], dir);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toMatch(/must be one of vmdk, vhd, vpc, vhdx, vdi, qcow2, raw, ova/);
    expect((await runCli(['import', 'a.img', '--os', 'linux'], dir)).stderr).toMatch(
      /must be family\/version\/arch/,
    );
    const url = await runCli(['import', 'https://example.test/download?id=3'], dir);
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/^vmkit: --format: is needed: the URL .* does not name a format/);
    expect((await runCli(['export', 'img', '-f', 'raw'], dir)).stderr).toMatch(
      /required option '-o, --output <file>'/,
    );
    expect((await runCli(['export', 'img', '-f', 'vdi', '-o', 'x'], dir)).stderr).toMatch(
      /must be one of vmdk, vhd, raw, qcow2/,
    );
  });
});
