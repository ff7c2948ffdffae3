import { randomUUID } from 'node:crypto';
import type { SimGuestControl } from './guest-control.js';
import type { GuestNic } from './guest-network.js';
import type { GuestScript } from './guest-shell.js';
import type { SimEventSource } from './sim-events.js';
import type { SimTarget } from './websessions.js';

/** A NAT port-forward rule of one adapter. */
export interface NatRule {
  readonly name: string;
  readonly proto: string;
  readonly hostIP: string;
  readonly hostPort: number;
  readonly guestIP: string;
  readonly guestPort: number;
}

/** One network adapter's settings. */
export interface AdapterSettings {
  enabled: boolean;
  attachmentType: string;
  mac: string;
  bridgedInterface: string;
  hostOnlyInterface: string;
  internalNetwork: string;
  redirects: NatRule[];
  /** `INATEngine::localhostReachable`: whether the guest reaches the host's loopback at 10.0.2.2. */
  localhostReachable: boolean;
}

/** A device on a storage controller. */
export interface Attachment {
  readonly controller: string;
  readonly port: number;
  readonly device: number;
  readonly type: string;
  medium: SimMedium | undefined;
}

/** A permanent shared folder of a machine (`IMachine::createSharedFolder`). */
export interface SimSharedFolder {
  readonly name: string;
  readonly hostPath: string;
  readonly writable: boolean;
  readonly autoMount: boolean;
  readonly autoMountPoint: string;
}

/** Everything `saveSettings` commits. */
export interface MachineSettings {
  memoryMB: number;
  cpus: number;
  /** `IMachine::firmwareType` (a `FirmwareType` name of the WSDL: BIOS, EFI, EFI32, EFI64, EFIDUAL). */
  firmwareType: string;
  description: string;
  extraData: Map<string, string>;
  controllers: Map<string, string>;
  attachments: Attachment[];
  bootOrder: string[];
  adapters: AdapterSettings[];
  sharedFolders: SimSharedFolder[];
}

let macCounter = 0x100;

/** A fresh MAC address (VirtualBox's 080027 prefix). */
export function newMac(): string {
  macCounter++;
  return `080027${macCounter.toString(16).padStart(6, '0').toUpperCase()}`;
}

/** Default settings of a new machine. */
export function defaultSettings(): MachineSettings {
  return {
    memoryMB: 128,
    cpus: 1,
    firmwareType: 'BIOS',
    description: '',
    extraData: new Map(),
    controllers: new Map(),
    attachments: [],
    bootOrder: ['Floppy', 'DVD', 'HardDisk', 'Null'],
    adapters: Array.from({ length: 8 }, (_, i) => ({
      enabled: i === 0,
      attachmentType: i === 0 ? 'NAT' : 'Null',
      mac: newMac(),
      bridgedInterface: '',
      hostOnlyInterface: '',
      internalNetwork: 'intnet',
      redirects: [],
      localhostReachable: false,
    })),
    sharedFolders: [],
  };
}

/** A deep copy (media are shared, not copied). */
export function copySettings(s: MachineSettings): MachineSettings {
  return {
    ...s,
    extraData: new Map(s.extraData),
    controllers: new Map(s.controllers),
    attachments: s.attachments.map((a) => ({ ...a })),
    bootOrder: [...s.bootOrder],
    adapters: s.adapters.map((a) => ({ ...a, redirects: [...a.redirects] })),
    sharedFolders: [...s.sharedFolders],
  };
}

/** A medium of the media registry. */
export class SimMedium implements SimTarget {
  readonly iface = 'IMedium';
  readonly id = randomUUID();
  readonly children = new Set<SimMedium>();
  /** Writes a running guest made to this medium. */
  writes = 0;
  state: 'NotCreated' | 'Created' | 'Deleted' = 'Created';
  logicalSize = 0;
  registered = true;

