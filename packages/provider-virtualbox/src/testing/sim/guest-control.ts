import { closeSync, constants, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ChangeSignal } from './change-signal.js';
import type { SimGuestProcess } from './guest-process.js';
import { makeGuestRoot } from './guest-shell.js';
import { ResultCode, runtime, violation } from './sim-fault.js';
import type { SimTarget } from './websessions.js';

/** `FileAccessMode` values Guest Control implements (the append modes are not implemented in VirtualBox). */
const ACCESS: Readonly<Record<string, number>> = {
  ReadOnly: constants.O_RDONLY,
  WriteOnly: constants.O_WRONLY,
  ReadWrite: constants.O_RDWR,
};
/** `FileOpenAction` values as open(2) flags. */
const ACTIONS: Readonly<Record<string, number>> = {
  OpenExisting: 0,
  OpenOrCreate: constants.O_CREAT,
  CreateNew: constants.O_CREAT | constants.O_EXCL,
  CreateOrReplace: constants.O_CREAT | constants.O_TRUNC,
  OpenExistingTruncated: constants.O_TRUNC,
  AppendOrCreate: constants.O_CREAT | constants.O_APPEND,
};

/** A file a guest session opened (IGuestFile): real bytes in the guest's root. */
export class SimGuestFile implements SimTarget {
  readonly iface = 'IGuestFile';
  readonly speaks = ['IFile'];
  status: 'Open' | 'Closed' | 'Down' = 'Open';
  offset = 0;

  constructor(
    readonly session: SimGuestSession,
    readonly id: number,
    readonly path: string,
    readonly accessMode: string,
    readonly openAction: string,
    readonly creationMode: number,
    readonly fd: number,
  ) {}

  #open(): void {
    if (this.status !== 'Open')
      throw runtime(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `The guest file "${this.path}" is not open`,
        true,
      );
  }

  /** Reads up to `count` bytes at the current offset. */
  read(count: number): Buffer {
    this.#open();
    if (this.accessMode === 'WriteOnly')
      throw runtime(
        ResultCode.VBOX_E_IPRT_ERROR,
        `Reading guest file "${this.path}" failed: VERR_ACCESS_DENIED`,
      );
    const buffer = Buffer.alloc(count);
    const n = readSync(this.fd, buffer, 0, count, this.offset);
    this.offset += n;
    return buffer.subarray(0, n);
  }

  /** Writes all of `data` at the current offset (or at the end for `AppendOrCreate`). */
  write(data: Buffer): number {
    this.#open();
    if (this.accessMode === 'ReadOnly')
      throw runtime(
        ResultCode.VBOX_E_IPRT_ERROR,
        `Writing guest file "${this.path}" failed: VERR_ACCESS_DENIED`,
      );
    if (this.openAction === 'AppendOrCreate') {
      writeSync(this.fd, data);
      return data.length;
    }
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, this.offset + done);
    this.offset += done;
    return done;
  }

  /** Moves the offset (`FileSeekOrigin`), returns the new one. */
  seek(offset: number, whence: string): number {
    this.#open();
    const base = whence === 'Begin' ? 0 : whence === 'Current' ? this.offset : fstatSync(this.fd).size;
    const next = base + offset;
    if (next < 0)
      throw runtime(ResultCode.E_INVALIDARG, `Seeking guest file "${this.path}" before its start`, true);
    this.offset = next;
    return next;
  }

  /** The file's size now. */
  size(): number {
    this.#open();
    return fstatSync(this.fd).size;
  }

  /** Closes it (`Closed`, or `Down` when its session or guest went away). */
  close(status: 'Closed' | 'Down' = 'Closed'): void {
    if (this.status !== 'Open') return;
    this.status = status;
    closeSync(this.fd);
    this.session.files.delete(this);
  }
}

/** A guest session (IGuestSession): one impersonated guest user, its processes and files. */
export class SimGuestSession implements SimTarget {
  readonly iface = 'IGuestSession';
  status: 'Starting' | 'Started' | 'Terminated' | 'Down' | 'Error' = 'Starting';
  /** Why the session could not start (the guest's answer to `waitFor`). */
  error: string | undefined;
  readonly processes = new Set<SimGuestProcess>();
  readonly files = new Set<SimGuestFile>();
  #nextFile = 1;
  readonly #change = new ChangeSignal();

  constructor(
    readonly guest: SimGuestControl,
    readonly id: number,
    readonly user: string,
    readonly name: string,
  ) {}

  /** The session must be started for processes and files. */
  assertStarted(): void {
    if (this.status !== 'Started')
      throw runtime(
        ResultCode.VBOX_E_INVALID_OBJECT_STATE,
        `The guest session "${this.name}" is not started (${this.status})`,
        true,
      );
  }

  /** The session user's home folder in the guest. */
  get home(): string {
    return this.user === 'root' ? '/root' : `/home/${this.user}`;
  }

