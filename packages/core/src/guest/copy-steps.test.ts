import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CopyHasher, guestCheckOf, sameHashText } from './copy-steps.js';

const root = mkdtempSync(join(tmpdir(), 'vmkit-copy-steps-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the end-to-end check of a copy', () => {
  const data = randomBytes(300_001);
  const hasher = new CopyHasher();
  hasher.update(data.subarray(0, 7));
  hasher.update(data.subarray(7));
  const digest = hasher.digest();

  it('reports the SHA-256 of the bytes and checks them with what the guest prints', () => {
    expect(digest.bytes).toBe(data.length);
    expect(digest.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    const printed = spawnSync('md5sum', { input: data, encoding: 'utf8' }).stdout;
    expect(guestCheckOf(printed)).toBe(digest.check);
    expect(guestCheckOf(`${digest.sha256}  -`)).toBeUndefined();
  });

  it.each([
    ['dash', ['/bin/sh']],
    ['busybox ash', ['/usr/bin/busybox', 'sh']],
  ])('passes the same bytes and fails others in the guest shell (%s)', (_name, shell) => {
    const path = join(root, 'file');
    const run = () =>
      spawnSync(shell[0] as string, [...shell.slice(1), '-c', sameHashText(path, digest.check)], {
        env: { PATH: '/usr/bin:/bin' },
      }).status;
    writeFileSync(path, data);
    expect(run()).toBe(0);
    const other = Buffer.from(data);
    other[100_000] = (other[100_000] ?? 0) ^ 1;
    writeFileSync(path, other);
    expect(run()).not.toBe(0);
  });
});
