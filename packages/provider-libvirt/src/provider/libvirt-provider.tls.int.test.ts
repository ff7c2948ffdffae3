import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../../test-support/private-libvirtd.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { makeTestPki, type PemPair, type TestPki } from '../../test-support/tls-pki.js';
import { type LibvirtProvider, libvirtProvider } from './libvirt-provider.js';

// A private libvirtd (test-support/private-libvirtd.ts) listening for TLS on 127.0.0.1 with
// certificates made here by openssl: the server's names only `localhost`. vmkit reaches it over
// `qemu+tls://localhost:<port>/system` with the files in a `pkiPath` folder laid out as libvirt's.

const prefix = runPrefix('tls');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-tls-'));
const spec = testGuestMasterSpec('tls-guest');
let daemon: PrivateLibvirtd;
let pki: TestPki;
let port: number;
let compute: ComputeService | undefined;

/** A free TCP port of 127.0.0.1 (taken by libvirtd right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A folder laid out as libvirt's `pkipath`: `cacert.pem`, `clientcert.pem`, `clientkey.pem` (each only when given). */
function pkiFolder(name: string, files: { ca?: string; client?: Partial<PemPair> }): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  if (files.ca) copyFileSync(files.ca, join(folder, 'cacert.pem'));
  if (files.client?.cert) copyFileSync(files.client.cert, join(folder, 'clientcert.pem'));
  if (files.client?.key) copyFileSync(files.client.key, join(folder, 'clientkey.pem'));
  return folder;
}

function providerOver(host: string, pkiPath: string): LibvirtProvider {
  return libvirtProvider({
    uri: `qemu+tls://${host}:${port}/system`,
    tls: { pkiPath },
    pool: daemon.pool,
    poolPath: daemon.poolPath,
    namePrefix: prefix,
  });
}

/** What `init()` of a provider over `host` with the files of `pkiPath` threw. */
async function initError(host: string, pkiPath: string): Promise<VmkitError> {
  const provider = providerOver(host, pkiPath);
  const error = await provider.init().then(
    () => undefined,
    (e: unknown) => e,
  );
  await provider.close();
  if (!VmkitError.is(error)) throw new Error(`expected a VmkitError, got ${String(error)}`);
  return error;
}

describe('libvirt over TLS (qemu+tls://, private libvirtd)', () => {
  beforeAll(async () => {
    pki = makeTestPki(join(dir, 'pki'), ['DNS:localhost']);
    port = await freePort();
    daemon = await startPrivateLibvirtd('tls', {
      tls: { port, caFile: pki.ca.cert, certFile: pki.server.cert, keyFile: pki.server.key },
    });
  }, 60_000);

  afterAll(async () => {
    await compute?.close();
    await daemon?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('lists, builds, clones, starts and destroys over TLS, and reconnects over TLS after a daemon restart', async () => {
    const good = pkiFolder('good', { ca: pki.ca.cert, client: pki.client });
    const provider = providerOver('localhost', good);
    compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
    });
    expect(provider.client?.target).toMatchObject({ transport: 'tls', host: 'localhost', port });
    expect(await compute.listNodes()).toEqual([]);
    const [node] = await compute.createNodesInGroup('t', 1);
    expect(node).toMatchObject({ status: 'running' });
    expect((await daemon.inventory(prefix)).domains).toEqual([`${prefix}${node?.name}`]);
    expect((await compute.listNodes()).map((n) => n.id)).toEqual([node?.id]);

    await daemon.restart();
    expect((await compute.getNode(node?.id as string))?.status).toBe('running');
    expect(provider.client?.reconnects).toBeGreaterThanOrEqual(1);

    await compute.destroyNode(node?.id as string);
    await compute.deleteImage(spec.id);
    const left = await daemon.inventory(prefix);
    expect(left.domains).toEqual([]);
    expect(left.volumes).toEqual([]);
  }, 110_000);

  it('a server certificate not signed by the CA file is refused, naming the CA file', async () => {
    const wrongCa = pkiFolder('wrong-ca', { ca: pki.otherCa.cert, client: pki.client });
    const error = await initError('localhost', wrongCa);
    expect(error.code).toBe('PROVIDER');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(join(wrongCa, 'cacert.pem'));
    expect(error.message).toMatch(/not trusted by the CA file/);
  });

  it('a missing client key fails before connecting, naming the key file', async () => {
    const noKey = pkiFolder('no-key', { ca: pki.ca.cert, client: { cert: pki.client.cert } });
    const error = await initError('localhost', noKey);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ field: 'tls.keyFile', file: join(noKey, 'clientkey.pem') });
    expect(error.message).toContain(join(noKey, 'clientkey.pem'));
  });

  it('a server certificate for another host name is refused (its names are checked, not only its CA)', async () => {
    const good = pkiFolder('good-by-ip', { ca: pki.ca.cert, client: pki.client });
    // The daemon's certificate names only localhost; 127.0.0.1 is the same daemon under a name it lacks.
    const error = await initError('127.0.0.1', good);
    expect(error.code).toBe('PROVIDER');
    expect(error.message).toMatch(/not for that host name/);
    expect(error.message).toContain('127.0.0.1');
  });

  it('a client certificate the daemon does not trust is refused, naming the client certificate file', async () => {
    const stranger = pkiFolder('stranger', { ca: pki.ca.cert, client: pki.strangerClient });
    const error = await initError('localhost', stranger);
    expect(error.code).toBe('PROVIDER');
    expect(error.message).toContain(`rejected the client certificate ${join(stranger, 'clientcert.pem')}`);
  });
});
