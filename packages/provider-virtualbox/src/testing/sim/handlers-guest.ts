import { accessSync, constants, statSync } from 'node:fs';
import type { SimGuestControl, SimGuestFile, SimGuestSession } from './guest-control.js';
import { SimGuestProcess } from './guest-process.js';
import type { SimCall, SimHandler } from './sim-call.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import type { ConsoleView } from './sim-model.js';

/** VBOX_E_MAXIMUM_REACHED. */
const MAXIMUM_REACHED = 0x80bb000d;
/** What a guest session runs at most at once (VirtualBox's default limit). */
const MAX_PROCESSES = 255;

/** `ProcessWaitForFlag` bits (as `IProcess.waitFor` takes them). */
const PROCESS_WAIT_BITS: Readonly<Record<string, number>> = {
  None: 0,
  Start: 1,
  Terminate: 2,
  StdIn: 4,
  StdOut: 8,
  StdErr: 16,
};
/** `GuestSessionWaitForFlag` bits. */
const SESSION_WAIT_BITS: Readonly<Record<string, number>> = { None: 0, Start: 1, Terminate: 2, Status: 4 };

function bitsToNames(bits: number, table: Readonly<Record<string, number>>): string[] {
  return Object.entries(table)
    .filter(([, bit]) => bit !== 0 && (bits & bit) !== 0)
    .map(([name]) => name);
}

function guest(c: SimCall): SimGuestControl {
  return c.self<SimGuestControl>('IGuest');
}

function session(c: SimCall): SimGuestSession {
  return c.self<SimGuestSession>('IGuestSession');
}

function proc(c: SimCall): SimGuestProcess {
  return c.self<SimGuestProcess>('IProcess');
}

function file(c: SimCall): SimGuestFile {
  return c.self<SimGuestFile>('IFile');
}

/** Bytes of an octet array (vboxwebsrv sends them base64-encoded). */
function octets(value: string, name: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
    throw violation(ResultCode.E_INVALIDARG, `${name}: not base64-encoded octets`);
  return Buffer.from(value, 'base64');
}

async function waitSession(
  s: SimGuestSession,
  wanted: readonly string[],
  timeoutMS: number,
): Promise<string> {
  if (wanted.length === 0 || wanted.includes('None'))
    throw violation(ResultCode.E_INVALIDARG, 'No wait flags specified');
  const deadline = Date.now() + timeoutMS;
  for (;;) {
    if (s.status === 'Error')
      throw runtime(ResultCode.VBOX_E_IPRT_ERROR, s.error ?? 'The guest session failed to start');
    if (wanted.includes('Start') && s.status === 'Started') return 'Start';
    if (wanted.includes('Terminate') && (s.status === 'Terminated' || s.status === 'Down'))
      return 'Terminate';
    const left = deadline - Date.now();
    if (timeoutMS !== 0 && left <= 0) return 'Timeout';
    await s.changed(timeoutMS === 0 ? 0 : left);
  }
}

function processResult(p: SimGuestProcess, wanted: readonly string[]): string | undefined {
  const status = p.reportedStatus;
  if (status === 'Error') return 'Error';
  if (p.ended) return wanted.includes('Terminate') ? 'Terminate' : 'Status';
  if (wanted.includes('Start') && status !== 'Starting') return 'Start';
  if (wanted.includes('StdOut') && p.out.size > 0) return 'StdOut';
  if (wanted.includes('StdErr') && p.err.size > 0) return 'StdErr';
  if (wanted.includes('StdIn') && p.stdinOpen && status === 'Started') return 'StdIn';
  return undefined;
}

async function waitProcess(
  p: SimGuestProcess,
  wanted: readonly string[],
  timeoutMS: number,
): Promise<string> {
  if (wanted.length === 0 || wanted.includes('None'))
    throw violation(ResultCode.E_INVALIDARG, 'No wait flags specified');
  const deadline = Date.now() + timeoutMS;
  for (;;) {
    const result = processResult(p, wanted);
    if (result) return result;
    const left = deadline - Date.now();
    if (timeoutMS !== 0 && left <= 0) return 'Timeout';
    await p.changed(timeoutMS === 0 ? 0 : left);
  }
}

