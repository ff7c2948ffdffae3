import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { type LibvirtProvider, libvirtProvider } from '../src/provider/libvirt-provider.js';
import type { LibvirtProviderOptions } from '../src/provider/libvirt-provider-options.js';
import { sweep } from './libvirt-sweep.js';

/** A test file's compute service on `qemu:///system` (pool `vmkit`) and how to undo it. */
export interface LibvirtTestCompute {
  readonly compute: ComputeService;
  /** The provider under it. */
  readonly provider: LibvirtProvider;
  /** Closes the service, removes every domain and volume of the prefix and the local files. */
  dispose(): Promise<void>;
}

/**
 * A compute service over a libvirt provider whose objects carry `prefix`, with its blob store and
 * port leases in a temporary directory: one per test file, so runs never meet. `service` adds
 * options of the compute service; `credentials: true` keeps the group keys in that directory too.
 */
export async function libvirtTestCompute(
  prefix: string,
  images: readonly MasterSpec[],
  options: Partial<LibvirtProviderOptions> = {},
  service: { readonly credentials?: boolean } = {},
): Promise<LibvirtTestCompute> {
  const dir = mkdtempSync(join(tmpdir(), `vmkit-${prefix}`));
  let compute: ComputeService | undefined;
  const provider = libvirtProvider({ uri: 'qemu:///system', pool: 'vmkit', namePrefix: prefix, ...options });
  const dispose = async () => {
    await (compute ?? provider).close();
    await sweep('qemu:///system', prefix, 'vmkit');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [...images],
      ports: { leaseDir: join(dir, 'leases') },
      ...(service.credentials ? { credentials: { directory: join(dir, 'credentials') } } : {}),
    });
  } catch (error) {
    await dispose();
    throw error;
  }
  return { compute, provider, dispose };
}
