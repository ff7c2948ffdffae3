import type { ComputeService, MasterSpec } from '@vmkit/core';
import type { BlobStore } from '@vmkit/core/blobstore';
import { type HypervisorProvider, invalidArgument, VmkitError } from '@vmkit/core/spi';
import type { Settings } from '../config/settings.js';
import { openProvider } from './open-provider.js';

/**
 * Opens the compute service the settings describe: the provider they name (libvirt or VirtualBox)
 * and the directory or S3 store, each loaded only now; images whose source is a Vagrant box
 * (`{ type: 'box', path | url }`) are read by `@vmkit/import`'s `vagrantBoxReader`. An image spec the config got wrong is `INVALID_ARGUMENT` naming
 * the config file and `images[i]`.
 */
export async function openService(settings: Settings): Promise<ComputeService> {
  return (await openServiceAndProvider(settings)).service;
}

/** {@link openService}, with the provider it opened (for a command that asks what it can do). */
export async function openServiceAndProvider(
  settings: Settings,
): Promise<{ readonly service: ComputeService; readonly provider: HypervisorProvider }> {
  const { createComputeService } = await import('@vmkit/core');
  // Checked before connecting, so a bad spec is reported as such even when the hypervisor is down.
  await checkImageSpecs(settings);
  const provider = await openProvider(settings.provider);
  const store = await openStore(settings);
  try {
    // Vagrant boxes as image sources: read by @vmkit/import's reader (loaded only then).
    const boxes = settings.images.some(
      (spec) => (spec.source as { type?: unknown } | undefined)?.type === 'box',
    );
    const sources = boxes ? { box: (await import('@vmkit/import')).vagrantBoxReader() } : undefined;
    const service = await createComputeService({
      provider,
      store,
      ...(sources ? { sources } : {}),
      images: settings.images as unknown as MasterSpec[],
      // Only `up --ephemeral` makes ephemeral nodes: they go when its service closes.
      ephemeralNodes: { destroyOnClose: true },
      ...(settings.leaseDir ? { ports: { leaseDir: settings.leaseDir } } : {}),
    });
    return { service, provider };
  } catch (error) {
    throw inConfigFile(settings, error);
  }
}

/**
 * Checks the image specs of the settings as core will (`INVALID_ARGUMENT` naming the config file
 * and `images[i]`), without opening anything.
 */
export async function checkImageSpecs(settings: Settings): Promise<void> {
  const checks = await (await import('@vmkit/core/internal')).loadValidators();
  try {
    for (const [i, spec] of settings.images.entries()) checks.checkMasterSpec(spec, `images[${i}]`);
  } catch (error) {
    throw inConfigFile(settings, error);
  }
}

/** Core's refusal of `images[i]` told as a fault of the config file that holds it. */
function inConfigFile(settings: Settings, error: unknown): unknown {
  if (
    !settings.configFile ||
    !VmkitError.is(error, 'INVALID_ARGUMENT') ||
    !error.message.startsWith('images[')
  )
    return error;
  return invalidArgument(
    settings.configFile,
    error.message,
    { ...error.details, file: settings.configFile },
    { cause: error },
  );
}

/** The metadata store the settings name: a directory, or an S3 bucket (its client loaded only then). */
export async function openStore(settings: Settings): Promise<BlobStore> {
  if ('s3' in settings.store) {
    const { s3BlobStore } = await import('@vmkit/store-s3');
    const s3 = settings.store.s3;
    return s3BlobStore({
      bucket: s3.bucket,
      ...(s3.prefix ? { prefix: s3.prefix } : {}),
      ...(s3.region ? { region: s3.region } : {}),
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      ...(s3.forcePathStyle !== undefined ? { forcePathStyle: s3.forcePathStyle } : {}),
    });
  }
  const { fileSystemBlobStore } = await import('@vmkit/core/blobstore');
  return fileSystemBlobStore({ root: settings.store.dir });
}
