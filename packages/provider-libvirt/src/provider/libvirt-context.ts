import type { ProviderBootIsoCache } from '@vmkit/imaging';
import type { LibvirtClient } from '../client/libvirt-client.js';
import type { PoolStorage } from './host/pool-storage.js';
import type { ResolvedLibvirtProviderOptions } from './libvirt-provider-options.js';

/** What the provider's parts share once connected. */
export interface LibvirtContext {
  readonly client: LibvirtClient;
  readonly storage: PoolStorage;
  readonly options: ResolvedLibvirtProviderOptions;
  /** Domain type in use (`qemu`, `kvm`, `test`). */
  readonly domainType: string;
  /** Guest architecture. */
  readonly arch: string;
  /** Whether NAT NICs use QEMU's user networking on the command line (qemu and kvm drivers). */
  readonly qemuCommandLine: boolean;
  /** Whether started domains really run a guest (false for libvirt's test driver). */
  readonly realGuests: boolean;
  /** Where ISOs are remastered with kernel parameters, once per ISO and parameters. */
  readonly bootIsos: ProviderBootIsoCache;
}

/** The data kept in a libvirt MasterRef. */
export interface LibvirtMasterData {
  readonly [key: string]: unknown;
  readonly pool: string;
  readonly volume: string;
  readonly format: 'qcow2' | 'raw';
  readonly capacityBytes: number;
  /** `cdrom`: a live boot ISO (`bootIso` source) nodes boot from, with no disk of their own. */
  readonly boot: 'disk' | 'kernel' | 'cdrom';
  /** Kernel boot: volumes (or host paths when the driver cannot take uploads). */
  readonly kernelVolume?: string;
  readonly initrdVolume?: string;
  readonly kernelPath?: string;
  readonly initrdPath?: string;
  readonly cmdline?: string;
  /**
   * UEFI masters (`hardware.firmware: 'efi'`): the master's own NVRAM volume, made from OVMF's
   * variable store template, written by its build boots and copied into each node. Absent: BIOS.
   */
  readonly nvramVolume?: string;
  readonly volumes: readonly string[];
}
