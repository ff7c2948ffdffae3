import type { ComputeService, MasterSpec } from '@vmkit/core';
import type { BlobStore } from '@vmkit/core/blobstore';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import type { Settings } from '../config/settings.js';

/**
 * Opens the compute service the settings describe: the libvirt provider and the directory or S3
 * store, each loaded only now. An image spec the config got wrong is `INVALID_ARGUMENT` naming
 * the config file and `images[i]`.
 */
export async function openService(settings: Settings): Promise<ComputeService> {
  const [core, { libvirtProvider }] = await Promise.all([
    import('@vmkit/core'),
    import('@vmkit/provider-libvirt'),
  ]);
  const { createComputeService } = core;
  // Checked before connecting, so a bad spec is reported as such even when the hypervisor is down.
  await checkImageSpecs(settings);
  let provider: ReturnType<typeof libvirtProvider>;
  try {
    provider = libvirtProvider(settings.provider);
  } catch (error) {
    throw withCliAllowance(error, VmkitError);
  }
  const store = await openStore(settings);
  try {
    return await createComputeService({
      provider,
      store,
      images: settings.images as unknown as MasterSpec[],
      // Only `up --ephemeral` makes ephemeral nodes: they go when its service closes.
      ephemeralNodes: { destroyOnClose: true },
      ...(settings.leaseDir ? { ports: { leaseDir: settings.leaseDir } } : {}),
    });
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

/**
 * The provider's refusal of a URI that chooses a program (it names the option `allowUriPrograms`)
 * told the command line's way: the flag, or the config key.
 */
function withCliAllowance(error: unknown, errors: typeof VmkitError): unknown {
  if (!errors.is(error, 'INVALID_ARGUMENT') || error.details.allowWith !== 'allowUriPrograms') return error;
  const message = error.message.replace(
    /allowUriPrograms: true$/,
    '--allow-uri-programs (or provider.allowUriPrograms: true in the config)',
  );
  return new errors('INVALID_ARGUMENT', message, { details: error.details, cause: error });
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
