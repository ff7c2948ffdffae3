/**
 * The firmware a machine boots with: `bios` (legacy BIOS, SeaBIOS on libvirt) or `efi` (UEFI,
 * OVMF on libvirt). A disk installed under one does not boot under the other, so a node always
 * has its master's firmware.
 */
export type Firmware = 'bios' | 'efi';

/** A hardware profile: what a node gets. */
export interface Hardware {
  /** Profile id, e.g. `small`. */
  readonly id: string;
  /** Human-readable name. */
  readonly name?: string;
  /** Virtual CPUs. */
  readonly cores: number;
  /** Memory in MiB. */
  readonly ramMiB: number;
  /** Root disk size in GiB. */
  readonly diskGiB: number;
  /**
   * Firmware (default: the master's, which defaults to `bios`). A node asking for another
   * firmware than its master's is refused: the master's disk was installed for its own.
   */
  readonly firmware?: Firmware;
}

/** Hardware a master asks for; unset fields take the provider's defaults. */
export interface MasterHardware {
  /** Virtual CPUs. */
  readonly cores?: number;
  /** Memory in MiB. */
  readonly ramMiB?: number;
  /** Root disk size in GiB. */
  readonly diskGiB?: number;
  /**
   * Firmware the master is built and booted with (default `bios`); its nodes get the same.
   * `efi` needs a provider whose `capabilities().firmware` includes it (libvirt: the host's
   * `ovmf` package).
   */
  readonly firmware?: Firmware;
}

/** The profiles `listHardwareProfiles` returns unless a provider says otherwise. */
export const DEFAULT_HARDWARE_PROFILES: readonly Hardware[] = Object.freeze([
  Object.freeze({ id: 'micro', name: 'Micro', cores: 1, ramMiB: 256, diskGiB: 1 }),
  Object.freeze({ id: 'small', name: 'Small', cores: 1, ramMiB: 1024, diskGiB: 10 }),
  Object.freeze({ id: 'medium', name: 'Medium', cores: 2, ramMiB: 4096, diskGiB: 20 }),
  Object.freeze({ id: 'large', name: 'Large', cores: 4, ramMiB: 8192, diskGiB: 40 }),
]);
