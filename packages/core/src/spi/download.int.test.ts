import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { downloadFile } from './download-file.js';
import { bytesHandler, selfSignedCert, startServer, type TestServer } from './download-servers.fixture.js';

const run = promisify(execFile);
const CORE_DIR = new URL('../../', import.meta.url).pathname;

/**
 * Runs `downloadFile` of the built `@vmkit/core/spi` in a child node trusting `caFile`
 * (NODE_EXTRA_CA_CERTS: Node's fetch takes its CAs at start-up) and returns what it printed.
 */
async function downloadInChild(url: string, file: string, caFile: string): Promise<Record<string, unknown>> {
  const script = `
    import { downloadFile } from '@vmkit/core/spi';
    try {
      const r = await downloadFile(process.argv[1], process.argv[2], { field: 'source.url' });
      console.log(JSON.stringify({ ok: true, bytes: r.bytes }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, code: e.code, message: e.message, details: e.details }));
    }`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, url, file], {
    cwd: CORE_DIR,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

describe('downloadFile: vmkit download rules, against loopback servers', () => {
  let dir: string;
  let plain: TestServer;
  let secure: TestServer;
  let caFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-download-'));
    const cert = selfSignedCert(dir);
    caFile = cert.caFile;
    plain = await startServer((req, res) => {
      if (req.url === '/disk') return void res.end('plain bytes');
      if (req.url?.startsWith('/hop/')) {
        const n = Number(req.url.slice(5));
        res.writeHead(302, { location: `/hop/${n + 1}` });
        return void res.end();
      }
      if (req.url === '/big-length') return bytesHandler(3 * 1024 * 1024, true)(req, res);
      if (req.url === '/big-chunked') return bytesHandler(3 * 1024 * 1024, false)(req, res);
      res.writeHead(500);
      res.end('broken');
    });
    secure = await startServer((req, res) => {
      if (req.url === '/disk') return void res.end('secure bytes');
      res.writeHead(302, { location: `${plain.url}/disk` });
      res.end();
    }, cert);
  });
  afterAll(async () => {
    await plain?.close();
    await secure?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts the test CA (https downloads work), and refuses a redirect from https to http', async () => {
    const good = await downloadInChild(`${secure.url}/disk`, join(dir, 'good'), caFile);
    expect(good).toEqual({ ok: true, bytes: 12 });
    const before = plain.requests.length;
    const target = join(dir, 'downgraded');
    const refused = await downloadInChild(`${secure.url}/moved`, target, caFile);
    expect(refused.ok).toBe(false);
    expect(refused.code).toBe('INVALID_ARGUMENT');
    expect(refused.message).toMatch(
      /^source\.url: .*https:\/\/127\.0\.0\.1:\d+ to http:\/\/127\.0\.0\.1:\d+ .*downgrade/,
    );
    expect(refused.details).toMatchObject({ field: 'source.url', rule: 'https-downgrade' });
    expect(plain.requests.length).toBe(before); // the http URL was never fetched
    expect(existsSync(target)).toBe(false);
  });

  it('stops after the most redirects allowed', async () => {
    const target = join(dir, 'looping');
    const error = await downloadFile(`${plain.url}/hop/0`, target, {
      field: 'source.url',
      maxRedirects: 3,
    }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as VmkitError).message).toMatch(/more than 3 redirects/);
    expect(existsSync(target)).toBe(false);
  });

  it.each([
    ['with a Content-Length', '/big-length'],
    ['without a Content-Length', '/big-chunked'],
  ])('refuses a body over maxBytes %s and leaves no partial file', async (_, path) => {
    const target = join(dir, `big${path.replace('/', '-')}`);
    const error = await downloadFile(`${plain.url}${path}`, target, {
      field: 'source.url',
      maxBytes: 1024 * 1024,
      maxBytesField: 'source.maxBytes',
    }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as VmkitError).message).toMatch(
      /^source\.url: .*more than source\.maxBytes \(1048576 bytes\)/,
    );
    expect(existsSync(target)).toBe(false);
    expect((await readdir(dir)).filter((n) => n.startsWith('big'))).toEqual([]);
  });

  it('keeps credentials of the URL out of every error, at any depth', async () => {
    const failing = [
      `${plain.url.replace('//', '//user:secret@')}/broken?token=secret2`, // HTTP 500
      'http://user:secret@127.0.0.1:1/disk?token=secret2', // connection refused
    ];
    for (const url of failing) {
      const error = await downloadFile(url, join(dir, 'never'), { field: 'source.url' }).catch(
        (e: unknown) => e,
      );
      expect(VmkitError.is(error)).toBe(true);
      const text = `${inspect(error, { depth: Infinity, showHidden: true })}${JSON.stringify(error)}${String(error)}`;
      expect(text).not.toContain('secret');
      expect(text).toContain('127.0.0.1');
    }
    // The credentials did reach the server they were for, as Basic authorization.
    expect(
      plain.requests.some((r) => r.includes(`Basic ${Buffer.from('user:secret').toString('base64')}`)),
    ).toBe(true);
  });
});
