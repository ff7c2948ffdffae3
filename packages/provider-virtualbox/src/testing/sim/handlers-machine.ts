import type { SimCall, SimHandler } from './sim-call.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import {
  AdapterView,
  ControllerView,
  type MachineSettings,
  type MachineView,
  type SimMedium,
  copySettings as structuredCloneSettings,
} from './sim-model.js';
import { assertPoweredOff } from './sim-world.js';

/** `_this` as a machine view. */
export function machine(c: SimCall): MachineView {
  const view = c.self<MachineView>('IMachine');
  // After deleteConfig the machine object is uninitialised: every call fails as "not ready".
  if (view.machine.deleted)
    throw runtime(
      ResultCode.E_ACCESSDENIED,
      `The object is not ready (machine '${view.machine.name}' was deleted)`,
    );
  return view;
}

/** `_this` as a machine view whose settings may change (a session's machine under a lock). */
export function mutable(c: SimCall): MachineView {
  const view = machine(c);
  if (!view.mutable)
    throw violation(
      ResultCode.VBOX_E_INVALID_OBJECT_STATE,
      `The machine '${view.machine.name}' is not mutable: lock it with a session and change the session's machine`,
    );
  return view;
}

function setter(
  apply: (s: MachineSettings, c: SimCall, v: MachineView) => void,
  poweredOff = true,
): SimHandler {
  return (c) => {
    const view = mutable(c);
    if (poweredOff) assertPoweredOff(view);
    apply(view.settings, c, view);
  };
}

const IDE_PORTS = 2;
const IDE_DEVICES = 2;

