import { access } from 'node:fs/promises';
import { VmkitError } from '@vmkit/core/spi';

/** The UEFI firmware pair QEMU boots `efi` domains with: read-only code and a variable store template. */
export interface OvmfFirmware {
  /** The firmware code, mapped read-only as pflash. */
  readonly code: string;
  /** The empty variable store each master's NVRAM starts as. */
  readonly vars: string;
}

/**
 * Where distributions install OVMF without Secure Boot (which would need q35 and SMM), first
 * match wins: Debian and Ubuntu (`ovmf`), Fedora and RHEL (`edk2-ovmf`), Arch (`edk2-ovmf`).
 */
export const OVMF_CANDIDATES: readonly OvmfFirmware[] = Object.freeze([
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', vars: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
  { code: '/usr/share/edk2/x64/OVMF_CODE.4m.fd', vars: '/usr/share/edk2/x64/OVMF_VARS.4m.fd' },
]);

/**
 * The host's OVMF files (the first of `candidates` whose two files exist). Throws `UNSUPPORTED`
 * naming the paths looked at and the package to install when there is none. The files are looked
 * for on this machine: the libvirt host must have them at the same paths.
 */
export async function findOvmf(candidates: readonly OvmfFirmware[] = OVMF_CANDIDATES): Promise<OvmfFirmware> {
  for (const pair of candidates) {
    if ((await exists(pair.code)) && (await exists(pair.vars))) return pair;
  }
  throw new VmkitError(
    'UNSUPPORTED',
    `hardware.firmware: 'efi' needs OVMF (UEFI firmware for QEMU), and none was found (looked for ` +
      `${candidates.map((c) => c.code).join(', ')}); install the ovmf package (apt-get install ovmf; ` +
      'edk2-ovmf on Fedora and Arch)',
    { details: { field: 'hardware.firmware' } },
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
