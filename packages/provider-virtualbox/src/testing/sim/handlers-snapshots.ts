import { randomUUID } from 'node:crypto';
import { machine, mutable } from './handlers-machine.js';
import type { SimCall, SimHandler } from './sim-call.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import { copySettings, type MachineSettings, type SimMachine, SimMedium, SimSnapshot } from './sim-model.js';
import type { SimWorld } from './sim-world.js';
import { assertPoweredOff } from './sim-world.js';

// Snapshots as VirtualBox documents them (VirtualBox.xidl, IMachine.takeSnapshot,
// restoreSnapshot, deleteSnapshot, findSnapshot; ISnapshot): taking one freezes the machine's
// current media for the snapshot and gives the machine new differencing media on top; restoring
// needs a machine that is not running, discards the current differencing media and makes new
// ones over the snapshot's (an online snapshot leaves the machine Saved); deleting merges the
// snapshot's media into their one child and fails when a medium has several children.

/** States in which a snapshot is taken with the machine's saved state (online). */
const ONLINE_STATES = new Set(['Running', 'Paused']);

/** The session view of `_this`: snapshots are changed through a locked session's machine. */
function sessionMachine(c: SimCall): SimMachine {
  const view = mutable(c);
  if (view.kind !== 'session')
    throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, 'Snapshots need a session');
  return view.machine;
}

/** New differencing media over the hard disks of `settings`, in the machine's Snapshots folder. */
function diffsOver(world: SimWorld, m: SimMachine, settings: MachineSettings): void {
  const folder = m.settingsFile.replace(/[^/]+$/, '');
  for (const a of settings.attachments) {
    if (a.type !== 'HardDisk' || !a.medium) continue;
    const location = `${folder}Snapshots/{${randomUUID()}}.vdi`;
    a.medium = world.addMedium(new SimMedium(location, 'VDI', 'HardDisk', true, a.medium));
  }
}

/** Whether a snapshot of the machine still uses the medium. */
function inSnapshot(m: SimMachine, medium: SimMedium): boolean {
  return m.snapshots.some((s) => s.settings.attachments.some((a) => a.medium === medium));
}

function findIn(m: SimMachine, key: string): SimSnapshot | undefined {
  if (key === '') return m.snapshots.find((s) => s.parent === undefined);
  return m.snapshots.find((s) => s.name === key || s.id === key);
}

