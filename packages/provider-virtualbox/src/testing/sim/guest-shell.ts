import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** One call of a command the simulated guest stubs (`VBoxControl`, `poweroff`, `shutdown`). */
export interface GuestCall {
  readonly command: string;
  readonly args: readonly string[];
}

/** Options of {@link startGuestScript}. */
export interface GuestScriptOptions {
  /** Whether the guest has guest additions: `VBoxControl` exists in it (default true). */
  readonly guestAdditions?: boolean;
  /** Called for each stubbed command as the guest runs it. */
  readonly onCall?: (call: GuestCall) => void;
  /** Kill the script after this many milliseconds (default: never). */
  readonly timeoutMs?: number;
  /** Files the guest's root starts with, by absolute path (see {@link makeGuestRoot}). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
}

/** A user-data script running (or run) in a simulated guest. */
export interface GuestScript {
  /** The guest's root folder: its files as the script leaves them. */
  readonly root: string;
  /** Calls of the stubbed commands so far, in order. */
  readonly calls: readonly GuestCall[];
  /** Its stdout and stderr, interleaved (the first 64 KiB). */
  readonly output: string;
  /** Exit status once it exited; `null` when it was killed or could not start. */
  readonly exitCode: number | null | undefined;
  /** Why it could not start, or `timed out`. */
  readonly error: string | undefined;
  /** Settles once the script exited and its stubs' reports are read (or it was killed). */
  readonly done: Promise<void>;
  /** Kills the script and everything it started (the guest powered off under it). */
  kill(): void;
  /** Stops (`true`) or continues (`false`) the script and everything it started (a paused guest). */
  freeze(frozen: boolean): void;
}

/** Where the guest finds commands (as a Debian root's login shell does). */
export const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const OUTPUT_LIMIT = 64 * 1024;
/** Where cloud-init keeps a user-data script it runs. */
export const GUEST_SCRIPT_PATH = '/var/lib/cloud/instance/scripts/part-001';

// The stubs report each call on file descriptor 3 (held open by the simulator) as NUL-ended
// fields: the argument count, the command, its arguments. One printf: one write.
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
const REPORT = 'printf \'%s\\0\' "$#" "${0##*/}" "$@" >&3 || exit 1';
const STUBS: Record<string, string> = {
  'usr/bin/VBoxControl': [
    '#!/bin/sh',
    '# VBoxControl of the simulated guest: only `guestproperty set` is simulated.',
    REPORT,
    '[ "$1" = --nologo ] && shift',
    'if [ "$1" = guestproperty ] && [ "$2" = set ] && [ $# -ge 3 ] && [ $# -le 4 ]; then exit 0; fi',
    'echo "VBoxControl (simulated): only \'guestproperty set <property> [<value>]\' is simulated" >&2',
    'exit 1',
  ].join('\n'),
  'sbin/poweroff': [
    '#!/bin/sh',
    '# poweroff of the simulated guest: the simulator powers the machine off.',
    REPORT,
  ].join('\n'),
  'sbin/shutdown': [
    '#!/bin/sh',
    '# shutdown of the simulated guest: halting or powering off is simulated, rebooting is not.',
    'case " $* " in *" -r "*|*" --reboot "*) echo "shutdown (simulated): reboot is not simulated" >&2; exit 1;; esac',
    REPORT,
  ].join('\n'),
};
/** busybox applets the guest does not get: the stubs stand in for them. */
const NOT_LINKED = new Set(['busybox', 'poweroff', 'shutdown', 'halt', 'reboot', 'sh']);

/** The host's busybox, or undefined. */
function hostBusybox(): string | undefined {
  try {
    return execFileSync('/bin/sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes a guest's root file system in a new temporary folder: the host's `/bin/sh` with the
 * libraries it loads, busybox's applets (static busybox) for the other commands, the stubs of
 * `VBoxControl` (with guest additions), `poweroff` and `shutdown`, the usual folders, and `files`
 * (absolute paths, no `..`, written with mode 0644, or 0755 when they start with `#!`, and their
 * folders made).
 *
 * @throws when the host has no static busybox or `/bin/sh` cannot be copied, or a path of `files`
 *   is not absolute or has a `..`.
 */
export function makeGuestRoot(
  guestAdditions: boolean,
  files: Readonly<Record<string, string | Uint8Array>> = {},
): string {
  const root = mkdtempSync(join(tmpdir(), 'vmkit-sim-guest-'));
  try {
    fillGuestRoot(root, guestAdditions);
    for (const [path, content] of Object.entries(files)) {
      if (!path.startsWith('/') || path.split('/').includes('..'))
        throw new Error(`guest file ${path}: must be an absolute path without '..'`);
      mkdirSync(join(root, dirname(path)), { recursive: true });
      const head =
        typeof content === 'string' ? content.slice(0, 2) : Buffer.from(content.subarray(0, 2)).toString();
      const script = head === '#!';
      writeFileSync(join(root, path), content, { mode: script ? 0o755 : 0o644 });
    }
    return root;
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

function fillGuestRoot(root: string, guestAdditions: boolean): void {
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'etc',
    'root',
    'dev',
    'run',
    'var/lib/cloud',
    'var/log',
  ])
    mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
  chmodSync(join(root, 'tmp'), 0o1777);
  // Mount points for the host's character devices.
  for (const dev of ['null', 'zero']) writeFileSync(join(root, 'dev', dev), '');
  const copy = (from: string, to = from) => {
    mkdirSync(join(root, dirname(to)), { recursive: true });
    copyFileSync(realpathSync(from), join(root, to));
    chmodSync(join(root, to), 0o755);
  };
  copy('/bin/sh');
  let libraries = '';
  try {
    libraries = execFileSync('ldd', ['/bin/sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // A static /bin/sh: nothing to load.
  }
  for (const m of libraries.matchAll(/(?:=>\s*|^\s*)(\/\S+)/gm)) if (m[1]) copy(m[1]);
  const busybox = hostBusybox();
  if (!busybox) throw new Error('the simulated guest needs busybox (a static build) on the host');
  copy(busybox, 'bin/busybox');
  const applets = execFileSync(join(root, 'bin/busybox'), ['--list'], { encoding: 'utf8' }).split('\n');
  for (const applet of applets)
    if (/^[a-z0-9_.[-]+$/.test(applet) && !NOT_LINKED.has(applet))
      symlinkSync('busybox', join(root, 'bin', applet));
  for (const [path, body] of Object.entries(STUBS)) {
    if (path.endsWith('VBoxControl') && !guestAdditions) continue;
    writeFileSync(join(root, path), `${body}\n`, { mode: 0o755 });
  }
}

/**
 * The `unshare` arguments that run `then` (a `/bin/sh -c` text; `$1` is the guest root, `args`
 * follow it) in a user and mount namespace of its own, once the host's `/dev/null` and
 * `/dev/zero` are bound into the root (exit 126 when they cannot be).
 */
export function inGuestNamespace(then: string, root: string, args: readonly string[]): string[] {
  return [
    '--mount',
    '--map-root-user',
    '/bin/sh',
    '-c',
    `for d in null zero; do mount --bind "/dev/$d" "$1/dev/$d" || exit 126; done; ${then}`,
    'guest',
    root,
    ...args,
  ];
}

/** Splits the stubs' reports into calls; returns the bytes of an unfinished one. */
function readCalls(buffer: Buffer, onCall: (call: GuestCall) => void): Buffer {
  let at = 0;
  for (;;) {
    const fields: string[] = [];
    let p = at;
    let need = 2;
    while (fields.length < need) {
      const end = buffer.indexOf(0, p);
      if (end < 0) return buffer.subarray(at);
      fields.push(buffer.subarray(p, end).toString('utf8'));
      p = end + 1;
      if (fields.length === 1) need = 2 + Number(fields[0]);
    }
    onCall({ command: fields[1] ?? '', args: fields.slice(2) });
    at = p;
  }
}

/**
 * Runs a user-data script as cloud-init would, once, as root, in a guest root made by
 * {@link makeGuestRoot}: in a user and mount namespace of its own (`unshare`), with the host's
 * `/dev/null` and `/dev/zero` bound in and the root as its `/` (`chroot`), the script at
 * {@link GUEST_SCRIPT_PATH} run through its own `#!` line, stdin from `/dev/null`. The guest is
 * no security boundary: give it only scripts you would run on the host.
 */
export function startGuestScript(script: string, options: GuestScriptOptions = {}): GuestScript {
  const calls: GuestCall[] = [];
  let output = '';
  let exitCode: number | null | undefined;
  let error: string | undefined;
  let root = '';
  let kill = () => {};
  let freeze = (_frozen: boolean) => {};
  const done = new Promise<void>((resolve) => {
    try {
      root = makeGuestRoot(options.guestAdditions ?? true, options.files);
      const file = join(root, GUEST_SCRIPT_PATH);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, script, { mode: 0o700 });
    } catch (e) {
      error = `the simulated guest cannot run its user data: ${(e as Error).message}`;
      exitCode = null;
      resolve();
      return;
    }
    const child = spawn(
      'unshare',
      // The guest is up once its devices are bound: a `boot` report, then the script.
      inGuestNamespace(`printf '%s\\0' 0 boot >&3 && exec chroot "$1" "$2" 2>&1`, root, [GUEST_SCRIPT_PATH]),
      {
        cwd: root,
        detached: true,
        env: { PATH: GUEST_PATH, HOME: '/root', LANG: 'C.UTF-8' },
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      },
    );
    let killed = false;
    kill = () => {
      if (killed || child.pid === undefined) return;
      killed = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    freeze = (frozen) => {
      if (killed || child.pid === undefined) return;
      try {
        process.kill(-child.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
      } catch {
        // Already gone.
      }
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            error = 'timed out';
            kill();
          }, options.timeoutMs);
    timer?.unref();
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT)
        output += chunk.toString('utf8').slice(0, OUTPUT_LIMIT - output.length);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let booted = false;
    let pending: Buffer = Buffer.alloc(0);
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      pending = readCalls(Buffer.concat([pending, chunk]), (call) => {
        if (!booted && call.command === 'boot') {
          booted = true;
          return;
        }
        calls.push(call);
        options.onCall?.(call);
      });
    });
    child.on('error', (e) => {
      error = `the simulated guest cannot run its user data: ${e.message}`;
    });
    child.on('exit', (code) => {
      exitCode = killed ? null : code;
    });
    child.on('close', () => {
      if (timer) clearTimeout(timer);
      if (exitCode === undefined) exitCode = null;
      if (!booted && error === undefined)
        error = `the simulated guest could not start (unshare, mount or chroot failed): ${output.trim()}`;
      resolve();
    });
  });
  return {
    get root() {
      return root;
    },
    calls,
    get output() {
      return output;
    },
    get exitCode() {
      return exitCode;
    },
    get error() {
      return error;
    },
    done,
    kill: () => kill(),
    freeze: (frozen) => freeze(frozen),
  };
}
