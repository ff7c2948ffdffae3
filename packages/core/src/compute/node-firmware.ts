import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { Firmware } from '../model/hardware.js';
import type { Template } from '../model/template.js';
import type { ProviderCapabilities } from '../spi/hypervisor-provider.js';

/**
 * The firmware the nodes of `template` boot with: always their master's (`masterFirmware`). A
 * template asking for another (`options.hardware.firmware`, else `hardware.firmware`) is refused
 * (`INVALID_ARGUMENT`): the master's disk was installed for its firmware, and a disk installed for
 * BIOS does not boot under EFI, nor one installed for EFI under BIOS.
 */
export function nodeFirmware(template: Template, masterFirmware: Firmware): Firmware {
  const asked = template.options.hardware?.firmware ?? template.hardware.firmware;
  if (asked !== undefined && asked !== masterFirmware) {
    throw invalidArgument(
      'hardware.firmware',
      `must be the firmware of image ${template.image.id}, ${masterFirmware} (got ${asked}): its disk was ` +
        `installed for ${masterFirmware} and does not boot under ${asked}; build an image with hardware.firmware: '${asked}'`,
    );
  }
  return masterFirmware;
}

/** Refuses (`UNSUPPORTED`, naming `field`) a firmware the provider cannot boot; `bios` always passes. */
export function assertFirmwareSupported(
  firmware: Firmware,
  caps: ProviderCapabilities,
  provider: string,
  field: string,
): void {
  if (firmware === 'bios' || caps.firmware?.includes(firmware)) return;
  throw new VmkitError(
    'UNSUPPORTED',
    `${field}: ${provider} cannot boot ${firmware} firmware (it supports ${(caps.firmware ?? ['bios']).join(', ')})`,
    { details: { field } },
  );
}
