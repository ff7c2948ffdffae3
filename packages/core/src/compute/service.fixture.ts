import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '../blobstore/blob-store.js';
import { fileSystemBlobStore } from '../blobstore/file-system-blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { ProviderCapabilities } from '../spi/hypervisor-provider.js';
import {
  type MemoryProvider,
  type MemoryProviderFaults,
  memoryProvider,
} from '../testing/memory-provider.js';
import type { LogFields, Logger } from '../util/logger.js';
import type { ComputeService } from './compute-service.js';
import type { ComputeServiceOptions } from './compute-service-options.js';
import { createComputeService } from './create-compute-service.js';

/** A spec the memory provider builds. */
export function debianSpec(id = 'debian-12', extra: Partial<MasterSpec> = {}): MasterSpec {
  return {
    id,
    os: { family: 'debian', version: '12.5', arch: 'x86_64' },
    source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
    login: { user: 'root' },
    ...extra,
  };
}

/** A scratch directory removed by `dispose`. */
export interface Scratch {
  readonly dir: string;
  readonly store: BlobStore;
  readonly leaseDir: string;
  service(provider: MemoryProvider, options?: Partial<ComputeServiceOptions>): Promise<ComputeService>;
  dispose(): Promise<void>;
}

/** Makes a scratch area with a filesystem store and a private lease directory. */
export async function scratch(): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-core-'));
  const store = fileSystemBlobStore({ root: join(dir, 'store'), durable: false });
  const leaseDir = join(dir, 'leases');
  const services: ComputeService[] = [];
  return {
    dir,
    store,
    leaseDir,
    async service(provider, options = {}) {
      const service = await createComputeService({
        provider,
        store,
        images: [debianSpec()],
        ports: { leaseDir, probe: false },
        credentials: { directory: join(dir, 'credentials') },
        ...options,
      });
      services.push(service);
      return service;
    },
    async dispose() {
      for (const s of services) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A memory provider with faults. */
export function provider(faults: MemoryProviderFaults = {}): MemoryProvider {
  return memoryProvider({ faults });
}

/** A logger keeping its warnings, for tests that check what was quarantined and why. */
export function recordingLogger(): Logger & { warnings: Array<{ message: string; fields?: LogFields }> } {
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  const noop = () => {};
  return {
    debug: noop,
    info: noop,
    error: noop,
    warn: (message, fields) => warnings.push({ message, fields }),
    warnings,
  };
}

/** The code, field and message a call failed with (`'ok'` when it did not). */
export const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) =>
      VmkitError.is(e)
        ? `${e.code} ${String((e.details as { field?: string }).field)}: ${e.message}`
        : String(e),
  );

/** What a call failed with, as a `VmkitError` (`undefined` when it succeeded). */
export const failure = (p: Promise<unknown>): Promise<VmkitError | undefined> =>
  p.then(
    () => undefined,
    (e: unknown) => (VmkitError.is(e) ? e : new VmkitError('PROVIDER', String(e))),
  );

/**
 * A memory provider whose capabilities say `value` for `key` (leave it out when `undefined`), and
 * which counts the calls of its `method` in `calls`: core must refuse what the capability rules out
 * before it asks.
 */
export function withCapability<K extends 'snapshots' | 'imageFromNode'>(
  key: K,
  value: ProviderCapabilities[K] | undefined,
  method: 'snapshotNode' | 'createMasterFromNode',
): MemoryProvider & { calls: number } {
  const p = provider();
  const caps = p.capabilities.bind(p);
  const original = (p[method] as (...args: unknown[]) => Promise<unknown>).bind(p);
  const wrapped = Object.assign(p, {
    calls: 0,
    capabilities: async () => {
      const { [key]: _, ...rest } = await caps();
      return value ? { ...rest, [key]: value } : rest;
    },
    [method]: async (...args: unknown[]) => {
      wrapped.calls++;
      return original(...args);
    },
  });
  return wrapped;
}
