import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { MasterSpec } from '@vmkit/core';
import { parseBootCommand, runMasterBuild, setOneScancodes, VmkitError } from '@vmkit/core/spi';
import { readIso9660, writeIso9660ToFile } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simOf, testProvider, type VboxTestEnv, vboxTestEnv } from '../../../test-support/vbox-env.js';

// The `iso` and `initrd` answer deliveries on VirtualBox, against the simulator: the installer boots
// a copy of its ISO remastered with the answers (imaging's remasterWithAnswers, as on libvirt),
// which is detached, closed and deleted when the install step ends, however it ends.

const INITRD = new Uint8Array(1001).fill(0x5a); // not a multiple of 4: the append pads it
const PRESEED = 'd-i passwd/username string {{user}}\nd-i netcfg/get_hostname string {{hostname}}\n';

/** A small bootable installer ISO: isolinux loading `/install/initrd.gz`. */
async function bootableInstaller(folder: string, withInitrd = true): Promise<string> {
  const path = join(folder, withInitrd ? 'bootable.iso' : 'bootable-no-initrd.iso');
  const append = withInitrd ? 'append initrd=/install/initrd.gz quiet' : 'append quiet';
  await writeIso9660ToFile(
    [
      { path: 'isolinux/isolinux.bin', content: new Uint8Array(4096).fill(0x33) },
      { path: 'isolinux/isolinux.cfg', content: `label install\n  kernel /install/vmlinuz\n  ${append}\n` },
      { path: 'install/vmlinuz', content: 'kernel\n' },
      ...(withInitrd ? [{ path: 'install/initrd.gz', content: INITRD }] : []),
    ],
    path,
    {
      volumeId: 'VMKIT_INST',
      boot: { images: [{ platform: 'bios', image: 'isolinux/isolinux.bin', bootInfoTable: true }] },
    },
  );
  return path;
}

/** The names and contents of a cpio "newc" archive's files. */
function cpioFiles(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const buf = Buffer.from(bytes);
  let at = 0;
  const pad = (n: number) => (n + 3) & ~3;
  while (at + 110 <= buf.length && buf.toString('latin1', at, at + 6) === '070701') {
    const field = (i: number) => Number.parseInt(buf.toString('latin1', at + 6 + i * 8, at + 14 + i * 8), 16);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('latin1', at + 110, at + 110 + nameSize - 1);
    const dataAt = pad(at + 110 + nameSize);
    if (name === 'TRAILER!!!') break;
    out.set(name, buf.toString('utf8', dataAt, dataAt + size));
    at = pad(dataAt + size);
  }
  return out;
}

