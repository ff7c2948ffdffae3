import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSourceFile } from './fetch-source.js';

// Sources as a spec writer gives them, against real files and a loopback HTTP server.
const root = mkdtempSync(join(tmpdir(), 'vmkit-fetch-'));
const BODY = Buffer.from('a master disk, or so it says');
const SHA = createHash('sha256').update(BODY).digest('hex');
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((_req, res) => res.end(BODY));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('fetchSourceFile', () => {
  it('uses a path or file: URL where it is, checks its sha256 in any case, and never removes it', async () => {
    const path = join(root, 'user.img');
    writeFileSync(path, BODY);
    for (const source of [{ path }, { url: pathToFileURL(path).href }]) {
      const file = await fetchSourceFile({ ...source, sha256: SHA.toUpperCase() });
      expect(file).toMatchObject({ path, owned: false });
      await file.dispose();
      expect(existsSync(path)).toBe(true);
    }
  });

  it('refuses a wrong sha256 as CORRUPT naming <field>.sha256, and removes the download, not the user file', async () => {
    const path = join(root, 'mine.img');
    writeFileSync(path, BODY);
    await expect(fetchSourceFile({ path, sha256: '0'.repeat(64) }, { field: 'image' })).rejects.toMatchObject(
      {
        code: 'CORRUPT',
        message: expect.stringMatching(
          /^image\.sha256: .*mine\.img has sha256 [0-9a-f]{64}, expected 0{64}$/,
        ),
        details: { field: 'image.sha256' },
      },
    );
    expect(readFileSync(path)).toEqual(BODY);
    const folder = join(root, 'machines');
    mkdirSync(folder);
    await expect(
      fetchSourceFile(
        { url: `${base}/d.img`, sha256: '1'.repeat(64) },
        { downloadTo: join(folder, 'm.img') },
      ),
    ).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(readdirSync(folder)).toEqual([]);
  });

  it('downloads to the given name, replacing a file an earlier try left there; dispose removes it', async () => {
    const folder = join(root, 'again');
    mkdirSync(folder);
    const to = join(folder, 'm.img');
    writeFileSync(to, 'left by a crash');
    const file = await fetchSourceFile({ url: `${base}/d.img`, sha256: SHA }, { downloadTo: to });
    expect(file).toMatchObject({ path: to, owned: true });
    expect(readFileSync(to)).toEqual(BODY);
    await file.dispose();
    expect(readdirSync(folder)).toEqual([]);
  });

  it('names the field of a source without a location, with another scheme, or with no file', async () => {
    await expect(fetchSourceFile({})).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'source' },
    });
    await expect(fetchSourceFile({ url: 'ftp://127.0.0.1/x.img' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'source.url' },
    });
    await expect(fetchSourceFile({ url: 'not a url' })).rejects.toMatchObject({
      details: { field: 'source.url' },
    });
    await expect(fetchSourceFile({ path: join(root, 'nope.img') })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^source\.path: no file at .*nope\.img/),
    });
    await expect(fetchSourceFile({ path: root })).rejects.toMatchObject({
      details: { field: 'source.path' },
    });
  });

  it('an abort stops the download and leaves nothing', async () => {
    const folder = join(root, 'aborted');
    mkdirSync(folder);
    const controller = new AbortController();
    controller.abort();
    await expect(
      fetchSourceFile(
        { url: `${base}/d.img` },
        { downloadTo: join(folder, 'm.img'), signal: controller.signal },
      ),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(readdirSync(folder)).toEqual([]);
  });
});
