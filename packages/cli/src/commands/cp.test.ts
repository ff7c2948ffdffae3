import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { CopyResult, CopySource, CopyToNodeOptions } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeNode, useFakeService } from '../../test-support/fake-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/fake-guest-service.js').then((m) => m.fakeOpenServiceModule()),
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-cp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vmkit = (args: string[], stdin?: Readable) => runCli(['--store', dir, ...args], dir, {}, stdin);
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Reads a copy source as the core does: a host path is read here by the fake itself. */
async function contentOf(source: CopySource): Promise<Buffer> {
  if (typeof source === 'string') return (await import('node:fs/promises')).readFile(source);
  if (source instanceof Uint8Array) return Buffer.from(source);
  const chunks: Buffer[] = [];
  for await (const c of source as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A fake whose copies in keep what they received, and whose copies out send `file`. */
function guest(file = 'guest file\n') {
  const received: Array<{ guestPath: string; content: Buffer; options: CopyToNodeOptions }> = [];
  const fake = useFakeService([fakeNode('web-1a2b')], {
    copyTo: async (_id, source, guestPath, options): Promise<CopyResult> => {
      const content = await contentOf(source);
      received.push({ guestPath, content, options });
      return { bytes: content.length, sha256: sha256(content), transport: 'agent' };
    },
    copyFrom: async (_id, _guestPath, destination): Promise<CopyResult> => {
      if (typeof destination === 'string') await writeFile(destination, file);
      else (destination as Writable).write(file);
      return { bytes: Buffer.byteLength(file), sha256: sha256(file), transport: 'ssh' };
    },
  });
  return { fake, received };
}

describe('vmkit cp into a node', () => {
  it('copies a host file to NODE:/PATH with --mode and --owner; --json says bytes and sha256', async () => {
    const { fake, received } = guest();
    const file = join(dir, 'app.conf');
    await writeFile(file, 'port=80\n');
    const run = await vmkit([
      'cp',
      file,
      'web-1a2b:/etc/app.conf',
      '--mode',
      '0600',
      '--owner',
      'app:app',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(fake.calls[0]?.args.slice(0, 3)).toEqual(['id-web-1a2b', file, '/etc/app.conf']);
    expect(received[0]).toMatchObject({
      content: Buffer.from('port=80\n'),
      options: { mode: 0o600, owner: 'app:app' },
    });
    expect(JSON.parse(run.stdout)).toEqual({
      source: file,
      destination: 'web-1a2b:/etc/app.conf',
      bytes: 8,
      sha256: sha256('port=80\n'),
      transport: 'agent',
    });
  });

  it('a guest path ending in / is a directory: the file keeps its name; text output names both ends', async () => {
    const { received } = guest();
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'x');
    const run = await vmkit(['cp', file, 'id-web-1a2b:/tmp/']);
    expect(run.code, run.stderr).toBe(0);
    expect(received[0]?.guestPath).toBe('/tmp/notes.txt');
    expect(run.stdout).toBe(`${file} -> web-1a2b:/tmp/notes.txt: 1 B, sha256 ${sha256('x')}, over agent\n`);
  });

  it('- copies standard input, read as a stream', async () => {
    const { received } = guest();
    const run = await vmkit(
      ['cp', '-', 'web-1a2b:/tmp/in'],
      Readable.from([Buffer.from('from '), Buffer.from('a pipe')]),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(received[0]?.content.toString()).toBe('from a pipe');
    const terminal = Object.assign(Readable.from([]), { isTTY: true });
    const typed = await vmkit(['cp', '-', 'web-1a2b:/tmp/in'], terminal);
    expect(typed.code).toBe(2);
    expect(typed.stderr).toMatch(/SRC: - reads standard input, which is a terminal/);
  });
});

describe('vmkit cp out of a node', () => {
  it('NODE:PATH - writes the file alone to standard output', async () => {
    guest('line 1\nline 2\n');
    const run = await vmkit(['cp', 'web-1a2b:/var/log/app.log', '-']);
    expect(run).toMatchObject({ code: 0, stdout: 'line 1\nline 2\n', stderr: '' });
  });

  it('into a host directory, the file keeps its guest name; to a path, that path', async () => {
    const { fake } = guest();
    const into = join(dir, 'out');
    await mkdir(into);
    const run = await vmkit(['cp', 'web-1a2b:/etc/hostname', into, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(fake.calls[0]?.args.slice(0, 3)).toEqual(['id-web-1a2b', '/etc/hostname', join(into, 'hostname')]);
    expect(JSON.parse(run.stdout)).toMatchObject({
      source: 'web-1a2b:/etc/hostname',
      destination: join(into, 'hostname'),
    });
    await vmkit(['cp', 'web-1a2b:/etc/hostname', join(into, 'h2')]);
    expect(fake.calls[1]?.args[2]).toBe(join(into, 'h2'));
  });
});

describe('vmkit cp refuses bad arguments before reaching the node', () => {
  it.each([
    [
      'two host paths',
      ['a', 'b'],
      2,
      /^vmkit: SRC: one of SRC and DST must be NODE:\/PATH and the other a host path or -/,
    ],
    ['two node paths', ['web-1a2b:/a', 'web-1a2b:/b'], 2, /^vmkit: DST: one of SRC and DST/],
    ['a host path with a colon, written ./', ['./a:b', 'c'], 2, /one of SRC and DST/],
    [
      'a relative guest path in',
      ['x', 'web-1a2b:tmp/x'],
      2,
      /^vmkit: DST: must be an absolute path in the guest/,
    ],
    [
      'a relative guest path out',
      ['web-1a2b:x', '-'],
      2,
      /^vmkit: SRC: must be an absolute path in the guest/,
    ],
    ['a guest directory out', ['web-1a2b:/etc/', 'x'], 2, /SRC: web-1a2b:\/etc\/: must name a file/],
    [
      '- into a guest directory',
      ['-', 'web-1a2b:/tmp/'],
      2,
      /DST: web-1a2b:\/tmp\/: must name a file when SRC is -/,
    ],
    [
      'a missing host file',
      ['no-such-file', 'web-1a2b:/tmp/x'],
      2,
      /^vmkit: SRC: no-such-file: does not exist/,
    ],
    ['a host directory', ['.', 'web-1a2b:/tmp/x'], 2, /SRC: \.: is not a file/],
    [
      '--mode on a copy out',
      ['web-1a2b:/a', 'b', '--mode', '600'],
      2,
      /^vmkit: --mode: applies to copies into a node only/,
    ],
    [
      '--json with the file on stdout',
      ['web-1a2b:/a', '-', '--json'],
      2,
      /--json: cannot share standard output/,
    ],
    ['a bad --mode', ['x', 'web-1a2b:/a', '--mode', '999'], 2, /must be an octal mode such as 644/],
    ['an unknown node', ['web-9999:/a', '-'], 3, /NODE: no node has the id or name web-9999/],
  ])('%s: the exit code of its kind, nothing reached', async (_, args, code, message) => {
    const { fake } = guest();
    const run = await vmkit(['cp', ...args]);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(fake.calls).toEqual([]);
  });
});
