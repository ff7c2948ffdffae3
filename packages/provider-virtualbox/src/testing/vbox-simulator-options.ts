import type { SimBehaviour } from './sim/sim-world.js';

/** A host network interface the simulated host has. */
export interface SimHostInterface {
  /** Interface name (`eth0`, `vboxnet0`). */
  readonly name: string;
  /** `Bridged` for physical interfaces, `HostOnly` for host-only adapters. */
  readonly type: 'Bridged' | 'HostOnly';
  /** Whether it is up (default true). */
  readonly up?: boolean;
  /** Its IPv4 address. */
  readonly ip?: string;
}

/** Options of {@link startVboxSimulator}. */
export interface VboxSimulatorOptions {
  /** The user logon accepts (default `vmkit`). */
  readonly username?: string;
  /** The password logon accepts (default `vmkit-sim`). */
  readonly password?: string;
  /** TCP port on 127.0.0.1 (default: a free one). */
  readonly port?: number;
  /** Websessions idle this long are logged off (default 300,000 ms, vboxwebsrv's default). */
  readonly idleTimeoutMs?: number;
  /** Folder of default settings files (default: a folder under the OS temp dir). */
  readonly machineFolder?: string;
  /** Host interfaces (default: `eth0` bridged and `vboxnet0` host-only). */
  readonly hostInterfaces?: readonly SimHostInterface[];
  /**
   * The host's Guest Additions ISO (`ISystemProperties.defaultAdditionsISO`; default none: empty,
   * as on a host without the VirtualBox Guest Additions package).
   */
  readonly additionsIso?: string;
  /** Timings and guest behaviour. */
  readonly behaviour?: Partial<SimBehaviour>;
}

/** A fault to answer instead of running an operation. */
export interface SimFaultRule {
  /** Operation, e.g. `IMachine_cloneTo`. */
  readonly operation: string;
  /** Which call of that operation fails, counted from 1 after the rule is set (default 1). */
  readonly nth?: number;
  /** Result code (default VBOX_E_IPRT_ERROR, 0x80BB0005). */
  readonly resultCode?: number;
  /** Error text. */
  readonly message?: string;
}

/** A machine as the simulator holds it, for tests. */
export interface SimMachineInfo {
  readonly name: string;
  readonly id: string;
  readonly registered: boolean;
  readonly state: string;
  readonly locked: boolean;
  readonly memoryMB: number;
  readonly cpus: number;
  /** `IMachine::firmwareType`: `BIOS`, `EFI`, ... */
  readonly firmwareType: string;
  readonly extraData: Readonly<Record<string, string>>;
  /** Locations of the media its current state uses. */
  readonly media: readonly string[];
  /** The medium it boots from: the first attached medium of its first boot device type. */
  readonly bootMedium: string | undefined;
  /** NAT rules by adapter slot. */
  readonly redirects: ReadonlyArray<{ slot: number; name: string; hostPort: number; guestPort: number }>;
  /** Enabled adapters: slot, attachment, MAC and attached network name. */
  readonly adapters: ReadonlyArray<{ slot: number; type: string; mac: string; network: string }>;
  readonly snapshots: readonly string[];
  /** Its permanent shared folders (`IMachine::createSharedFolder`), in order. */
  readonly sharedFolders: ReadonlyArray<{
    name: string;
    hostPath: string;
    writable: boolean;
    autoMount: boolean;
    autoMountPoint: string;
  }>;
  /** NoCloud instance ids whose user data its guest's cloud-init handled (once each). */
  readonly cloudInstances: readonly string[];
  /** Boots whose cloud-init pass is over, whether it ran anything or not. */
  readonly cloudInitPasses: number;
  /** Runtime errors its VM reported, in order (see `VboxSimulator.injectRuntimeError`). */
  /** Scancodes its keyboard was given (`IKeyboard.putScancodes`), in order. */
  readonly scancodes: readonly number[];
  /** What its installer guest fetched from the `url=` on its boot line, in order. */
  readonly installerFetches: readonly SimInstallerFetch[];
  /** Adapter slots whose NAT engine lets the guest reach the host's loopback (`localhostReachable`). */
  readonly localhostReachable: readonly number[];
  readonly runtimeErrors: readonly SimRuntimeError[];
  /** Passive listeners registered on its running VM's console event source. */
  readonly consoleListeners: number;
}

/**
 * A fetch by a simulated installer of the `url=` kernel parameter on its boot DVD's isolinux or
 * GRUB configuration (as Debian's installer fetches `url=` for its preseed). Only a URL at
 * `10.0.2.2` through an enabled NAT adapter whose `INATEngine::localhostReachable` is set reaches
 * the host (at 127.0.0.1, the same port and path); any other is not fetched (`status` 0).
 */
export interface SimInstallerFetch {
  /** The URL as the guest saw it on its boot line. */
  readonly url: string;
  /** The host URL it reached, if any. */
  readonly hostUrl?: string;
  /** The HTTP status, or 0 when nothing answered. */
  readonly status: number;
  /** The body received (the first 64 KiB, as UTF-8). */
  readonly body: string;
}

/** A runtime error a VM reports (VirtualBox's `IRuntimeErrorEvent`). */
export interface SimRuntimeError {
  /** Its identifier (`DrvVD_DISKFULL`: a disk write found the host disk full). */
  readonly id: string;
  /** Whether it is fatal: the VM is paused before it is reported. */
  readonly fatal: boolean;
  /** Its message. */
  readonly message: string;
}

/** A medium as the simulator holds it, for tests. */
export interface SimMediumInfo {
  readonly location: string;
  readonly deviceType: string;
  readonly format: string;
  readonly parent?: string;
  readonly children: number;
  /** Writes running guests made to it. */
  readonly writes: number;
  /**
   * Whether a file on the host holds it (an opened file, or a base disk the simulator created);
   * differencing disks have none: their size is `SIM_BYTES_PER_WRITE` per write.
   */
  readonly file: boolean;
}

/** A user-data script a simulated guest ran (see `VboxSimulator.guestRuns`). */
export interface SimGuestRun {
  /** The machine whose guest ran it. */
  readonly machine: string;
  /** The NoCloud `instance-id` it ran for (once per instance, as cloud-init does). */
  readonly instanceId: string;
  /** The guest's root folder, as the script left it (removed when the simulator closes). */
  readonly root: string;
  /** The stubbed commands it called (`VBoxControl`, `poweroff`, `shutdown`), in order. */
  readonly calls: ReadonlyArray<{ readonly command: string; readonly args: readonly string[] }>;
  /** Its stdout and stderr (the first 64 KiB). */
  readonly output: string;
  /** Its exit status once it exited; `null` when the guest powered off under it. Absent while it runs. */
  readonly exitCode?: number | null;
  /** Why the guest could not run it (the machine then aborts). */
  readonly error?: string;
}

/** One request the simulator rejected (broke a rule of the API or the WSDL). */
export interface SimRejection {
  readonly operation: string;
  readonly message: string;
}

/** Default timings: fast enough for tests, slow enough for states to be seen. */
export const DEFAULT_BEHAVIOUR: SimBehaviour = Object.freeze({
  bootMs: 20,
  installerRunMs: 150,
  acpiShutdownMs: 30,
  acpiResponsive: true,
  guestAdditions: true,
  taskMs: 5,
  guestFiles: Object.freeze({}),
  guestLogins: Object.freeze({}),
});