  constructor(
    readonly location: string,
    readonly format: string,
    readonly deviceType: string,
    /** Whether the simulator made it (no file on the host) or opened a real file. */
    readonly virtual: boolean,
    /** Its parent; a snapshot's deletion merges a medium into its child, which takes this over. */
    public parent: SimMedium | undefined = undefined,
  ) {
    parent?.children.add(this);
  }
}

/** A snapshot: the settings and media of a machine frozen when it was taken. */
export class SimSnapshot implements SimTarget {
  readonly iface = 'ISnapshot';
  readonly id = randomUUID();
  readonly view: MachineView;
  /** When it was taken (ms since the epoch, as `ISnapshot.timeStamp`). */
  readonly timeStamp = Date.now();
  /** Snapshots taken after it while it was current. */
  readonly children: SimSnapshot[] = [];

  constructor(
    readonly machine: SimMachine,
    readonly name: string,
    readonly description: string,
    readonly settings: MachineSettings,
    /** The snapshot that was current when it was taken (a deletion moves children up). */
    public parent: SimSnapshot | undefined = undefined,
    /** Whether it holds a saved state (taken of a running or paused machine). */
    readonly online = false,
  ) {
    this.view = new MachineView(machine, 'snapshot', this);
    parent?.children.push(this);
  }
}

/** A lock on a machine held by a client session or by the VM process. */
export type LockHolder = SimSession | 'vm';

/** A machine of the registry. */
export class SimMachine {
  readonly id = randomUUID();
  registered = false;
  state = 'PoweredOff';
  lastStateChange = Date.now();
  settings = defaultSettings();
  draft: MachineSettings | undefined;
  readonly snapshots: SimSnapshot[] = [];
  /** The snapshot the current state is based on (the last taken or restored). */
  currentSnapshot: SimSnapshot | undefined;
  readonly guestProps = new Map<string, { value: string; ts: number }>();
  writeLock: LockHolder | undefined;
  readonly shared = new Set<SimSession>();
  readonly plain: MachineView;
  readonly session: MachineView;
  readonly timers = new Set<NodeJS.Timeout>();
  /** The user-data script its guest runs (cloud-init), until the guest powers off. */
  guest: GuestScript | undefined;
  /** The NICs its guest has (set at each boot). */
  nics: GuestNic[] = [];
  /** Guest Control of its running guest (IGuest), while a VM process runs it. */
  guestControl: SimGuestControl | undefined;
  /** Instance ids whose user data its guest ran: cloud-init runs it once per instance. */
  readonly cloudInstances = new Set<string>();
  /** Boots whose cloud-init pass is over (whether it ran anything or not). */
  cloudInitPasses = 0;
  /** Set once `deleteConfig` completed: the object is uninitialised. */
  deleted = false;
  /** Its console's event source while a VM process runs it. */
  consoleEvents: SimEventSource | undefined;
  /** Scancodes its keyboard was given (`IKeyboard.putScancodes`) while it ran, in order. */
  readonly scancodes: number[] = [];
  /** Runtime errors its VM reported (`IRuntimeErrorEvent`), in order. */
  readonly runtimeErrors: Array<{ id: string; fatal: boolean; message: string }> = [];
  /** What its installer guest fetched from the `url=` of its boot line (see `SimInstallerFetch`). */
  readonly installerFetches: Array<{ url: string; hostUrl?: string; status: number; body: string }> = [];
  /** An installer whose run ended while it was paused: it powers off once resumed. */
  installerDue = false;

  constructor(
    public name: string,
    readonly settingsFile: string,
    readonly osTypeId: string,
  ) {
    this.plain = new MachineView(this, 'plain');
    this.session = new MachineView(this, 'session');
  }

  /** Whether any session or the VM process holds a lock. */
  get locked(): boolean {
    return this.writeLock !== undefined || this.shared.size > 0;
  }

  /** Moves to a new state. */
  setState(state: string): void {
    this.state = state;
    this.lastStateChange = Date.now();
  }
}

