import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { Readable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { VmkitError } from '../../errors/vmkit-error.js';
import type { NodeScript, RunScriptOptions, ScriptInput, ScriptResult } from '../../model/guest-exec.js';
import { ScriptOutput } from '../output-collector.js';
import { checkScriptRequest, SETUP_FAILURE_EXIT, setupFailure, setupFailureError } from '../shell-command.js';
import { killTreeCommand, NO_SUDO, remoteCommand } from './ssh-command.js';
import type { SshSession } from './ssh-session.js';
import { smallExec } from './ssh-small-exec.js';

/** The longest first line (the session's PID) read before output. */
const MAX_HEADER_BYTES = 64;

/** What {@link runOverSsh} needs besides the script. */
export interface SshRunContext {
  /** The connection. */
  readonly session: SshSession;
  /** The user it logged in as. */
  readonly loginUser: string;
  /** Node name, in errors. */
  readonly node: string;
}

/**
 * Runs a script over an SSH exec channel as {@link RunScriptOptions} says: the user, `env`,
 * `cwd`, `stdin` piped with back-pressure, output streamed to `onOutput` and kept up to
 * `maxOutputBytes`. On timeout or abort the script's whole session is killed in the guest (and
 * checked gone) before `TIMEOUT` / `ABORTED` is thrown with the partial output in `details`.
 */
export async function runOverSsh(
  context: SshRunContext,
  script: NodeScript,
  options: RunScriptOptions,
): Promise<ScriptResult> {
  checkScriptRequest(script, options);
  const marker = `vmkit-${randomBytes(8).toString('hex')}`;
  const command = remoteCommand(script, options, context.loginUser, marker);
  options.signal?.throwIfAborted();
  const started = Date.now();
  const channel = await context.session.exec(command);
  const output = new ScriptOutput(options);
  const header = new SessionHeader();
  // A listener's promise pauses its stream until it settles: SSH's window then holds the guest back.
  const feed = (stream: 'stdout' | 'stderr', source: Readable, data: Buffer) => {
    const pending = output.push(stream, data);
    if (!pending) return;
    source.pause();
    void pending.then(() => source.resume());
  };
  channel.on('data', (data: Buffer) => {
    const rest = header.done ? data : header.take(data);
    if (rest && rest.length > 0) feed('stdout', channel, rest);
  });
  channel.stderr.on('data', (data: Buffer) => feed('stderr', channel.stderr, data));
  // The channel's close waits for its stdout to be read to the end, not for its stderr.
  const stderrEnded = new Promise<void>((resolve) => {
    if (channel.stderr.readableEnded) resolve();
    else channel.stderr.once('end', () => resolve());
    channel.stderr.once('close', () => resolve());
  });
  pipeStdin(options.stdin, channel);
  const exit = new Promise<{ code: number | null; signal?: string }>((resolve) => {
    let code: number | null = null;
    let signal: string | undefined;
    channel.on('exit', (c: number | null, s?: string) => {
      code = c;
      signal = s;
    });
    channel.on('close', () => resolve(signal === undefined ? { code } : { code, signal }));
  });
  const stop = stopper(options.timeoutMs, options.signal);
  try {
    const fail = async (why: 'TIMEOUT' | 'ABORTED') => {
      await killSession(context, header.pid, channel);
      return output.stoppedError(why, 'ssh', {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(why === 'ABORTED' ? { cause: options.signal?.reason } : {}),
      });
    };
    const outcome = await Promise.race([exit, stop.fired]);
    if (outcome === 'TIMEOUT' || outcome === 'ABORTED') throw await fail(outcome);
    // Then the rest of stderr (a listener may still be holding it back), unless stopped first.
    const late = await Promise.race([stderrEnded.then(() => undefined), stop.fired]);
    if (late) throw await fail(late);
    const exitCode = exitCodeOf(outcome);
    const stderr = output.partial().stderr;
    if (exitCode === SETUP_FAILURE_EXIT && stderr.trimEnd().endsWith(`${marker}:${NO_SUDO}`))
      throw new VmkitError(
        'UNSUPPORTED',
        `node ${context.node}: the login user ${context.loginUser} cannot run scripts as ${options.user ?? 'root'}: the guest has no sudo`,
        { details: { node: context.node, field: 'user' } },
      );
    const failed = setupFailure(marker, exitCode, stderr);
    if (failed) throw setupFailureError(failed, options);
    return output.result(exitCode, Date.now() - started, 'ssh');
  } finally {
    stop.clear();
  }
}

/** 128 + the signal's number when a signal ended it, else its code (255 when the server said none). */
function exitCodeOf(outcome: { code: number | null; signal?: string }): number {
  if (outcome.signal !== undefined) {
    const n = (constants.signals as Record<string, number>)[`SIG${outcome.signal}`];
    return 128 + (n ?? 0);
  }
  return outcome.code ?? 255;
}

/** The first stdout line: the PID of the script's login shell. */
class SessionHeader {
  done = false;
  pid: number | undefined;
  #buffer = '';

  /** Reads the line from `data`; returns what follows it. */
  take(data: Buffer): Buffer | undefined {
    const newline = data.indexOf(0x0a);
    if (newline < 0) {
      this.#buffer += data.toString('latin1');
      if (this.#buffer.length > MAX_HEADER_BYTES) this.done = true;
      return undefined;
    }
    const line = this.#buffer + data.subarray(0, newline).toString('latin1');
    this.done = true;
    if (/^\d{1,10}$/.test(line)) this.pid = Number(line);
    return data.subarray(newline + 1);
  }
}

/** Pipes stdin into the channel with back-pressure, then ends it (at once without stdin). */
function pipeStdin(stdin: ScriptInput | undefined, channel: ClientChannel): void {
  if (stdin === undefined) {
    channel.end();
    return;
  }
  const source =
    typeof stdin === 'string' || stdin instanceof Uint8Array
      ? Readable.from([Buffer.from(stdin)])
      : Readable.from(stdin);
  // The script may exit before reading all of it: the channel closing is not an error here.
  source.on('error', () => channel.end());
  channel.on('error', () => source.destroy());
  source.pipe(channel);
}

/** The timeout and the signal as one promise of what fired first. */
function stopper(timeoutMs: number | undefined, signal: AbortSignal | undefined) {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const fired = new Promise<'TIMEOUT' | 'ABORTED'>((resolve) => {
    if (timeoutMs !== undefined) timer = setTimeout(() => resolve('TIMEOUT'), timeoutMs);
    if (signal) {
      onAbort = () => resolve('ABORTED');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return {
    fired,
    clear: () => {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Kills the script: its process tree and sessions through a second exec (as root), which waits
 * until none is left, before anything else (a signal to the login shell first would orphan what
 * it started). Without its PID, a KILL signal on its channel is all that can be sent. Returns
 * whether the processes are known to be gone.
 */
async function killSession(
  context: SshRunContext,
  pid: number | undefined,
  channel: ClientChannel,
): Promise<boolean> {
  if (pid === undefined) {
    signalChannel(channel);
    channel.close();
    return false;
  }
  try {
    const killed = await smallExec(context.session, killTreeCommand(pid, context.loginUser));
    return killed.stdout.includes('gone');
  } catch {
    signalChannel(channel);
    return false;
  } finally {
    channel.close();
  }
}

function signalChannel(channel: ClientChannel): void {
  try {
    channel.signal('KILL');
  } catch {
    // A server without signal support: closing the channel is all that is left.
  }
}