/** IMachine's snapshot methods and ISnapshot's attributes. */
export const snapshotHandlers: Record<string, SimHandler> = {
  IMachine_takeSnapshot(c) {
    const view = mutable(c);
    const m = sessionMachine(c);
    const online = ONLINE_STATES.has(m.state);
    if (!online) assertPoweredOff(view);
    const before = m.state;
    const snap = new SimSnapshot(
      m,
      c.str('name'),
      c.str('description'),
      copySettings(m.settings),
      m.currentSnapshot,
      online,
    );
    m.snapshots.push(snap);
    m.currentSnapshot = snap;
    // The frozen media stay the snapshot's; the machine (and a session's draft) write to new diffs.
    const frozen = new Map(m.settings.attachments.map((a) => [a, a.medium]));
    diffsOver(c.world, m, m.settings);
    for (const a of m.draft?.attachments ?? []) {
      const same = m.settings.attachments.find(
        (b) => b.controller === a.controller && b.port === a.port && b.device === a.device,
      );
      if (same && a.medium === frozen.get(same)) a.medium = same.medium;
    }
    if (online) m.setState('OnlineSnapshotting');
    const progress = c.world.task(`Taking snapshot of ${m.name}`, () => {
      if (online && m.state === 'OnlineSnapshotting') m.setState(before);
    });
    return { id: snap.id, returnval: c.ref(progress) };
  },
  IMachine_restoreSnapshot(c) {
    const m = sessionMachine(c);
    const snap = c.obj<SimSnapshot>('snapshot', 'ISnapshot');
    if (snap.machine !== m)
      throw violation(ResultCode.E_INVALIDARG, `Snapshot ${snap.name} is not a snapshot of ${m.name}`);
    if (!['PoweredOff', 'Saved', 'Aborted', 'AbortedSaved', 'Teleported'].includes(m.state))
      throw runtime(
        ResultCode.VBOX_E_INVALID_VM_STATE,
        `Cannot restore a snapshot: the machine must not be running (it is ${m.state})`,
        true,
      );
    // The current state's own media go; the snapshot's stay, with new diffs over them.
    for (const a of m.settings.attachments)
      if (a.type === 'HardDisk' && a.medium && !inSnapshot(m, a.medium)) c.world.removeMedium(a.medium, true);
    const settings = copySettings(snap.settings);
    diffsOver(c.world, m, settings);
    m.settings = settings;
    if (m.draft) m.draft = copySettings(settings);
    m.currentSnapshot = snap;
    m.setState(snap.online ? 'Saved' : 'PoweredOff');
    return c.ref(c.world.task(`Restoring snapshot ${snap.name} of ${m.name}`));
  },
  IMachine_deleteSnapshot(c) {
    const m = sessionMachine(c);
    const id = c.str('id');
    const snap = m.snapshots.find((s) => s.id === id);
    if (!snap)
      throw runtime(ResultCode.VBOX_E_OBJECT_NOT_FOUND, `Could not find a snapshot with UUID {${id}}`);
    if (snap.children.length > 1)
      throw runtime(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `Snapshot '${snap.name}' has more than one child snapshot`,
      );
    const own = snap.settings.attachments
      .map((a) => a.medium)
      .filter((x): x is SimMedium => x !== undefined && x.deviceType === 'HardDisk')
      .filter((x) => !snap.parent?.settings.attachments.some((a) => a.medium === x));
    for (const medium of own)
      if (medium.children.size > 1)
        throw runtime(
          ResultCode.VBOX_E_INVALID_OBJECT_STATE,
          `Hard disk '${medium.location}' has more than one child hard disk (${medium.children.size})`,
        );
    // Each medium is merged into its one child, which takes its place under the parent.
    for (const medium of own) {
      const [child] = medium.children;
      const parent = medium.parent;
      c.world.removeMedium(medium, true);
      if (child) {
        child.parent = parent;
        parent?.children.add(child);
      }
    }
    const up = snap.parent;
    if (up) up.children.splice(up.children.indexOf(snap), 1);
    for (const child of snap.children) {
      child.parent = up;
      up?.children.push(child);
    }
    m.snapshots.splice(m.snapshots.indexOf(snap), 1);
    if (m.currentSnapshot === snap) m.currentSnapshot = up;
    return c.ref(c.world.task(`Deleting snapshot ${snap.name} of ${m.name}`));
  },
  IMachine_findSnapshot(c) {
    const m = machine(c).machine;
    const key = c.str('nameOrId');
    const snap = findIn(m, key);
    if (!snap) throw runtime(ResultCode.VBOX_E_OBJECT_NOT_FOUND, `Could not find a snapshot named '${key}'`);
    return c.ref(snap);
  },
  IMachine_getSnapshotCount: (c) => machine(c).machine.snapshots.length,
  IMachine_getCurrentSnapshot: (c) => c.ref(machine(c).machine.currentSnapshot),
  ISnapshot_getMachine: (c) => c.ref(c.self<SimSnapshot>('ISnapshot').view),
  ISnapshot_getName: (c) => c.self<SimSnapshot>('ISnapshot').name,
  ISnapshot_getId: (c) => c.self<SimSnapshot>('ISnapshot').id,
  ISnapshot_getDescription: (c) => c.self<SimSnapshot>('ISnapshot').description,
  ISnapshot_getTimeStamp: (c) => c.self<SimSnapshot>('ISnapshot').timeStamp,
  ISnapshot_getOnline: (c) => c.self<SimSnapshot>('ISnapshot').online,
  ISnapshot_getParent: (c) => c.ref(c.self<SimSnapshot>('ISnapshot').parent),
  ISnapshot_getChildren: (c) => c.self<SimSnapshot>('ISnapshot').children.map((s) => c.ref(s)),
  ISnapshot_getChildrenCount: (c) => c.self<SimSnapshot>('ISnapshot').children.length,
};