/** An IMachine reference: the registered machine, a session's mutable copy, or a snapshot's. */
export class MachineView implements SimTarget {
  readonly iface = 'IMachine';
  constructor(
    readonly machine: SimMachine,
    readonly kind: 'plain' | 'session' | 'snapshot',
    readonly snapshot?: SimSnapshot,
  ) {}

  /** The settings this view reads. */
  get settings(): MachineSettings {
    if (this.kind === 'snapshot' && this.snapshot) return this.snapshot.settings;
    if (this.kind === 'session' && this.machine.draft) return this.machine.draft;
    return this.machine.settings;
  }

  /** Whether settings may change through this view. */
  get mutable(): boolean {
    if (this.kind === 'plain') return !this.machine.registered;
    return this.kind === 'session' && this.machine.draft !== undefined;
  }
}

/** INetworkAdapter of a machine view. */
export class AdapterView implements SimTarget {
  readonly iface = 'INetworkAdapter';
  constructor(
    readonly view: MachineView,
    readonly slot: number,
  ) {}
}

/** INATEngine of an adapter. */
export class NatView implements SimTarget {
  readonly iface = 'INATEngine';
  constructor(readonly adapter: AdapterView) {}
}

/** IStorageController of a machine view. */
export class ControllerView implements SimTarget {
  readonly iface = 'IStorageController';
  constructor(
    readonly view: MachineView,
    readonly name: string,
  ) {}
}

/** An `ISharedFolder` reference: one shared folder of a machine view. */
export class SharedFolderView implements SimTarget {
  readonly iface = 'ISharedFolder';
  constructor(readonly folder: SimSharedFolder) {}
}

/** A client session (ISession). */
export class SimSession implements SimTarget {
  readonly iface = 'ISession';
  state: 'Unlocked' | 'Locked' = 'Unlocked';
  type: 'Null' | 'WriteLock' | 'Remote' | 'Shared' = 'Null';
  machine: SimMachine | undefined;
  readonly console = new ConsoleView(this);
}

/** IConsole of a locked session. */
export class ConsoleView implements SimTarget {
  readonly iface = 'IConsole';
  readonly keyboard = new KeyboardView(this);
  constructor(readonly session: SimSession) {}
}

/** IKeyboard of a console. */
export class KeyboardView implements SimTarget {
  readonly iface = 'IKeyboard';
  constructor(readonly console: ConsoleView) {}
}

/** An asynchronous operation (IProgress). */
export class SimProgress implements SimTarget {
  readonly iface = 'IProgress';
  completed = false;
  resultCode = 0;
  errorText = '';
  readonly done: Promise<void>;
  #resolve!: () => void;

  constructor(readonly description: string) {
    this.done = new Promise((r) => (this.#resolve = r));
  }

  /** Ends the operation, successfully unless a result code is given. */
  complete(resultCode = 0, errorText = ''): void {
    if (this.completed) return;
    this.completed = true;
    this.resultCode = resultCode;
    this.errorText = errorText;
    this.#resolve();
  }
}

/** IVirtualBoxErrorInfo. */
export class ErrorInfoView implements SimTarget {
  readonly iface = 'IVirtualBoxErrorInfo';
  constructor(
    readonly resultCode: number,
    readonly text: string,
  ) {}
}

/** A host network interface (IHostNetworkInterface). */
export class HostNicView implements SimTarget {
  readonly iface = 'IHostNetworkInterface';
  constructor(
    readonly name: string,
    readonly type: 'Bridged' | 'HostOnly',
    readonly up: boolean,
    readonly ip: string,
    readonly mask: string,
  ) {}
}

/** ISystemProperties: the host's Guest Additions ISO. */
export class SystemPropertiesView implements SimTarget {
  readonly iface = 'ISystemProperties';
  constructor(public additionsIso: string) {}
}

/** Singletons: IVirtualBox and IHost. */
export const VBOX: SimTarget = Object.freeze({ iface: 'IVirtualBox' });
/** The host object. */
export const HOST: SimTarget = Object.freeze({ iface: 'IHost' });