function processWrite(c: SimCall, eof: boolean): number {
  const p = proc(c);
  if (c.int('handle') !== 0) throw violation(ResultCode.E_INVALIDARG, 'Only stdin (handle 0) can be written');
  const data = octets(c.str('data'), 'data');
  if (!p.stdinOpen)
    throw runtime(ResultCode.VBOX_E_IPRT_ERROR, 'Writing to the guest process failed: its input is closed');
  return p.write(data, eof);
}

/** The environment a process of the session's user starts with, after `changes` (putenv style). */
function environment(s: SimGuestSession, changes: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {
    HOME: s.home,
    USER: s.user,
    LOGNAME: s.user,
    SHELL: '/bin/sh',
    LANG: 'C.UTF-8',
  };
  for (const change of changes) {
    const eq = change.indexOf('=');
    if (eq === 0 || change === '')
      throw violation(ResultCode.E_INVALIDARG, `Invalid environment change '${change}'`);
    if (eq < 0) delete env[change];
    else env[change.slice(0, eq)] = change.slice(eq + 1);
  }
  return env;
}

/**
 * Guest Control (IGuest, IGuestSession, IGuestProcess, IGuestFile) and the host's Guest Additions
 * ISO (ISystemProperties.defaultAdditionsISO).
 */
export const guestHandlers: Record<string, SimHandler> = {
  IConsole_getGuest(c) {
    const con = c.self<ConsoleView>('IConsole');
    const m = con.session.machine;
    if (con.session.state !== 'Locked' || !m)
      throw runtime(ResultCode.VBOX_E_INVALID_SESSION_STATE, 'The session is not locked to a machine');
    if (!m.guestControl)
      throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, `The machine '${m.name}' is not running`, true);
    return c.ref(m.guestControl);
  },
  IGuest_getAdditionsRunLevel: (c) => (guest(c).running ? 'Userland' : 'None'),
  IGuest_getAdditionsStatus(c) {
    const level = c.str('level');
    return guest(c).running ? level !== 'Desktop' : level === 'None';
  },
  IGuest_getAdditionsVersion: (c) => (guest(c).additions ? guest(c).version : ''),
  IGuest_createSession(c) {
    const g = guest(c);
    if (!g.alive)
      throw runtime(ResultCode.VBOX_E_INVALID_VM_STATE, 'The VM is not running: no guest to control', true);
    return c.ref(g.createSession(c.str('user'), c.str('password'), c.str('sessionName')));
  },
  IGuest_getSessions: (c) => [...guest(c).sessions].map((s) => c.ref(s)),
  IGuestSession_getStatus: (c) => session(c).status,
  IGuestSession_getUser: (c) => session(c).user,
  IGuestSession_getName: (c) => session(c).name,
  IGuestSession_getId: (c) => session(c).id,
  IGuestSession_waitForArray: (c) => waitSession(session(c), c.list('waitFor'), c.int('timeoutMS')),
  IGuestSession_waitFor: (c) =>
    waitSession(session(c), bitsToNames(c.int('waitFor'), SESSION_WAIT_BITS), c.int('timeoutMS')),
  IGuestSession_close(c) {
    session(c).close();
  },
  IGuestSession_processCreate(c) {
    const s = session(c);
    s.assertStarted();
    const argv = c.list('arguments');
    const executable = c.str('executable') || argv[0] || '';
    if (!executable.startsWith('/'))
      throw runtime(
        ResultCode.VBOX_E_IPRT_ERROR,
        `The executable "${executable}" is not an absolute guest path`,
        true,
      );
    const flags = c.list('flags');
    const host = s.guest.hostPath(executable);
    try {
      if (!statSync(host).isFile()) throw new Error('not a file');
      accessSync(host, constants.X_OK);
    } catch {
      throw runtime(
        ResultCode.VBOX_E_IPRT_ERROR,
        `Creating guest process "${executable}" failed: The specified file was not found on guest`,
      );
    }
    if ([...s.processes].filter((p) => !p.ended).length >= MAX_PROCESSES)
      throw runtime(
        MAXIMUM_REACHED,
        `Maximum number of concurrent guest processes (${MAX_PROCESSES}) reached`,
      );
    const timeoutMS = c.int('timeoutMS');
    const p = new SimGuestProcess({
      root: s.guest.root,
      executable,
      args: argv.slice(1),
      argv: argv.length > 0 ? argv : [executable],
      env: environment(s, c.list('environmentChanges')),
      stdout: flags.includes('WaitForStdOut'),
      stderr: flags.includes('WaitForStdErr'),
      timeoutMs: flags.includes('WaitForProcessStartOnly') ? 0 : timeoutMS,
    });
    s.processes.add(p);
    return c.ref(p);
  },
  IGuestSession_processGet(c) {
    const pid = c.int('pid');
    const p = [...session(c).processes].find((x) => x.pid === pid && pid !== 0);
    if (!p) throw runtime(ResultCode.VBOX_E_OBJECT_NOT_FOUND, `No process with PID ${pid} found`);
    return c.ref(p);
  },
  IGuestSession_getProcesses: (c) => [...session(c).processes].map((p) => c.ref(p)),
  IGuestSession_fileOpen(c) {
    const f = session(c).openFile(
      c.str('path'),
      c.str('accessMode'),
      c.str('openAction'),
      c.int('creationMode'),
    );
    return c.ref(f);
  },
  IProcess_getPID: (c) => proc(c).pid,
  IProcess_getStatus: (c) => proc(c).reportedStatus,
  IProcess_getExitCode: (c) => proc(c).exitCode,
  IProcess_getExecutablePath: (c) => proc(c).spec.executable,
  IProcess_getArguments: (c) => [...proc(c).spec.argv],
  IProcess_waitForArray: (c) => waitProcess(proc(c), c.list('waitFor'), c.int('timeoutMS')),
  IProcess_waitFor: (c) =>
    waitProcess(proc(c), bitsToNames(c.int('waitFor'), PROCESS_WAIT_BITS), c.int('timeoutMS')),
  async IProcess_read(c) {
    const p = proc(c);
    const handle = c.int('handle');
    const toRead = c.int('toRead');
    if (handle !== 1 && handle !== 2)
      throw violation(ResultCode.E_INVALIDARG, `Handle ${handle} cannot be read (1 is stdout, 2 is stderr)`);
    if (!(handle === 1 ? p.spec.stdout : p.spec.stderr))
      throw violation(
        ResultCode.E_INVALIDARG,
        `${handle === 1 ? 'stdout' : 'stderr'} is not kept: the process was created without ProcessCreateFlag ${handle === 1 ? 'WaitForStdOut' : 'WaitForStdErr'}`,
      );
    if (toRead === 0) throw violation(ResultCode.E_INVALIDARG, 'The size to read is zero');
    const buffer = handle === 1 ? p.out : p.err;
    const timeoutMS = c.int('timeoutMS');
    const deadline = Date.now() + timeoutMS;
    while (buffer.size === 0 && !buffer.ended && (timeoutMS === 0 || Date.now() < deadline))
      await p.changed(timeoutMS === 0 ? 0 : deadline - Date.now());
    return p.read(handle, toRead).toString('base64');
  },
  IProcess_write: (c) => processWrite(c, (c.int('flags') & 1) !== 0),
  IProcess_writeArray: (c) => processWrite(c, c.list('flags').includes('EndOfFile')),
  IProcess_terminate(c) {
    proc(c).terminate();
  },
  IFile_read(c) {
    const toRead = c.int('toRead');
    if (toRead === 0) throw violation(ResultCode.E_INVALIDARG, 'The size to read is zero');
    return file(c).read(toRead).toString('base64');
  },
  IFile_write(c) {
    const data = octets(c.str('data'), 'data');
    if (data.length === 0) throw violation(ResultCode.E_INVALIDARG, 'No data to write specified');
    return file(c).write(data);
  },
  IFile_seek: (c) => file(c).seek(c.int('offset'), c.str('whence')),
  IFile_querySize: (c) => file(c).size(),
  IFile_getOffset: (c) => file(c).offset,
  IFile_getStatus: (c) => file(c).status,
  IFile_getFilename: (c) => file(c).path,
  IFile_close(c) {
    file(c).close();
  },
  IVirtualBox_getSystemProperties(c) {
    c.self('IVirtualBox');
    return c.ref(c.world.systemProperties);
  },
  ISystemProperties_getDefaultAdditionsISO: (c) => c.world.systemProperties.additionsIso,
  ISystemProperties_setDefaultAdditionsISO(c) {
    c.self('ISystemProperties');
    c.world.systemProperties.additionsIso = c.str('defaultAdditionsISO');
  },
};