/** IMachine: attributes, storage, network adapters, extra data, guest properties, settings. */
export const machineHandlers: Record<string, SimHandler> = {
  IMachine_getName: (c) => machine(c).machine.name,
  IMachine_getId: (c) => machine(c).machine.id,
  IMachine_getState: (c) => machine(c).machine.state,
  IMachine_getSessionState: (c) => (machine(c).machine.locked ? 'Locked' : 'Unlocked'),
  IMachine_getLastStateChange: (c) => machine(c).machine.lastStateChange,
  IMachine_getSettingsFilePath: (c) => machine(c).machine.settingsFile,
  IMachine_getOSTypeId: (c) => machine(c).machine.osTypeId,
  IMachine_getMemorySize: (c) => machine(c).settings.memoryMB,
  IMachine_getCPUCount: (c) => machine(c).settings.cpus,
  IMachine_getFirmwareType: (c) => machine(c).settings.firmwareType,
  IMachine_getDescription: (c) => machine(c).settings.description,
  IMachine_getAccessible: (c) => machine(c) !== undefined,
  IMachine_setMemorySize: setter((s, c) => {
    const mb = c.int('memorySize');
    if (mb < 4 || mb > 2_097_152) throw violation(ResultCode.E_INVALIDARG, `Invalid RAM size: ${mb} MB`);
    s.memoryMB = mb;
  }),
  IMachine_setCPUCount: setter((s, c) => {
    const n = c.int('CPUCount');
    if (n < 1 || n > 64) throw violation(ResultCode.E_INVALIDARG, `Invalid virtual CPU count: ${n}`);
    s.cpus = n;
  }),
  // The envelope check refuses a value the WSDL's FirmwareType has not got, as gSOAP does.
  IMachine_setFirmwareType: setter((s, c) => (s.firmwareType = c.str('firmwareType'))),
  IMachine_setDescription: setter((s, c) => (s.description = c.str('description')), false),
  IMachine_getExtraData: (c) => machine(c).settings.extraData.get(c.str('key')) ?? '',
  // Extra data is the one setting VirtualBox changes on a plain registered machine without a
  // session (saved at once, as `VBoxManage setextradata` does); a snapshot's is read-only.
  IMachine_setExtraData(c) {
    const view = machine(c);
    const plain = view.kind === 'plain' && view.machine.registered;
    const targets = plain
      ? [view.machine.settings, ...(view.machine.draft ? [view.machine.draft] : [])]
      : [mutable(c).settings];
    for (const s of targets)
      if (c.str('value') === '') s.extraData.delete(c.str('key'));
      else s.extraData.set(c.str('key'), c.str('value'));
  },
  IMachine_getBootOrder: (c) => machine(c).settings.bootOrder[c.int('position') - 1] ?? 'Null',
  IMachine_setBootOrder: setter((s, c) => {
    const pos = c.int('position');
    if (pos < 1 || pos > 4) throw violation(ResultCode.E_INVALIDARG, `Invalid boot position: ${pos}`);
    const dev = c.str('device');
    if (!['Null', 'Floppy', 'DVD', 'HardDisk', 'Network'].includes(dev))
      throw violation(ResultCode.E_INVALIDARG, `Booting from '${dev}' is not supported`);
    s.bootOrder[pos - 1] = dev;
  }),
  IMachine_addStorageController(c) {
    const view = mutable(c);
    assertPoweredOff(view);
    const name = c.str('name');
    if (view.settings.controllers.has(name))
      throw violation(ResultCode.VBOX_E_OBJECT_IN_USE, `Storage controller named '${name}' already exists`);
    view.settings.controllers.set(name, c.str('connectionType'));
    return c.ref(new ControllerView(view, name));
  },
  IMachine_getMediumAttachments(c) {
    const view = machine(c);
    return view.settings.attachments.map((a) => ({
      machine: c.ref(view),
      medium: c.ref(a.medium),
      controller: a.controller,
      port: a.port,
      device: a.device,
      type: a.type,
      passthrough: false,
      temporaryEject: false,
      isEjected: false,
      nonRotational: false,
      discard: false,
      hotPluggable: false,
      bandwidthGroup: '',
    }));
  },
  IMachine_attachDevice(c) {
    const view = mutable(c);
    const s = view.settings;
    const [name, port, device, type] = [
      c.str('name'),
      c.int('controllerPort'),
      c.int('device'),
      c.str('type'),
    ];
    const medium = c.optional<SimMedium>('medium', 'IMedium');
    if (view.kind === 'plain' && !view.machine.registered)
      throw violation(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `Cannot attach a medium to the unregistered machine '${view.machine.name}': register it first`,
      );
    if (type === 'HardDisk') assertPoweredOff(view);
    if (!s.controllers.has(name))
      throw runtime(
        ResultCode.VBOX_E_OBJECT_NOT_FOUND,
        `Could not find a storage controller named '${name}'`,
        true,
      );
    if (port < 0 || port >= IDE_PORTS || device < 0 || device >= IDE_DEVICES)
      throw violation(
        ResultCode.E_INVALIDARG,
        `Invalid port ${port} or device ${device} on controller '${name}'`,
      );
    if (s.attachments.some((a) => a.controller === name && a.port === port && a.device === device))
      throw violation(
        ResultCode.VBOX_E_OBJECT_IN_USE,
        `Port ${port} device ${device} of '${name}' is already in use`,
      );
    if (type !== 'HardDisk' && type !== 'DVD')
      throw violation(ResultCode.E_INVALIDARG, `Device type ${type} is not simulated`);
    if (type === 'HardDisk' && !medium)
      throw violation(ResultCode.E_INVALIDARG, 'A hard disk needs a medium');
    if (medium && (medium.deviceType !== type || medium.state !== 'Created'))
      throw violation(ResultCode.E_INVALIDARG, `Medium '${medium.location}' cannot be attached as ${type}`);
    if (medium && type === 'HardDisk' && medium.children.size > 0)
      throw violation(
        ResultCode.VBOX_E_OBJECT_IN_USE,
        `Medium '${medium.location}' has children: it is read-only`,
      );
    s.attachments.push({ controller: name, port, device, type, medium });
  },
  IMachine_detachDevice(c) {
    const view = mutable(c);
    const s = view.settings;
    const [name, port, device] = [c.str('name'), c.int('controllerPort'), c.int('device')];
    const i = s.attachments.findIndex((a) => a.controller === name && a.port === port && a.device === device);
    if (i < 0)
      throw violation(
        ResultCode.VBOX_E_OBJECT_NOT_FOUND,
        `No storage device attached to device slot ${device} on port ${port} of controller '${name}'`,
      );
    if (s.attachments[i]?.type === 'HardDisk') assertPoweredOff(view);
    s.attachments.splice(i, 1);
  },
  IMachine_getNetworkAdapter(c) {
    const view = machine(c);
    const slot = c.int('slot');
    if (slot > 7) throw violation(ResultCode.E_INVALIDARG, `Invalid slot number: ${slot}`);
    return c.ref(new AdapterView(view, slot));
  },
  IMachine_saveSettings(c) {
    const view = mutable(c);
    if (view.kind === 'session' && view.machine.draft) view.machine.settings = view.machine.draft;
    if (view.kind === 'session') view.machine.draft = structuredCloneSettings(view.machine.settings);
  },
  IMachine_discardSettings(c) {
    const view = mutable(c);
    if (view.kind === 'session') view.machine.draft = structuredCloneSettings(view.machine.settings);
  },
  IMachine_getGuestPropertyValue: (c) => machine(c).machine.guestProps.get(c.str('property'))?.value ?? '',
  IMachine_setGuestProperty(c) {
    const m = machine(c).machine;
    if (m.state !== 'Running' && m.state !== 'Paused')
      throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, `Machine '${m.name}' is not running`, true);
    const ts = Date.now() * 1_000_000;
    if (c.str('value') === '') m.guestProps.delete(c.str('property'));
    else m.guestProps.set(c.str('property'), { value: c.str('value'), ts });
  },
  IMachine_enumerateGuestProperties(c) {
    const patterns = c
      .str('patterns')
      .split('|')
      .filter((p) => p !== '')
      .map(
        (p) =>
          new RegExp(
            `^${p
              .replace(/[.+^${}()[\]\\]/g, '\\$&')
              .replace(/\*/g, '.*')
              .replace(/\?/g, '.')}$`,
          ),
      );
    const entries = [...machine(c).machine.guestProps.entries()].filter(
      ([k]) => patterns.length === 0 || patterns.some((p) => p.test(k)),
    );
    return {
      names: entries.map(([k]) => k),
      values: entries.map(([, v]) => v.value),
      timestamps: entries.map(([, v]) => v.ts),
      flags: entries.map(() => 'TRANSIENT, RDONLYGUEST'),
    };
  },
};
