import type { HypervisorProvider } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import type { ProviderSettings } from '../config/provider-settings.js';

/**
 * Makes the provider the settings name, loading its package only now: a libvirt command never
 * loads `@vmkit/provider-virtualbox`, nor a VirtualBox command `@vmkit/provider-libvirt`. The
 * options other than `type` go to the factory as they are; an option it refuses is
 * `INVALID_ARGUMENT` naming `provider.<field>`.
 */
export async function openProvider(settings: ProviderSettings): Promise<HypervisorProvider> {
  const { type, ...options } = settings;
  try {
    if (type === 'virtualbox') {
      const { virtualBoxProvider } = await import('@vmkit/provider-virtualbox');
      return virtualBoxProvider(options as Parameters<typeof virtualBoxProvider>[0]);
    }
    const { libvirtProvider } = await import('@vmkit/provider-libvirt');
    return libvirtProvider(options as Parameters<typeof libvirtProvider>[0]);
  } catch (error) {
    throw asProviderField(error);
  }
}

/**
 * A factory's refusal of one of its options (`url: must be ...`) told as the config field
 * (`provider.url: must be ...`). The refusal of a URI that chooses a program (it names the
 * option `allowUriPrograms`) instead names the flag, or the config key.
 */
function asProviderField(error: unknown): unknown {
  if (!VmkitError.is(error, 'INVALID_ARGUMENT')) return error;
  const message =
    error.details.allowWith === 'allowUriPrograms'
      ? error.message.replace(
          /allowUriPrograms: true$/,
          '--allow-uri-programs (or provider.allowUriPrograms: true in the config)',
        )
      : typeof error.details.field === 'string' && error.message.startsWith(`${error.details.field}: `)
        ? `provider.${error.message}`
        : error.message;
  return new VmkitError('INVALID_ARGUMENT', message, { details: error.details, cause: error });
}
