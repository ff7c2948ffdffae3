// Raw SOAP requests to the simulator, shaped as node-soap sends them, so each rule is checked
// without a client. Shared by the simulator's tests.
import type { VboxSimulator } from './vbox-simulator.js';

/** Request arguments: a string, or a list for a repeated part. */
export type Args = Record<string, string | readonly string[]>;

/** An HTTP answer with helpers reading elements out of it. */
export interface Answer {
  status: number;
  body: string;
  value: (tag?: string) => string | undefined;
  values: (tag?: string) => string[];
}

/** A raw client of one simulator. */
export function rawClient(sim: VboxSimulator) {
  async function post(xml: string): Promise<Answer> {
    const res = await fetch(sim.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: xml });
    const body = await res.text();
    const values = (tag = 'returnval') =>
      [...body.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
    return { status: res.status, body, values, value: (tag) => values(tag)[0] };
  }
  function call(op: string, args: Args = {}): Promise<Answer> {
    const parts = Object.entries(args)
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `<${k}>${x}</${k}>`))
      .join('');
    return post(
      `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tns="http://www.virtualbox.org/"><soap:Body><tns:${op}>${parts}</tns:${op}></soap:Body></soap:Envelope>`,
    );
  }
  async function ok(op: string, args: Args = {}): Promise<Answer> {
    const a = await call(op, args);
    if (a.status !== 200) throw new Error(`${op}: ${a.body}`);
    return a;
  }
  async function logon(): Promise<string> {
    return (
      (await ok('IWebsessionManager_logon', { username: sim.username, password: sim.password })).value() ?? ''
    );
  }
  async function newMachine(vbox: string, name: string): Promise<string> {
    const args = {
      _this: vbox,
      settingsFile: '',
      name,
      osTypeId: 'Linux_64',
      flags: '',
      cipher: '',
      passwordId: '',
      password: '',
    };
    const m = (await ok('IVirtualBox_createMachine', args)).value() ?? '';
    await ok('IMachine_addStorageController', { _this: m, name: 'IDE', connectionType: 'IDE' });
    return m;
  }
  async function lock(
    vbox: string,
    machine: string,
    lockType = 'Write',
  ): Promise<{ session: string; mutable: string }> {
    const session = (await ok('IWebsessionManager_getSessionObject', { refIVirtualBox: vbox })).value() ?? '';
    await ok('IMachine_lockMachine', { _this: machine, session, lockType });
    return { session, mutable: (await ok('ISession_getMachine', { _this: session })).value() ?? '' };
  }
  async function openDvd(vbox: string, location: string): Promise<string> {
    const args = { _this: vbox, location, deviceType: 'DVD', accessMode: 'ReadOnly', forceNewUuid: 'false' };
    return (await ok('IVirtualBox_openMedium', args)).value() ?? '';
  }
  return { post, call, ok, logon, newMachine, lock, openDvd };
}
