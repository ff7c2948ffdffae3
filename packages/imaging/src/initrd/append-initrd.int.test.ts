import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { appendToInitrd, writeCpioNewc } from '../index.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('appendToInitrd (read back by busybox cpio)', () => {
  it('keeps the first archive byte for byte and appends a gzip newc archive busybox extracts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmkit-initrd-'));
    dirs.push(dir);
    const first = join(dir, 'initrd.gz');
    // An odd-sized first archive: the second must start on a 4-byte boundary.
    const firstBytes = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(41, 7)]);
    await writeFile(first, firstBytes);
    const preseed = 'd-i debian-installer/locale string en_US\n';
    const out = join(dir, 'answered.gz');
    const bytes = await appendToInitrd(
      first,
      [
        { name: 'preseed.cfg', content: Buffer.from(preseed) },
        { name: 'x/late.sh', content: Buffer.from('echo late\n'), mode: 0o755 },
      ],
      out,
    );
    const written = await readFile(out);
    expect(written.byteLength).toBe(bytes);
    expect(written.subarray(0, firstBytes.byteLength).equals(firstBytes)).toBe(true);
    expect([...written.subarray(41 + 2, 44)]).toEqual([0]);
    const cpio = gunzipSync(written.subarray(44));
    const archive = join(dir, 'second.cpio');
    await writeFile(archive, cpio);
    const into = join(dir, 'root');
    await run('mkdir', [into]);
    await run('sh', ['-c', `cd "${into}" && busybox cpio -i -d < "${archive}"`]);
    expect(await readFile(join(into, 'preseed.cfg'), 'utf8')).toBe(preseed);
    expect(await readFile(join(into, 'x/late.sh'), 'utf8')).toBe('echo late\n');
    const { stdout } = await run('sh', ['-c', `busybox cpio -t -v < "${archive}"`]);
    expect(stdout).toMatch(/-rw------- .*preseed\.cfg/);
    expect(stdout).toMatch(/-rwxr-xr-x .*x\/late\.sh/);
  });

  it('refuses names that climb out of the root', () => {
    expect(() => writeCpioNewc([{ name: '../etc/passwd', content: new Uint8Array() }])).toThrow(
      /files\[0\]\.name/,
    );
    expect(() => writeCpioNewc([{ name: '/preseed.cfg', content: new Uint8Array() }])).toThrow(
      /files\[0\]\.name/,
    );
  });
});
