import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createComputeService, type Logger, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '../src/provider/libvirt-provider.js';
import { leftovers, sweep } from './libvirt-sweep.js';

/** Where Debian's `debian-installer-12-netboot-amd64` package puts the text installer's kernel and initrd. */
const DIR = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';

/**
 * The real Debian 12 installer's `linux` and `initrd.gz` (the package is installed by
 * scripts/setup.sh, see scripts/lib/common.sh); throws when they are missing.
 */
export function debianInstaller(): { kernel: string; initrd: string } {
  const kernel = `${DIR}/linux`;
  const initrd = `${DIR}/initrd.gz`;
  if (!existsSync(kernel) || !existsSync(initrd))
    throw new Error(`Debian's installer is not in ${DIR}: apt-get install debian-installer-12-netboot-amd64`);
  return { kernel, initrd };
}

/** What the test preseed's `preseed/early_command` prints, computed by the installer's shell (no file holds it). */
export const PRESEED_MARKER = 'VMKIT-PRESEED-READ-42';

/** A preseed whose early command prints {@link PRESEED_MARKER} and the hostname on the serial console, then powers off. */
export const TEST_PRESEED = [
  '# vmkit test preseed: prove the installer read it, then stop',
  'd-i debian-installer/locale string en_US',
  'd-i keyboard-configuration/xkb-keymap select us',
  'd-i preseed/early_command string echo "VMKIT-PRESEED-READ-$((6*7)) for {{hostname}}" > /dev/ttyS0; sync; poweroff -f',
  '',
].join('\n');

/** A `kernel` master spec of Debian's installer with the test preseed delivered one way. */
export function debianInstallerSpec(
  id: string,
  cmdline: string,
  delivery: 'initrd' | 'http',
  options: { installTimeoutMs?: number; fileName?: string } = {},
): MasterSpec {
  return {
    id,
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: {
      type: 'kernel',
      ...debianInstaller(),
      cmdline: `auto=true priority=critical console=ttyS0 ${cmdline}`,
      unattended: { files: { [options.fileName ?? 'preseed.cfg']: TEST_PRESEED }, delivery: [delivery] },
      installTimeoutMs: options.installTimeoutMs ?? 360_000,
    },
    hardware: { cores: 2, ramMiB: 1024, diskGiB: 1 },
  };
}

/** A logger that keeps its lines. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (message: string, fields?: unknown) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: log, info: log, warn: log, error: log };
}

/** The directory of a libvirt storage pool. */
export function poolDirectory(uri: string, pool: string): string {
  const xml = execFileSync('virsh', ['-c', uri, 'pool-dumpxml', pool], { encoding: 'utf8' });
  const path = /<path>([^<]+)<\/path>/.exec(xml)?.[1];
  if (!path) throw new Error(`pool ${pool} has no path`);
  return path;
}

/**
 * Builds `master` through the public API until `create-and-install` is done (the installer
 * powered off: the install finished), reads the installer's console log from the pool's directory
 * at that moment, and stops the build there with an abort (the disk is empty after such an
 * install). Returns the console text ('' when the step never finished), the build's error and the time.
 */
export async function installOnly(
  options: {
    uri: string;
    pool: string;
    prefix: string;
    storeRoot: string;
    logger: Logger;
    /** Called once while the installer runs (its first "installer running" progress), with the pool's directory. */
    whileRunning?: (poolDir: string) => void;
    /** The provider's `installPowerOffMs`. */
    installPowerOffMs?: number;
  },
  master: MasterSpec,
): Promise<{ console: string; error: unknown; ms: number }> {
  const { uri, pool, prefix, logger } = options;
  const poolDir = poolDirectory(uri, pool);
  await using compute = await createComputeService({
    provider: libvirtProvider({
      uri,
      pool,
      namePrefix: prefix,
      ...(options.installPowerOffMs === undefined ? {} : { installPowerOffMs: options.installPowerOffMs }),
    }),
    store: fileSystemBlobStore({ root: join(options.storeRoot, master.id) }),
    logger,
  });
  const stop = new AbortController();
  let console = '';
  const started = Date.now();
  const error = await compute
    .ensureImage(master, {
      signal: stop.signal,
      onProgress: (e) => {
        if (options.whileRunning && /installer running/.test(e.message)) {
          const call = options.whileRunning;
          options = { ...options, whileRunning: undefined };
          call(poolDir);
        }
        if (e.step !== 'create-and-install' || e.stepOutcome !== 'done') return;
        const log = readdirSync(poolDir).find((n) => n.startsWith(`${prefix}install-`) && n.endsWith('.log'));
        console = log ? readFileSync(join(poolDir, log), 'utf8') : '';
        stop.abort();
      },
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  return { console, error, ms: Date.now() - started };
}

/** A test run's end: its libvirt objects swept (none may be left) and its directory removed. */
export async function endRun(uri: string, prefix: string, pool: string, dir: string): Promise<void> {
  await sweep(uri, prefix, pool);
  const left = await leftovers(uri, prefix, pool);
  rmSync(dir, { recursive: true, force: true });
  if (left.domains.length > 0 || left.volumes.length > 0)
    throw new Error(`left behind: ${JSON.stringify(left)}`);
}
