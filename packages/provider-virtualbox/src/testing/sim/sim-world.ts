import { rm } from 'node:fs/promises';
import { readIso9660 } from '@vmkit/imaging';
import { SimGuestControl } from './guest-control.js';
import { guestNetworkFiles, guestNetworkProperties, guestNics, withNetworkConfig } from './guest-network.js';
import { type GuestScript, startGuestScript } from './guest-shell.js';
import { installerFetch } from './installer-fetch.js';
import { SimEventSource, SimRuntimeErrorEvent } from './sim-events.js';
import { ResultCode, runtime } from './sim-fault.js';
import {
  HostNicView,
  type MachineView,
  type SimMachine,
  type SimMedium,
  SimProgress,
  SystemPropertiesView,
} from './sim-model.js';

/** How the simulated host and guests behave. */
export interface SimBehaviour {
  /** Milliseconds from launch to `Running`. */
  readonly bootMs: number;
  /** Milliseconds an installer (a guest booted from a DVD first) runs before it powers itself off. */
  readonly installerRunMs: number;
  /** Milliseconds a guest takes to power off after the ACPI power button. */
  readonly acpiShutdownMs: number;
  /** Whether guests answer the ACPI power button. */
  readonly acpiResponsive: boolean;
  /** Whether guests run guest additions: report their addresses as guest properties, and have `VBoxControl` for their user data. */
  readonly guestAdditions: boolean;
  /** Milliseconds a clone, snapshot, disk creation or power-down takes. */
  readonly taskMs: number;
  /**
   * Files every guest's root starts with, by absolute path (as if on its disk), e.g. an
   * `/etc/machine-id` for a post-install step to reset. The simulator keeps no disk contents: a
   * clone's guest starts with these files too, whatever its master's guest did to them.
   */
  readonly guestFiles: Readonly<Record<string, string>>;
  /**
   * The users of every simulated guest and their passwords (user → password), which a Guest
   * Control session (`IGuest.createSession`) must name; none by default.
   */
  readonly guestLogins: Readonly<Record<string, string>>;
}

/** One write a running guest made to a medium. */
export interface MediumWrite {
  readonly medium: string;
  readonly machine: string;
  /** Set when the medium had children: a write that would corrupt them. */
  readonly corrupting: boolean;
}

/** The simulated VBoxSVC: machines, media, host interfaces and running guests. */
export class SimWorld {
  readonly machines: SimMachine[] = [];
  readonly media: SimMedium[] = [];
  readonly hostNics: HostNicView[];
  readonly writes: MediumWrite[] = [];
  readonly deletedMedia: string[] = [];
  /** Every user-data script a guest ran, in order. */
  readonly guestRuns: Array<{ machine: string; instanceId: string; script: GuestScript }> = [];
  /** ISystemProperties (the host's Guest Additions ISO). */
  readonly systemProperties: SystemPropertiesView;
  /** Addresses handed to guests on host-only, bridged and internal networks, so each is unique. */
  #nextAddress = 0;

  constructor(
    readonly behaviour: SimBehaviour,
    hostNics: ReadonlyArray<{
      name: string;
      type: 'Bridged' | 'HostOnly';
      up?: boolean;
      ip?: string;
      mask?: string;
    }>,
    readonly machineFolder: string,
    additionsIso = '',
  ) {
    this.systemProperties = new SystemPropertiesView(additionsIso);
    this.hostNics = hostNics.map(
      (n) => new HostNicView(n.name, n.type, n.up ?? true, n.ip ?? '', n.mask ?? '255.255.255.0'),
    );
  }

  /** A registered machine by name or UUID, or a VBOX_E_OBJECT_NOT_FOUND fault. */
  findMachine(nameOrId: string): SimMachine {
    const m = this.machines.find((x) => x.registered && (x.name === nameOrId || x.id === nameOrId));
    if (!m)
      throw runtime(
        ResultCode.VBOX_E_OBJECT_NOT_FOUND,
        `Could not find a registered machine named '${nameOrId}'`,
      );
    return m;
  }

  /** A registered medium by location. */
  mediumAt(location: string): SimMedium | undefined {
    return this.media.find((m) => m.registered && m.location === location);
  }

  /** Adds a medium to the registry. */
  addMedium(medium: SimMedium): SimMedium {
    this.media.push(medium);
    return medium;
  }

  /** Removes a medium from the registry (and from its parent's children). */
  removeMedium(medium: SimMedium, deleted: boolean): void {
    medium.registered = false;
    medium.parent?.children.delete(medium);
    const i = this.media.indexOf(medium);
    if (i >= 0) this.media.splice(i, 1);
    if (deleted) {
      medium.state = 'Deleted';
      this.deletedMedia.push(medium.location);
    }
  }

