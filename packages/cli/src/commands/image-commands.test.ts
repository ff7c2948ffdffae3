import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test-support/run-cli.js';

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