  /** Opens a guest file (`IGuestSession.fileOpen`). */
  openFile(path: string, accessMode: string, openAction: string, creationMode: number): SimGuestFile {
    this.assertStarted();
    if (accessMode === 'AppendOnly' || accessMode === 'AppendRead')
      throw violation(0x80004001, 'Append access modes are not yet implemented');
    const access = ACCESS[accessMode];
    const action = ACTIONS[openAction];
    if (access === undefined || action === undefined)
      throw violation(ResultCode.E_INVALIDARG, `Invalid access mode or open action`);
    if (action !== 0 && openAction !== 'OpenExistingTruncated' && (creationMode & ~0o7777) !== 0)
      throw violation(ResultCode.E_INVALIDARG, `Invalid creation mode 0${creationMode.toString(8)}`);
    if (openAction === 'OpenExistingTruncated' && access === constants.O_RDONLY)
      throw violation(ResultCode.E_INVALIDARG, 'Truncating needs write access');
    const host = this.guest.hostPath(path);
    let fd: number;
    try {
      fd = openSync(host, access | action, creationMode || 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'The specified file was not found on guest'
          : code === 'EEXIST'
            ? 'The specified file already exists on guest'
            : code === 'EISDIR'
              ? 'The specified path is a directory on guest'
              : `Guest error ${code}`;
      throw runtime(ResultCode.VBOX_E_IPRT_ERROR, `Opening guest file "${path}" failed: ${why}`);
    }
    const file = new SimGuestFile(this, this.#nextFile++, path, accessMode, openAction, creationMode, fd);
    this.files.add(file);
    return file;
  }

  /** Resolves when the session's status changes, or after `ms` (0: no limit). */
  changed(ms: number): Promise<void> {
    return this.#change.next(ms);
  }

  /** Ends the session: its processes are killed and its files closed. */
  close(status: 'Terminated' | 'Down' = 'Terminated'): void {
    if (this.status === 'Terminated' || this.status === 'Down') return;
    this.status = status;
    this.#change.notify();
    for (const p of this.processes) p.down();
    for (const f of [...this.files]) f.close('Down');
    this.guest.sessions.delete(this);
  }
}

/**
 * Guest Control of one running simulated guest (IGuest): its sessions, the users that may log on
 * and the guest's root folder on the host (made on first use, removed when the guest goes away).
 */
export class SimGuestControl implements SimTarget {
  readonly iface = 'IGuest';
  readonly sessions = new Set<SimGuestSession>();
  /** The Guest Additions version the guest reports. */
  readonly version = '7.0.20';
  /** False once the guest went away (its references stay, answering as a stopped VM's). */
  alive = true;
  #root: string | undefined;
  #ownsRoot = false;
  #nextSession = 1;

  constructor(
    /** Whether Guest Additions run in the guest. */
    readonly additions: boolean,
    /** Guest users and their passwords. */
    readonly logins: () => Readonly<Record<string, string>>,
    /** The root the guest's cloud-init script uses, when one ran (the same file system). */
    readonly scriptRoot: () => string | undefined,
    /** Files every guest root starts with. */
    readonly files: Readonly<Record<string, string>>,
  ) {}

  /** Whether Guest Additions answer now (run level `Userland`). */
  get running(): boolean {
    return this.alive && this.additions;
  }

  /** The guest's root folder on the host. */
  get root(): string {
    if (this.#root === undefined) {
      const shared = this.scriptRoot();
      this.#root = shared ?? makeGuestRoot(this.additions, this.files);
      this.#ownsRoot = shared === undefined;
    }
    return this.#root;
  }

  /**
   * The host path of an absolute guest path (no `..` may leave the root; symbolic links are
   * the host's to follow: the simulated guest is no security boundary).
   */
  hostPath(guestPath: string): string {
    if (!guestPath.startsWith('/'))
      throw runtime(ResultCode.VBOX_E_IPRT_ERROR, `Guest path "${guestPath}" is not absolute`, true);
    return join(this.root, posix.normalize(guestPath));
  }

  /** Opens a session (`IGuest.createSession`); it starts asynchronously, checked by `waitFor`. */
  createSession(user: string, password: string, name: string): SimGuestSession {
    if (user === '') throw violation(ResultCode.E_INVALIDARG, 'No user name specified');
    if (this.sessions.size >= 32)
      throw runtime(0x80bb000d, 'Maximum number of concurrent guest sessions (32) reached');
    const session = new SimGuestSession(this, this.#nextSession++, user, name);
    this.sessions.add(session);
    // Without Guest Additions nothing in the guest answers: the session never starts.
    if (!this.additions) return session;
    const logins = this.logins();
    if (Object.hasOwn(logins, user) && logins[user] === password) session.status = 'Started';
    else {
      session.status = 'Error';
      session.error = 'The specified user was not able to logon on guest';
    }
    return session;
  }

  /** The guest went away (powered off, reset): every session is down, the root removed. */
  end(): void {
    this.alive = false;
    for (const s of [...this.sessions]) s.close('Down');
    if (this.#root && this.#ownsRoot) rmSync(this.#root, { recursive: true, force: true });
    this.#root = undefined;
  }
}
