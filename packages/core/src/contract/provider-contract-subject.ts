import type { MasterSpec } from '../model/master-spec.js';
import type { BoundNetwork } from '../model/network-spec.js';
import type { HostNetwork, HypervisorProvider, ProviderCapabilities } from '../spi/hypervisor-provider.js';
import type { SharedFolderSeen } from './shared-folder-contract.js';

/**
 * What a provider contract run needs. The probes (`leftovers`, `bootId`, `hostNetworks`) read the
 * hypervisor itself, not the provider under test, so the suite checks what really happened.
 */
export interface ProviderContractSubject {
  /** The provider under test; `init` is called by the suite. */
  readonly provider: HypervisorProvider;
  /** A spec this provider can build quickly (its id is made unique per build by the suite). */
  readonly masterSpec: MasterSpec;
  /** A network to give clones (default: one NAT NIC without forwards). */
  readonly network?: BoundNetwork;
  /** Whether started nodes really run (default true); the test driver of libvirt, say, fakes them. */
  readonly realGuests?: boolean;
  /**
   * How long a started node may take until its guest agent answers, for the exec/copy/address
   * checks of a provider whose capabilities say `guestAgent` (default 180 s: a guest booting under
   * TCG).
   */
  readonly agentTimeoutMs?: number;
  /**
   * Whether the hypervisor takes config drives for the static address check (default true);
   * libvirt's test driver cannot upload volumes, so its nodes there get the NICs without a drive.
   */
  readonly configDrives?: boolean;
  /** Whether to check `exportMasterDisk` and `importMasterDisk` (default: the provider has both). */
  readonly masterTransfer?: boolean;
  /**
   * The capabilities the hypervisor really has, as the caller knows them (e.g. port forwarding
   * only where QEMU runs); compared field by field with `capabilities()`.
   */
  readonly expectedCapabilities: Partial<ProviderCapabilities>;
  /**
   * Networks the hypervisor itself reports (e.g. `virsh net-list --all --name`), at least one:
   * each must be in `listHostNetworks()` with the fields given.
   */
  hostNetworks(): Promise<ReadonlyArray<Pick<HostNetwork, 'name'> & Partial<HostNetwork>>>;
  /**
   * An identity of a running node's current boot, read from the guest or the hypervisor (the
   * guest's boot id, a domain id that changes on restart, a boot count); `undefined` while it
   * cannot be read (the guest still booting). It must change when the node reboots.
   */
  bootId(nodeId: string): Promise<string | undefined>;
  /**
   * Names of every real object (domains, volumes, machines, media) this provider has made, read
   * from the hypervisor; an aborted build must leave it as it was. Default: the ids of
   * `provider.listArtefacts()` (a provider without that must pass this).
   */
  leftovers?(): Promise<readonly string[]>;
  /**
   * A node's shared folders as the hypervisor itself reports them (libvirt: the domain XML's
   * `<filesystem>` elements; VirtualBox: the machine's shared folders), for the shared-folder
   * check of a provider whose capabilities name a type. Without it that check cannot see them.
   */
  sharedFolders?(nodeId: string): Promise<readonly SharedFolderSeen[]>;
  /**
   * Called once after the suite: remove what the suite could not. `suite.run` begins every name
   * the suite gave (nodes, groups, the networks its NICs name, such as `<run>-static`, which a
   * hypervisor may have made on demand and keeps).
   */
  cleanup?(suite: { readonly run: string }): Promise<void>;
}
