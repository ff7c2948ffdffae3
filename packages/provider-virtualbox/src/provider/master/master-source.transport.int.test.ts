import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { MasterSpec } from '@vmkit/core';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskImage, testProvider, type VboxTestEnv, vboxTestEnv } from '../../../test-support/vbox-env.js';

// Master sources as a spec writer gives them, built through the provider against the simulator.
describe('VirtualBox master sources: resolved paths, bounded downloads, no credentials in errors', () => {
  let env: VboxTestEnv;
  let server: Server;
  let base = '';
  const savedCwd = process.cwd();
  beforeAll(async () => {
    env = await vboxTestEnv();
    server = createServer((req, res) => {
      if (req.url === '/huge.vdi') {
        res.writeHead(200); // no Content-Length
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(64 * 1024, 1));
        return void res.end();
      }
      res.writeHead(500);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    process.chdir(savedCwd);
    server?.close();
    await env?.close();
  });
  const spec = (id: string, source: Record<string, unknown>): MasterSpec => ({
    id,
    os: { family: 'linux', version: 'test', arch: 'x86_64' },
    source: { type: 'disk', ...source } as MasterSpec['source'],
  });
  const machineFiles = () =>
    existsSync(join(env.folder, 'machines')) ? readdirSync(join(env.folder, 'machines')) : [];

  it("converts a relative 'x:disk.qcow2' with qemu-img given the absolute path", async () => {
    diskImage(env.folder, 'qcow2', 'x:disk.qcow2');
    const provider = testProvider(env);
    process.chdir(env.folder);
    try {
      const ref = await runMasterBuild(provider, spec('rel-colon', { path: 'x:disk.qcow2' }), 'rel-colon');
      const data = ref.data as { disk: string };
      expect(data.disk.startsWith('/')).toBe(true);
      expect(readFileSync(data.disk).readUInt32LE(64)).toBe(0xbeda107f); // a VDI
      await provider.deleteMaster(ref);
    } finally {
      process.chdir(savedCwd);
      await provider.close();
    }
  });

  it('stops a download over source.maxBytes (no Content-Length) and leaves nothing in the machine folder', async () => {
    const provider = testProvider(env);
    const before = machineFiles();
    const error = await runMasterBuild(
      provider,
      spec('too-big', { url: `${base}/huge.vdi`, maxBytes: 1024 * 1024 }),
      'too-big',
    ).catch((e: unknown) => e);
    await provider.close();
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/source\.url: .*more than source\.maxBytes/);
    expect(machineFiles().filter((f) => !before.includes(f))).toEqual([]);
  });

  it('keeps user:secret@ out of the error of a failed download', async () => {
    const provider = testProvider(env);
    const url = `${base.replace('//', '//user:secret@')}/missing.vdi?token=secret`;
    const error = await runMasterBuild(provider, spec('secret-url', { url }), 'secret-url').catch(
      (e: unknown) => e,
    );
    await provider.close();
    expect(VmkitError.is(error)).toBe(true);
    const text = `${inspect(error, { depth: Infinity })}${JSON.stringify(error)}${String(error)}`;
    expect(text).not.toContain('secret');
    expect(text).toContain('127.0.0.1');
  });
});