  /** Machines (registered or not) whose settings or snapshots use a medium. */
  usersOf(medium: SimMedium): SimMachine[] {
    return this.machines.filter(
      (m) =>
        m.settings.attachments.some((a) => a.medium === medium) ||
        m.snapshots.some((s) => s.settings.attachments.some((a) => a.medium === medium)),
    );
  }

  /** A progress object that completes after the task time, running `work` first. */
  task(description: string, work: () => void | Promise<void> = () => {}): SimProgress {
    const progress = new SimProgress(description);
    setTimeout(async () => {
      try {
        await work();
        progress.complete();
      } catch (error) {
        const code = (error as { resultCode?: number }).resultCode ?? ResultCode.E_FAIL;
        progress.complete(code, (error as Error).message);
      }
    }, this.behaviour.taskMs).unref();
    return progress;
  }

  #timer(machine: SimMachine, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      machine.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    machine.timers.add(t);
  }

  /** Guest writes to every writable disk of the machine's current state. */
  recordWrites(machine: SimMachine): void {
    for (const a of machine.settings.attachments) {
      if (a.type !== 'HardDisk' || !a.medium) continue;
      a.medium.writes++;
      this.writes.push({
        medium: a.medium.location,
        machine: machine.name,
        corrupting: a.medium.children.size > 0,
      });
    }
  }

  /**
   * Powers a machine on: Starting, then Running. A guest booted from a DVD with a hard disk
   * attached is an installer and powers itself off later; with no hard disk it is a live system
   * (a boot ISO node) and keeps running like a booted disk.
   */
  powerOn(machine: SimMachine, progress: SimProgress): void {
    machine.setState('Starting');
    machine.writeLock = 'vm';
    machine.consoleEvents = new SimEventSource();
    this.#timer(machine, this.behaviour.bootMs, () => {
      machine.setState('Running');
      this.recordWrites(machine);
      machine.nics = guestNics(machine.settings.adapters, () => this.#nextAddress++);
      this.#startGuestControl(machine);
      if (this.behaviour.guestAdditions) this.#reportAddresses(machine);
      progress.complete();
      const first = machine.settings.bootOrder[0];
      const dvd = machine.settings.attachments.some((a) => a.type === 'DVD' && a.medium);
      const disk = machine.settings.attachments.some((a) => a.type === 'HardDisk');
      if (first === 'DVD' && dvd && disk) this.#installerRuns(machine);
      else void this.#cloudInit(machine);
    });
  }

  /**
   * cloud-init in the guest: from the first NoCloud drive (`cidata`) whose `meta-data` names an
   * `instance-id`, user data starting with `#!` is run once per instance, for real (see
   * {@link startGuestScript}): its `VBoxControl guestproperty set` sets the machine's guest
   * property, its `poweroff` (or `shutdown -h`) powers the machine off. Other user data
   * (cloud-config, MIME parts) is not interpreted: the guest keeps running.
   */
  async #cloudInit(machine: SimMachine): Promise<void> {
    try {
      for (const a of machine.settings.attachments) {
        if (a.type !== 'DVD' || !a.medium || a.medium.virtual) continue;
        let userData: string;
        let instanceId: string | undefined;
        let networkConfig: string | undefined;
        try {
          const iso = await readIso9660(a.medium.location);
          if (iso.volumeId.toLowerCase() !== 'cidata') continue;
          const text = async (name: string) => new TextDecoder().decode(await iso.readFile(name));
          instanceId = metaDataInstanceId(await text('meta-data'));
          userData = await text('user-data');
          if (iso.files.some((f) => f.path === 'network-config'))
            networkConfig = await text('network-config');
        } catch {
          continue; // Not a drive cloud-init can read.
        }
        if (instanceId === undefined) continue;
        if (machine.state !== 'Running' || machine.cloudInstances.has(instanceId)) return;
        machine.cloudInstances.add(instanceId);
        // cloud-init applies the network config first: static addresses replace the DHCP ones
        // (reported by Guest Additions, seen by `ip` in the guest).
        if (networkConfig !== undefined) {
          machine.nics = withNetworkConfig(machine.nics, networkConfig);
          this.#startGuestControl(machine);
          if (this.behaviour.guestAdditions) this.#reportAddresses(machine);
        }
        if (userData.startsWith('#!'))
          this.#runUserData(machine, instanceId, userData, await mountedMedia(machine, a.medium));
        return;
      }
    } finally {
      machine.cloudInitPasses++;
    }
  }

  #runUserData(
    machine: SimMachine,
    instanceId: string,
    userData: string,
    media: Readonly<Record<string, Uint8Array>>,
  ): void {
    const script = startGuestScript(userData, {
      guestAdditions: this.behaviour.guestAdditions,
      files: { ...this.behaviour.guestFiles, ...guestNetworkFiles(machine.nics), ...media },
      onCall: (call) => {
        if (machine.guest !== script || machine.state !== 'Running') return;
        if (call.command === 'VBoxControl') setGuestProperty(machine, call.args);
        else this.powerOff(machine);
      },
    });
    this.guestRuns.push({ machine: machine.name, instanceId, script });
    machine.guest = script;
    void script.done.then(() => {
      // A guest that cannot run its user data crashes: the machine is Aborted.
      if (script.error !== undefined && machine.guest === script && machine.state === 'Running')
        this.powerOff(machine, 'Aborted');
    });
  }

  /** Guest Control of a guest that just booted (its sessions need Guest Additions to start). */
  #startGuestControl(machine: SimMachine): void {
    machine.guestControl = new SimGuestControl(
      this.behaviour.guestAdditions,
      () => this.behaviour.guestLogins,
      () => machine.guest?.root,
      { ...this.behaviour.guestFiles, ...guestNetworkFiles(machine.nics) },
    );
  }

  /** A reset of a running guest: a new boot (the user-data script is cut off; cloud-init runs again). */
  reset(machine: SimMachine): void {
    this.#endGuest(machine);
    this.#startGuestControl(machine);
    this.recordWrites(machine);
    void this.#cloudInit(machine);
  }

  /**
   * The installer powers the machine off after its run time spent running (not paused, not stuck).
   * One whose boot line has a `url=` fetches it first (see {@link installerFetch}); when that
   * fetch fails it stops at its error and never powers off, as Debian's installer does.
   */
  #installerRuns(machine: SimMachine): void {
    // A boot DVD that cannot be read counts as a failed fetch: the installer stops at its error.
    void installerFetch(machine)
      .catch(() => false)
      .then((ok) => {
        if (ok) this.#installerPowersOff(machine);
      });
  }

  #installerPowersOff(machine: SimMachine): void {
    this.#timer(machine, this.behaviour.installerRunMs, () => {
      if (machine.state === 'Running') this.powerOff(machine);
      else if (machine.state === 'Paused') machine.installerDue = true;
    });
  }

  /** A paused guest's processes stop; a resumed one's continue. */
  pause(machine: SimMachine, paused: boolean): void {
    machine.setState(paused ? 'Paused' : 'Running');
    machine.guest?.freeze(paused);
    if (!paused && machine.installerDue) {
      machine.installerDue = false;
      this.#installerPowersOff(machine);
    }
  }

  /**
   * The VM reports a runtime error (`IRuntimeErrorEvent` on its console's event source): a fatal
   * one pauses the machine first, as VirtualBox does (`DrvVD_DISKFULL` when a disk write finds the
   * host disk full). The machine must be running.
   */
  runtimeError(machine: SimMachine, error: { id: string; fatal: boolean; message: string }): void {
    if (machine.state !== 'Running' || !machine.consoleEvents)
      throw new Error(`${machine.name} is ${machine.state}: only a running VM reports runtime errors`);
    if (error.fatal) this.pause(machine, true);
    machine.runtimeErrors.push({ ...error });
    machine.consoleEvents.fire(new SimRuntimeErrorEvent(error.fatal, error.id, error.message));
  }

  /** A guest panic ("Guru Meditation"): the VM is `Stuck`, its guest frozen, until powered down. */
  guestPanic(machine: SimMachine): void {
    if (machine.state !== 'Running') throw new Error(`${machine.name} is ${machine.state}, not Running`);
    for (const t of machine.timers) clearTimeout(t);
    machine.timers.clear();
    machine.guest?.freeze(true);
    machine.setState('Stuck');
  }

  #endGuest(machine: SimMachine): void {
    machine.guestControl?.end();
    machine.guestControl = undefined;
    machine.guest?.kill();
    machine.guest = undefined;
  }

  #reportAddresses(machine: SimMachine): void {
    const now = Date.now() * 1_000_000;
    for (const [key, value] of guestNetworkProperties(machine.nics))
      machine.guestProps.set(key, { value, ts: now });
  }

  /** The guest answers the ACPI power button (if it does) by powering off. */
  acpiPowerButton(machine: SimMachine): void {
    if (this.behaviour.acpiResponsive)
      this.#timer(machine, this.behaviour.acpiShutdownMs, () => {
        if (machine.state === 'Running') this.powerOff(machine);
      });
  }

  /** Powers a machine off: the VM process and every shared session let go of it. */
  powerOff(machine: SimMachine, state = 'PoweredOff'): void {
    this.#endGuest(machine);
    machine.consoleEvents?.end();
    machine.consoleEvents = undefined;
    machine.installerDue = false;
    for (const t of machine.timers) clearTimeout(t);
    machine.timers.clear();
    if (machine.state === 'Running' || machine.state === 'Paused') this.recordWrites(machine);
    machine.setState(state);
    for (const key of [...machine.guestProps.keys()])
      if (key.startsWith('/VirtualBox/GuestInfo/')) machine.guestProps.delete(key);
    if (machine.writeLock === 'vm') machine.writeLock = undefined;
    for (const s of machine.shared) {
      s.state = 'Unlocked';
      s.type = 'Null';
      s.machine = undefined;
    }
    machine.shared.clear();
  }

  /**
   * vboxwebsrv went away (stopped, crashed, restarting): VBoxSVC sees its client go, so every lock
   * a client session held is released (a running VM keeps its own) and its drafts are discarded;
   * machines that were never registered existed only through the websession's references and are
   * released. Media VBoxSVC made for them stay in the media registry; running guests and tasks run on.
   */
  webServiceGone(): void {
    for (const m of [...this.machines]) {
      if (m.writeLock !== undefined && m.writeLock !== 'vm') {
        m.writeLock.state = 'Unlocked';
        m.writeLock.type = 'Null';
        m.writeLock.machine = undefined;
        m.writeLock = undefined;
        m.draft = undefined;
      }
      for (const s of m.shared) {
        s.state = 'Unlocked';
        s.type = 'Null';
        s.machine = undefined;
      }
      m.shared.clear();
      if (!m.registered) {
        m.deleted = true;
        this.machines.splice(this.machines.indexOf(m), 1);
      }
    }
  }

  /** Stops every timer and guest, and removes the guests' root folders (the simulator is closing). */
  async stopAll(): Promise<void> {
    for (const m of this.machines) {
      for (const t of m.timers) clearTimeout(t);
      m.timers.clear();
      this.#endGuest(m);
    }
    for (const run of this.guestRuns) {
      run.script.kill();
      await run.script.done;
      await rm(run.script.root, { recursive: true, force: true });
    }
  }
}

