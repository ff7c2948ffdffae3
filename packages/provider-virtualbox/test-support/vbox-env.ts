// Where the VirtualBox integration tests run: against the strict simulator (always, in CI), or
// against a real vboxwebsrv when VMKIT_VBOX_URL is set (with VMKIT_VBOX_USER, VMKIT_VBOX_PASSWORD
// and VMKIT_VBOX_FOLDER, a folder on the vboxwebsrv host, which must be this host).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterSpec } from '@vmkit/core';
import { writeIso9660 } from '@vmkit/imaging';
import { it } from 'vitest';
import { type VirtualBoxProviderOptions, virtualBoxProvider } from '../src/index.js';
import { startVboxSimulator, type VboxSimulator, type VboxSimulatorOptions } from '../src/testing/index.js';

/** Whether the integration tests run against the simulator (`VMKIT_VBOX_URL` unset). */
export const ON_SIMULATOR = !process.env.VMKIT_VBOX_URL;

/**
 * `it` for a test that needs the simulator (its fault injection, counters, restarts or
 * bookkeeping): shown as skipped against a real vboxwebsrv, except in CI (`CI=true`), where
 * nothing required may be skipped: there it runs, and {@link simOf} fails it.
 */
export const itOnSimulator = it.runIf(ON_SIMULATOR || process.env.CI === 'true');

/** The environment's simulator; throws (failing the test) against a real vboxwebsrv. */
export function simOf(env: VboxTestEnv): VboxSimulator {
  if (!env.sim) throw new Error('this test needs the simulator; VMKIT_VBOX_URL points at a real vboxwebsrv');
  return env.sim;
}

/** A vboxwebsrv to test against. */
export interface VboxTestEnv {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** The simulator, unless the tests run against a real vboxwebsrv. */
  readonly sim: VboxSimulator | undefined;
  /** A scratch folder for machines, disks and config drives. */
  readonly folder: string;
  /** A unique name prefix for this run. */
  readonly prefix: string;
  /** Provider options for this environment. */
  options(extra?: Partial<VirtualBoxProviderOptions>): VirtualBoxProviderOptions;
  close(): Promise<void>;
}

let counter = 0;

/** Starts the simulator (or points at VMKIT_VBOX_URL) with a scratch folder and a fresh prefix. */
export async function vboxTestEnv(simOptions: VboxSimulatorOptions = {}): Promise<VboxTestEnv> {
  const real = process.env.VMKIT_VBOX_URL;
  const folder = process.env.VMKIT_VBOX_FOLDER
    ? join(process.env.VMKIT_VBOX_FOLDER, `run-${process.pid}-${++counter}`)
    : mkdtempSync(join(tmpdir(), 'vmkit-vbox-test-'));
  mkdirSync(folder, { recursive: true });
  const sim = real
    ? undefined
    : await startVboxSimulator({ machineFolder: join(folder, 'default'), ...simOptions });
  const url = real ?? sim?.url ?? '';
  const username = real ? (process.env.VMKIT_VBOX_USER ?? '') : (sim?.username ?? '');
  const password = real ? (process.env.VMKIT_VBOX_PASSWORD ?? '') : (sim?.password ?? '');
  const prefix = `vt${Date.now().toString(36).slice(-5)}${process.pid.toString(36)}${++counter}-`;
  return {
    url,
    username,
    password,
    sim,
    folder,
    prefix,
    options: (extra = {}) => ({
      url,
      username,
      password,
      namePrefix: prefix,
      machineFolder: join(folder, 'machines'),
      pollIntervalMs: real ? 250 : 10,
      stopGraceMs: real ? 30_000 : 2_000,
      // The simulator's installers and post-install scripts take well under a second: one that
      // never powers off fails the test in a minute, not in the default two hours.
      ...(real ? {} : { installTimeoutMs: 60_000 }),
      ...extra,
    }),
    async close() {
      await sim?.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** A tiny "installer" ISO (the simulator boots it and powers off; a real guest would install). */
export async function installerIso(folder: string): Promise<string> {
  const path = join(folder, 'installer.iso');
  writeFileSync(
    path,
    await writeIso9660([{ path: 'README.TXT', content: 'vmkit test installer\n' }], {
      volumeId: 'VMKIT_TEST',
    }),
  );
  return path;
}

/** A small disk image made with qemu-img in the given format. */
export function diskImage(
  folder: string,
  format: 'vdi' | 'vmdk' | 'vpc' | 'qcow2' | 'raw',
  name = `disk.${format}`,
): string {
  const path = join(folder, name);
  execFileSync('qemu-img', ['create', '-q', '-f', format, path, '64M']);
  return path;
}

/** A master spec installing from the test ISO. */
export async function isoMasterSpec(env: VboxTestEnv, id: string): Promise<MasterSpec> {
  return {
    id,
    os: { family: 'linux', version: 'test', arch: 'x86_64' },
    source: { type: 'iso', path: await installerIso(env.folder) },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
  };
}

/** A provider for the environment. */
export function testProvider(env: VboxTestEnv, extra: Partial<VirtualBoxProviderOptions> = {}) {
  return virtualBoxProvider(env.options(extra));
}

/** Removes the scratch folder (for tests that made their own). */
export function removeFolder(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
