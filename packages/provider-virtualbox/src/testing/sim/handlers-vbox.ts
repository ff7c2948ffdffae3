import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SimCall, SimHandler } from './sim-call.js';
import { ResultCode, runtime, SimFault, violation } from './sim-fault.js';
import {
  type ErrorInfoView,
  HOST,
  type HostNicView,
  type MachineView,
  SimMachine,
  type SimProgress,
  SimSession,
  VBOX,
} from './sim-model.js';

/** The VirtualBox version the simulator claims (the API `virtualbox-soap` 5.0.0 speaks). */
export const SIM_VERSION = '7.0.20';

function settingsPath(c: SimCall, name: string): string {
  return join(c.world.machineFolder, name, `${name}.vbox`);
}

/** IWebsessionManager, IManagedObjectRef, IVirtualBox (machines), IHost, IProgress, error info. */
export const vboxHandlers: Record<string, SimHandler> = {
  IWebsessionManager_logon(c) {
    const { username, password } = c.credentials;
    if (c.str('username') !== username || c.str('password') !== password)
      throw new SimFault('server', 'Authentication failed', 0, false);
    const session = c.websessions.open();
    c.bind(session);
    return c.ref(VBOX);
  },
  IWebsessionManager_logoff(c) {
    // vboxwebsrv answers a logoff of a websession it does not know (expired, restarted) with success.
    c.websessions.close(c.str('refIVirtualBox').slice(0, 16));
  },
  IWebsessionManager_getSessionObject(c) {
    c.obj('refIVirtualBox', 'IVirtualBox');
    return c.ref(new SimSession());
  },
  IManagedObjectRef_release(c) {
    const ref = c.str('_this');
    c.websessions.resolve(ref);
    c.websessions.sessionOf(ref).release(ref);
  },
  IManagedObjectRef_getInterfaceName(c) {
    return c.websessions.resolve(c.str('_this')).target.iface;
  },
  IVirtualBox_getVersion(c) {
    c.self('IVirtualBox');
    return SIM_VERSION;
  },
  IVirtualBox_getAPIVersion(c) {
    c.self('IVirtualBox');
    return '7_0';
  },
  IVirtualBox_getHost(c) {
    c.self('IVirtualBox');
    return c.ref(HOST);
  },
  IVirtualBox_getMachines(c) {
    c.self('IVirtualBox');
    return c.world.machines.filter((m) => m.registered).map((m) => c.ref(m.plain));
  },
  IVirtualBox_findMachine(c) {
    c.self('IVirtualBox');
    return c.ref(c.world.findMachine(c.str('nameOrId')).plain);
  },
  IVirtualBox_createMachine(c) {
    c.self('IVirtualBox');
    const name = c.str('name');
    if (!name) throw violation(ResultCode.E_INVALIDARG, 'Machine name must not be empty');
    if (c.str('cipher') || c.str('password'))
      throw violation(ResultCode.VBOX_E_NOT_SUPPORTED, 'Encrypted machines are not simulated');
    const file = c.str('settingsFile') || settingsPath(c, name);
    const taken = c.world.machines.some((m) => m.registered && m.settingsFile === file);
    if (taken || (c.str('settingsFile') === '' && existsSync(file)))
      throw runtime(ResultCode.VBOX_E_FILE_ERROR, `Machine settings file '${file}' already exists`);
    const machine = new SimMachine(name, file, c.str('osTypeId') || 'Other');
    c.world.machines.push(machine);
    return c.ref(machine.plain);
  },
  IVirtualBox_registerMachine(c) {
    c.self('IVirtualBox');
    const view = c.obj<MachineView>('machine', 'IMachine');
    const m = view.machine;
    if (view.kind !== 'plain' || m.registered)
      throw violation(ResultCode.VBOX_E_INVALID_OBJECT_STATE, `Machine '${m.name}' is already registered`);
    if (c.world.machines.some((x) => x.registered && x.name === m.name))
      throw runtime(ResultCode.VBOX_E_OBJECT_IN_USE, `A machine named '${m.name}' is already registered`);
    m.registered = true;
  },
  IHost_getNetworkInterfaces(c) {
    c.self('IHost');
    return c.world.hostNics.map((n) => c.ref(n));
  },
  IHost_findHostNetworkInterfaceByName(c) {
    c.self('IHost');
    const nic = c.world.hostNics.find((n) => n.name === c.str('name'));
    if (!nic)
      throw runtime(
        ResultCode.VBOX_E_OBJECT_NOT_FOUND,
        `Could not find host network interface '${c.str('name')}'`,
      );
    return c.ref(nic);
  },
  IHostNetworkInterface_getName: (c) => c.self<HostNicView>('IHostNetworkInterface').name,
  IHostNetworkInterface_getInterfaceType: (c) => c.self<HostNicView>('IHostNetworkInterface').type,
  IHostNetworkInterface_getStatus: (c) => (c.self<HostNicView>('IHostNetworkInterface').up ? 'Up' : 'Down'),
  IHostNetworkInterface_getIPAddress: (c) => c.self<HostNicView>('IHostNetworkInterface').ip,
  IHostNetworkInterface_getNetworkMask: (c) => c.self<HostNicView>('IHostNetworkInterface').mask,
  async IProgress_waitForCompletion(c) {
    const p = c.self<SimProgress>('IProgress');
    const timeout = c.int('timeout');
    if (timeout < 0) await p.done;
    else await Promise.race([p.done, new Promise((r) => setTimeout(r, timeout))]);
  },
  IProgress_getCompleted: (c) => c.self<SimProgress>('IProgress').completed,
  IProgress_getPercent: (c) => (c.self<SimProgress>('IProgress').completed ? 100 : 0),
  IProgress_getDescription: (c) => c.self<SimProgress>('IProgress').description,
  IProgress_getResultCode(c) {
    const p = c.self<SimProgress>('IProgress');
    if (!p.completed)
      throw violation(ResultCode.E_FAIL, 'Result code is not available, operation is still in progress');
    return p.resultCode | 0;
  },
  IProgress_getErrorInfo(c) {
    const p = c.self<SimProgress>('IProgress');
    if (!p.completed || p.resultCode === 0) return '';
    return c.ref({
      iface: 'IVirtualBoxErrorInfo',
      resultCode: p.resultCode,
      text: p.errorText,
    } as ErrorInfoView);
  },
  IVirtualBoxErrorInfo_getText: (c) => c.self<ErrorInfoView>('IVirtualBoxErrorInfo').text,
  IVirtualBoxErrorInfo_getResultCode: (c) => c.self<ErrorInfoView>('IVirtualBoxErrorInfo').resultCode | 0,
};