describe('VirtualBox installers: answers on the installer ISO and in its initrd', () => {
  let env: VboxTestEnv;
  let installer: string;
  beforeAll(async () => {
    // The simulated installer runs long enough for the test to look at its DVD.
    env = await vboxTestEnv({ behaviour: { installerRunMs: 400 } });
    installer = await bootableInstaller(env.folder);
  });
  afterAll(async () => {
    await env.close();
  });

  const spec = (id: string, delivery: string[], extra: Record<string, unknown> = {}): MasterSpec =>
    ({
      id,
      os: { family: 'linux', version: 'test', arch: 'x86_64' },
      source: {
        type: 'iso',
        path: installer,
        kernelParams: 'auto=true file=/cdrom/preseed.cfg host={{hostname}}',
        unattended: { files: { 'preseed.cfg': PRESEED }, delivery },
        ...extra,
      },
      hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
      login: { user: 'ops' },
    }) as MasterSpec;

  /** The installer DVD of the running installer machine of `id`, once it runs. */
  async function runningInstallerDvd(id: string): Promise<string> {
    const sim = simOf(env);
    for (;;) {
      const m = sim.machines().find((x) => x.name.includes(id) && x.state === 'Running');
      const dvd = m?.media.find((p) => p.endsWith('-installer-answers.iso'));
      if (dvd) return dvd;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Nothing of the answers is left: not attached, not registered, no file, no work folder. */
  function expectNoAnswersLeft(id: string, dvd: string): void {
    const sim = simOf(env);
    for (const m of sim.machines().filter((x) => x.name.includes(id)))
      expect(m.media.filter((p) => p.includes('answers'))).toEqual([]);
    expect(sim.media().filter((m) => m.location === dvd)).toEqual([]);
    expect(existsSync(dvd)).toBe(false);
    const folder = env.options().machineFolder ?? '';
    expect(readdirSync(folder).filter((f) => f.includes('answers'))).toEqual([]);
  }

  it('iso: the installer boots a remastered copy holding the answer files and the expanded kernel parameters (mode 0600); detached, closed and deleted after', async () => {
    const provider = testProvider(env);
    const build = runMasterBuild(provider, spec('vb-iso', ['iso']), 'vb-iso');
    const dvd = await runningInstallerDvd('vb-iso');
    expect(statSync(dvd).mode & 0o777).toBe(0o600);
    const iso = await readIso9660(dvd);
    expect(Buffer.from(await iso.readFile('preseed.cfg')).toString()).toBe(
      'd-i passwd/username string ops\nd-i netcfg/get_hostname string vb-iso\n',
    );
    expect(Buffer.from(await iso.readFile('isolinux/isolinux.cfg')).toString()).toContain(
      'append initrd=/install/initrd.gz quiet auto=true file=/cdrom/preseed.cfg host=vb-iso',
    );
    // `iso` alone leaves the initrd as it was.
    expect(Buffer.from(await iso.readFile('install/initrd.gz'))).toEqual(Buffer.from(INITRD));
    await build;
    expectNoAnswersLeft('vb-iso', dvd);
    // The source ISO is the user's: untouched and not left registered.
    expect(
      simOf(env)
        .media()
        .filter((m) => m.location === installer),
    ).toEqual([]);
    await provider.close();
  }, 30_000);

  it('initrd: every initrd the boot configuration loads has the answers appended as a second cpio archive; nothing at the root', async () => {
    const provider = testProvider(env);
    const build = runMasterBuild(provider, spec('vb-initrd', ['initrd']), 'vb-initrd');
    const dvd = await runningInstallerDvd('vb-initrd');
    const iso = await readIso9660(dvd);
    expect(iso.files.some((f) => f.path === 'preseed.cfg')).toBe(false);
    const initrd = Buffer.from(await iso.readFile('install/initrd.gz'));
    expect(initrd.subarray(0, INITRD.length)).toEqual(Buffer.from(INITRD));
    // Padded to 4 bytes, then a gzip member holding the cpio archive.
    expect(initrd.subarray(INITRD.length, 1004)).toEqual(Buffer.alloc(3));
    const files = cpioFiles(gunzipSync(initrd.subarray(1004)));
    expect(files.get('preseed.cfg')).toBe(
      'd-i passwd/username string ops\nd-i netcfg/get_hostname string vb-initrd\n',
    );
    await build;
    expectNoAnswersLeft('vb-initrd', dvd);
    await provider.close();
  }, 30_000);

  it('iso, initrd and drive at once: one remastered installer DVD and the labelled drive beside it', async () => {
    const provider = testProvider(env);
    const build = runMasterBuild(provider, spec('vb-all', ['iso', 'initrd', 'drive']), 'vb-all');
    const dvd = await runningInstallerDvd('vb-all');
    const media =
      simOf(env)
        .machines()
        .find((x) => x.name.includes('vb-all'))?.media ?? [];
    const drives = media.filter((p) => p.endsWith('-answers.iso') && p !== dvd);
    expect(drives).toHaveLength(1);
    expect((await readIso9660(drives[0] ?? '')).volumeId).toBe('OEMDRV');
    const iso = await readIso9660(dvd);
    expect(iso.files.some((f) => f.path === 'preseed.cfg')).toBe(true);
    expect(Buffer.from(await iso.readFile('install/initrd.gz')).length).toBeGreaterThan(INITRD.length);
    await build;
    expectNoAnswersLeft('vb-all', dvd);
    await provider.close();
  }, 30_000);

  it('an installer that never powers off (installTimeoutMs): the build fails and the answered ISO is gone', async () => {
    const slow = await vboxTestEnv({ behaviour: { installerRunMs: 60_000 } });
    const slowProvider = testProvider(slow, { installTimeoutMs: 300 });
    try {
      const s = spec('vb-timeout', ['iso', 'drive']);
      const built = runMasterBuild(slowProvider, s, 'vb-timeout').catch((e: unknown) => e);
      const sim = simOf(slow);
      let dvd = '';
      while (!dvd) {
        const m = sim.machines().find((x) => x.name.includes('vb-timeout') && x.state === 'Running');
        dvd = m?.media.find((p) => p.endsWith('-installer-answers.iso')) ?? '';
        if (!dvd) await new Promise((r) => setTimeout(r, 5));
      }
      const error = await built;
      expect(VmkitError.is(error, 'TIMEOUT')).toBe(true);
      expect(sim.machines().filter((m) => m.name.includes('vb-timeout'))).toEqual([]);
      expect(sim.media().filter((m) => m.location.includes('answers'))).toEqual([]);
      expect(existsSync(dvd)).toBe(false);
      expect(readdirSync(slow.options().machineFolder ?? '')).toEqual([]);
    } finally {
      await slowProvider.close();
      await slow.close();
    }
  }, 30_000);

  it('an aborted install: the build ends ABORTED and the answered ISO is gone', async () => {
    const slow = await vboxTestEnv({ behaviour: { installerRunMs: 60_000 } });
    const provider = testProvider(slow);
    try {
      const controller = new AbortController();
      const built = runMasterBuild(provider, spec('vb-abort', ['initrd']), 'vb-abort', {
        signal: controller.signal,
      }).catch((e: unknown) => e);
      const sim = simOf(slow);
      let dvd = '';
      while (!dvd) {
        const m = sim.machines().find((x) => x.name.includes('vb-abort') && x.state === 'Running');
        dvd = m?.media.find((p) => p.endsWith('-installer-answers.iso')) ?? '';
        if (!dvd) await new Promise((r) => setTimeout(r, 5));
      }
      controller.abort();
      const error = await built;
      expect(VmkitError.is(error, 'ABORTED')).toBe(true);
      expect(sim.machines().filter((m) => m.name.includes('vb-abort'))).toEqual([]);
      expect(sim.media().filter((m) => m.location.includes('answers'))).toEqual([]);
      expect(existsSync(dvd)).toBe(false);
      expect(readdirSync(slow.options().machineFolder ?? '')).toEqual([]);
    } finally {
      await provider.close();
      await slow.close();
    }
  }, 30_000);

  it('refuses initrd for an ISO whose boot configuration loads no initrd, naming the field; nothing is made', async () => {
    const plain = await bootableInstaller(env.folder, false);
    const provider = testProvider(env);
    const s = spec('vb-noinitrd', ['initrd', 'drive'], { path: plain });
    const error = await runMasterBuild(provider, s, 'vb-noinitrd').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as VmkitError).details.field).toBe('source.unattended.delivery');
    expect((error as Error).message).toMatch(/'initrd' found no initrd/);
    expect(
      simOf(env)
        .machines()
        .filter((m) => m.name.includes('vb-noinitrd')),
    ).toEqual([]);
    expect(readdirSync(env.options().machineFolder ?? '').filter((f) => f.includes('vb-noinitrd'))).toEqual(
      [],
    );
    await provider.close();
  });

  it('http: the simulated guest fetches the url= of its boot line from the answer server through NAT (10.0.2.2, localhostReachable); the server is closed and the loopback shut after', async () => {
    // The simulated installer runs long enough for the boot command to be typed.
    const slow = await vboxTestEnv({ behaviour: { installerRunMs: 3_000 } });
    const provider = testProvider(slow);
    try {
      const s = spec('vb-http', ['http'], {
        kernelParams: 'auto=true url={{http}}/preseed.cfg',
        // Typed with the same session's values: {{http}} is the server the guest fetched from.
        bootWait: 0,
        bootCommand: ['{{http}}/preseed.cfg'],
      });
      let reachable: readonly number[] = [];
      const build = runMasterBuild(provider, s, 'vb-http');
      const sim = simOf(slow);
      for (;;) {
        const m = sim.machines().find((x) => x.name.includes('vb-http') && x.state === 'Running');
        if (m) {
          reachable = m.localhostReachable;
          expect(m.adapters.find((a) => a.slot === 0)?.type).toBe('NAT');
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(reachable).toEqual([0]);
      await build;
      const m = sim.machines().find((x) => x.name.includes('vb-http'));
      const [fetched] = m?.installerFetches ?? [];
      expect(fetched?.url).toMatch(/^http:\/\/10\.0\.2\.2:\d+\/[\w-]{20,}\/preseed\.cfg$/);
      expect(fetched?.status).toBe(200);
      expect(fetched?.body).toBe('d-i passwd/username string ops\nd-i netcfg/get_hostname string vb-http\n');
      expect(m?.localhostReachable).toEqual([]);
      const typed = parseBootCommand([fetched?.url ?? ''], 'x').flatMap((a) =>
        a.kind === 'wait' ? [] : setOneScancodes(a.keycodes),
      );
      expect(m?.scancodes).toEqual(typed);
      // The answer server lived as long as the install: nothing answers there now.
      await expect(fetch(fetched?.hostUrl ?? '', { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    } finally {
      await provider.close();
      await slow.close();
    }
  }, 30_000);

  it('http with a wrong answer file name: the installer gets a 404 and never powers off; the build fails on installTimeoutMs and the server is closed', async () => {
    const provider = testProvider(env, { installTimeoutMs: 1_500 });
    const s = spec('vb-http404', ['http'], { kernelParams: 'auto=true url={{http}}/missing.cfg' });
    const built = runMasterBuild(provider, s, 'vb-http404').catch((e: unknown) => e);
    const sim = simOf(env);
    let fetched: { url: string; hostUrl?: string; status: number } | undefined;
    while (!fetched) {
      fetched = sim.machines().find((x) => x.name.includes('vb-http404'))?.installerFetches[0];
      if (!fetched) await new Promise((r) => setTimeout(r, 5));
    }
    expect(fetched.status).toBe(404);
    const error = await built;
    expect(VmkitError.is(error, 'TIMEOUT')).toBe(true);
    expect(sim.machines().filter((x) => x.name.includes('vb-http404'))).toEqual([]);
    await expect(fetch(fetched.hostUrl ?? '', { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    await provider.close();
  }, 30_000);

  it("the simulator's NAT rule: without localhostReachable (no http delivery) a url= at 10.0.2.2 does not reach the host's loopback; the installer never powers off", async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('answers\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const provider = testProvider(env, { installTimeoutMs: 1_000 });
    try {
      const s = spec('vb-noloop', ['iso'], { kernelParams: `url=http://10.0.2.2:${port}/preseed.cfg` });
      const built = runMasterBuild(provider, s, 'vb-noloop').catch((e: unknown) => e);
      const sim = simOf(env);
      let fetched: { status: number; hostUrl?: string } | undefined;
      while (!fetched) {
        fetched = sim.machines().find((x) => x.name.includes('vb-noloop'))?.installerFetches[0];
        if (!fetched) await new Promise((r) => setTimeout(r, 5));
      }
      expect(fetched).toMatchObject({ status: 0 });
      expect(fetched.hostUrl).toBeUndefined();
      expect(VmkitError.is(await built, 'TIMEOUT')).toBe(true);
      expect(hits).toEqual([]);
    } finally {
      await provider.close();
      await new Promise((r) => server.close(r));
    }
  }, 30_000);
});
