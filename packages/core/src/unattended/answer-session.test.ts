import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { Logger } from '../util/logger.js';
import { openAnswerSession } from './answer-session.js';
import { sha512Crypt } from './sha512-crypt.js';

const SECRET = '$6$salt$notarealhashbutsecret';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (message: string, fields?: unknown) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: log, info: log, warn: log, error: log };
}

function spec(unattended: unknown, cmdline = 'url={{http}}/preseed.cfg'): MasterSpec {
  return {
    id: 'deb-answers',
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: { type: 'kernel', kernel: '/k', initrd: '/i', cmdline, unattended } as never,
    login: { user: 'ops', password: 'plain-pw-never-served' },
  };
}

/** The server's URL as this host reaches it. */
const local = (url: string) => url.replace('10.0.2.2', '127.0.0.1');

/** The folders a test made, removed after it. */
const made: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-answers-test-'));
  made.push(dir);
  return dir;
};
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('openAnswerSession', () => {
  it('serves rendered answers under the per-build path only, logs names and sizes only, and stops with close', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'late.sh'), 'echo {{hostname}} {{http}}\n');
    const logger = recordingLogger();
    const session = await openAnswerSession(
      spec({
        files: {
          'preseed.cfg': `d-i passwd/user-password-crypted password ${SECRET}\nd-i passwd/root-password-crypted password {{passwordHash}}\nd-i x string {{user}}@{{hostname}} {{http}}/late.sh\n`,
          'late.sh': { path: join(dir, 'late.sh') },
        },
        delivery: ['http', 'initrd'],
      }),
      { logger, label: 'm1' },
    );
    const url = session.server?.url ?? '';
    expect(url).toMatch(/^http:\/\/10\.0\.2\.2:\d+\/[A-Za-z0-9_-]{32}$/);
    expect(session.expand('url={{http}}/preseed.cfg', 'source.cmdline')).toBe(`url=${url}/preseed.cfg`);
    const preseed = await (await fetch(`${local(url)}/preseed.cfg`)).text();
    expect(preseed).toContain(`ops@deb-answers ${url}/late.sh`);
    expect(await (await fetch(`${local(url)}/late.sh`)).text()).toBe(`echo deb-answers ${url}\n`);
    // The login's password arrives only as its SHA-512 crypt hash.
    const hash = /root-password-crypted password (\S+)/.exec(preseed)?.[1] ?? '';
    expect(hash).toBe(sha512Crypt('plain-pw-never-served', hash.split('$')[2]));
    expect(preseed).not.toContain('plain-pw-never-served');
    // Not under another path, not another name, not another method.
    const port = session.server?.port;
    expect((await fetch(`http://127.0.0.1:${port}/preseed.cfg`)).status).toBe(404);
    expect((await fetch(`${local(url)}/../preseed.cfg`)).status).toBe(404);
    expect((await fetch(`${local(url)}/nothing.cfg`)).status).toBe(404);
    expect((await fetch(`${local(url)}/preseed.cfg`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect(session.server?.served).toEqual(['preseed.cfg', 'late.sh']);
    await session.close();
    await expect(fetch(`${local(url)}/preseed.cfg`)).rejects.toThrow();
    const log = logger.lines.join('\n');
    expect(log).toMatch(/"file":"preseed.cfg","bytes":\d+/);
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('ops@');
  });

  it('without http: no server, and a path file with an unknown placeholder refused naming it', async () => {
    const logger = recordingLogger();
    const none = await openAnswerSession(spec({ files: { 'preseed.cfg': 'x' }, delivery: ['initrd'] }, ''), {
      logger,
      label: 'm2',
    });
    expect(none.server).toBeUndefined();
    expect(() => none.expand('url={{http}}/p', 'source.cmdline')).toThrow(
      /source\.cmdline: \{\{http\}\} has no value/,
    );
    const dir = await tempDir();
    await writeFile(join(dir, 'ks.cfg'), 'rootpw {{password}}\n');
    const error = await openAnswerSession(
      spec({ files: { 'ks.cfg': { path: join(dir, 'ks.cfg') } }, delivery: ['initrd'] }, ''),
      {
        logger,
        label: 'm3',
      },
    ).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/source\.unattended\.files\.ks\.cfg: \{\{password\}\}/);
    const missing = await openAnswerSession(
      spec({ files: { 'ks.cfg': { path: join(dir, 'nope') } }, delivery: ['initrd'] }, ''),
      {
        logger,
        label: 'm4',
      },
    ).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/source\.unattended\.files\.ks\.cfg\.path: cannot be read/);
  });

  it("answers the installFinished call under the build's path only, and records it", async () => {
    const logger = recordingLogger();
    const base = spec({ files: { 'preseed.cfg': 'x' }, delivery: ['http'] });
    const session = await openAnswerSession(
      { ...base, source: { ...base.source, installFinished: { call: 'done' } } as never },
      { logger, label: 'm5' },
    );
    expect(session.installFinished).toEqual({ call: 'done' });
    const url = local(session.server?.url ?? '');
    expect(session.server?.calls).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${session.server?.port}/done`)).status).toBe(404);
    expect((await fetch(`${url}/other`)).status).toBe(404);
    expect(session.server?.calls).toEqual([]);
    const answer = await fetch(`${url}/done`, { method: 'POST', body: 'ok' });
    expect(answer.status).toBe(204);
    expect(session.server?.calls).toEqual(['done']);
    expect(session.server?.served).toEqual([]);
    expect(logger.lines.join('\n')).toMatch(/answer server: called .*"call":"done"/);
    await session.close();
    const plain = await openAnswerSession(base, { logger, label: 'm6' });
    expect(plain.installFinished).toBe('poweroff');
    expect((await fetch(`${local(plain.server?.url ?? '')}/done`)).status).toBe(404);
    await plain.close();
  });
});
