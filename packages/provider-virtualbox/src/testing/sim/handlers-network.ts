import type { SimCall, SimHandler } from './sim-call.js';
import { ResultCode, violation } from './sim-fault.js';
import { type AdapterSettings, type AdapterView, type ControllerView, NatView } from './sim-model.js';

function adapter(c: SimCall): { view: AdapterView; settings: AdapterSettings } {
  const view = c.self<AdapterView>('INetworkAdapter');
  const settings = view.view.settings.adapters[view.slot];
  if (!settings) throw violation(ResultCode.E_INVALIDARG, `Invalid slot ${view.slot}`);
  return { view, settings };
}

function writable(view: AdapterView, field: string): void {
  if (!view.view.mutable)
    throw violation(
      ResultCode.VBOX_E_INVALID_OBJECT_STATE,
      `Cannot set ${field}: the machine '${view.view.machine.name}' is not mutable (use a locked session's machine)`,
    );
}

function adapterSetter(
  field: string,
  apply: (a: AdapterSettings, value: string) => void,
  poweredOff = false,
): SimHandler {
  return (c) => {
    const { view, settings } = adapter(c);
    writable(view, field);
    const state = view.view.machine.state;
    if (poweredOff && state !== 'PoweredOff' && state !== 'Aborted' && state !== 'Saved')
      throw violation(ResultCode.VBOX_E_INVALID_VM_STATE, `Cannot change ${field} of a running machine`);
    apply(settings, c.str(field));
  };
}

const ATTACHMENTS = new Set(['Null', 'NAT', 'Bridged', 'Internal', 'HostOnly', 'Generic', 'NATNetwork']);

function nat(c: SimCall): AdapterSettings {
  const engine = c.self<NatView>('INATEngine');
  const settings = engine.adapter.view.settings.adapters[engine.adapter.slot];
  if (!settings) throw violation(ResultCode.E_INVALIDARG, 'Invalid slot');
  return settings;
}

function natWritable(c: SimCall): AdapterSettings {
  const engine = c.self<NatView>('INATEngine');
  writable(engine.adapter, 'redirects');
  return nat(c);
}

/** INetworkAdapter, INATEngine and IStorageController. */
export const networkHandlers: Record<string, SimHandler> = {
  INetworkAdapter_getSlot: (c) => adapter(c).view.slot,
  INetworkAdapter_getEnabled: (c) => adapter(c).settings.enabled,
  INetworkAdapter_getAttachmentType: (c) => adapter(c).settings.attachmentType,
  INetworkAdapter_getMACAddress: (c) => adapter(c).settings.mac,
  INetworkAdapter_getBridgedInterface: (c) => adapter(c).settings.bridgedInterface,
  INetworkAdapter_getHostOnlyInterface: (c) => adapter(c).settings.hostOnlyInterface,
  INetworkAdapter_getInternalNetwork: (c) => adapter(c).settings.internalNetwork,
  INetworkAdapter_setEnabled: adapterSetter(
    'enabled',
    (a, v) => (a.enabled = v === 'true' || v === '1'),
    true,
  ),
  INetworkAdapter_setAttachmentType: adapterSetter('attachmentType', (a, v) => {
    if (!ATTACHMENTS.has(v)) throw violation(ResultCode.E_INVALIDARG, `Invalid attachment type ${v}`);
    a.attachmentType = v;
  }),
  INetworkAdapter_setMACAddress: adapterSetter(
    'MACAddress',
    (a, v) => {
      if (!/^[0-9A-Fa-f]{12}$/.test(v) || Number.parseInt(v.slice(1, 2), 16) % 2 === 1)
        throw violation(ResultCode.E_INVALIDARG, `Invalid MAC address format: '${v}'`);
      a.mac = v.toUpperCase();
    },
    true,
  ),
  INetworkAdapter_setBridgedInterface: adapterSetter('bridgedInterface', (a, v) => (a.bridgedInterface = v)),
  INetworkAdapter_setHostOnlyInterface: adapterSetter(
    'hostOnlyInterface',
    (a, v) => (a.hostOnlyInterface = v),
  ),
  INetworkAdapter_setInternalNetwork: adapterSetter('internalNetwork', (a, v) => {
    if (v === '')
      throw violation(ResultCode.E_INVALIDARG, 'Empty or null internal network name is not valid');
    a.internalNetwork = v;
  }),
  INetworkAdapter_getNATEngine: (c) => c.ref(new NatView(adapter(c).view)),
  INATEngine_getRedirects: (c) =>
    nat(c).redirects.map(
      (r) => `${r.name},${r.proto === 'TCP' ? 1 : 0},${r.hostIP},${r.hostPort},${r.guestIP},${r.guestPort}`,
    ),
  INATEngine_addRedirect(c) {
    const a = natWritable(c);
    const name = c.str('name');
    const [hostPort, guestPort] = [c.int('hostPort'), c.int('guestPort')];
    const proto = c.str('proto');
    if (name === '' || /[,]/.test(name))
      throw violation(ResultCode.E_INVALIDARG, `Invalid NAT rule name '${name}'`);
    if (a.redirects.some((r) => r.name === name))
      throw violation(ResultCode.E_INVALIDARG, `A NAT rule of this name already exists: '${name}'`);
    if (a.redirects.some((r) => r.proto === proto && r.hostPort === hostPort && r.hostIP === c.str('hostIP')))
      throw violation(ResultCode.E_INVALIDARG, `A NAT rule for this host port already exists: ${hostPort}`);
    if (hostPort === 0 || guestPort === 0) throw violation(ResultCode.E_INVALIDARG, 'Ports must not be 0');
    a.redirects.push({
      name,
      proto,
      hostIP: c.str('hostIP'),
      hostPort,
      guestIP: c.str('guestIP'),
      guestPort,
    });
  },
  INATEngine_getLocalhostReachable: (c) => nat(c).localhostReachable,
  INATEngine_setLocalhostReachable(c) {
    natWritable(c).localhostReachable = c.bool('localhostReachable');
  },
  INATEngine_removeRedirect(c) {
    const a = natWritable(c);
    const i = a.redirects.findIndex((r) => r.name === c.str('name'));
    if (i < 0) throw violation(ResultCode.E_INVALIDARG, `No NAT rule named '${c.str('name')}'`);
    a.redirects.splice(i, 1);
  },
  IStorageController_getName: (c) => c.self<ControllerView>('IStorageController').name,
  IStorageController_getBus: (c) => {
    const v = c.self<ControllerView>('IStorageController');
    return v.view.settings.controllers.get(v.name) ?? 'Null';
  },
};