/** The most bytes of DVD contents a simulated guest's desktop mounts for it (bigger media are not mounted). */
const MEDIA_BYTES = 64 * 1024 * 1024;

/**
 * The files of the machine's other ISO 9660 DVDs (not the NoCloud drive `drive`), as a desktop
 * guest's automounter shows them: under `/media/<volume id>/`. Media the simulator made, media
 * that are not ISO 9660 and media over {@link MEDIA_BYTES} are left out.
 */
async function mountedMedia(machine: SimMachine, drive: SimMedium): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  let bytes = 0;
  for (const a of machine.settings.attachments) {
    if (a.type !== 'DVD' || !a.medium || a.medium.virtual || a.medium === drive) continue;
    try {
      const iso = await readIso9660(a.medium.location);
      const files = iso.files.filter((f) => f.type === 'file');
      const size = files.reduce((n, f) => n + f.size, 0);
      if (bytes + size > MEDIA_BYTES || !/^[A-Za-z0-9_.-]+$/.test(iso.volumeId)) continue;
      bytes += size;
      for (const f of files)
        out[`/media/${iso.volumeId}/${f.path.replace(/^\/+/, '')}`] = await iso.readFile(f.path);
    } catch {
      // Not an ISO 9660 image: nothing the automounter shows.
    }
  }
  return out;
}

/** The `instance-id` of a NoCloud `meta-data` (YAML as cloud-init reads it: plain or double-quoted). */
function metaDataInstanceId(metaData: string): string | undefined {
  const m = /^instance-id:[ \t]*(.+?)[ \t]*$/m.exec(metaData);
  if (!m?.[1]) return undefined;
  return m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
}

/** `VBoxControl [--nologo] guestproperty set <property> [<value>]` in the guest: sets or deletes. */
function setGuestProperty(machine: SimMachine, args: readonly string[]): void {
  const a = args[0] === '--nologo' ? args.slice(1) : args;
  const [verb, sub, key, value] = a;
  if (verb !== 'guestproperty' || sub !== 'set' || key === undefined || a.length > 4) return;
  if (value === undefined) machine.guestProps.delete(key);
  else machine.guestProps.set(key, { value, ts: Date.now() * 1_000_000 });
}

/** The machine a view belongs to must not be running for disk changes. */
export function assertPoweredOff(view: MachineView): void {
  const s = view.machine.state;
  if (s !== 'PoweredOff' && s !== 'Aborted' && s !== 'Saved')
    throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, `Invalid machine state: ${s}`, true);
}
