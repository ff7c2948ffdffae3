import { posix } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VmkitError } from '../../errors/vmkit-error.js';
import type { CopyResult } from '../../model/guest-exec.js';
import { abortedError } from '../../util/abort.js';
import type { OperationOptions } from '../../util/progress.js';
import {
  CopyHasher,
  checkCopyInOptions,
  copyFinishError,
  copyFinishText,
  GUEST_CHECK_PROGRAM,
  guestCheckOf,
  tempBeside,
} from '../copy-steps.js';
import type { TransportCopyInOptions } from '../guest-transport.js';
import { checkGuestPath, shellQuote } from '../shell-command.js';
import { privilegedShell } from './ssh-command.js';
import type { SshSession } from './ssh-session.js';
import { collectSmall, smallExec } from './ssh-small-exec.js';

/** What a copy over SSH needs. */
export interface SshCopyContext {
  /** The connection. */
  readonly session: SshSession;
  /** The user it logged in as. */
  readonly loginUser: string;
  /** Node name, in errors. */
  readonly node: string;
}

/** The exit code of a copy's first step when the directory to write in (or the file to read) is missing. */
const MISSING = 66;

/**
 * Copies `source` to `guestPath` through an exec channel (as root when the login can become root,
 * else as the login user): streamed into a temporary file beside the path with back-pressure
 * while hashed here, then finished as every transport finishes a copy ({@link copyFinishText}:
 * the guest's checksum checked, mode and owner set, renamed into place). On any failure (or
 * abort) the temporary file is removed, so nothing is left at or beside the path.
 */
export async function copyInOverSsh(
  context: SshCopyContext,
  source: AsyncIterable<Uint8Array>,
  guestPath: string,
  options: TransportCopyInOptions,
): Promise<CopyResult> {
  checkCopyInOptions(guestPath, options);
  const temp = tempBeside(guestPath);
  const { session, loginUser, node } = context;
  const signal = options.signal;
  signal?.throwIfAborted();
  const hash = new CopyHasher();
  const dir = shellQuote(posix.dirname(guestPath));
  const write = `[ -d ${dir} ] || exit ${MISSING}; umask 077; cat > ${shellQuote(temp)}`;
  const channel = await session.exec(privilegedShell(loginUser, write));
  const done = collectSmall(channel);
  const onAbort = () => channel.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    const sent = pipeline(Readable.from(source), hashing, channel, signal ? { signal } : {});
    const sentThenDone = sent.then(() => done);
    sentThenDone.catch(() => {}); // seen by the race below, or superseded by the guest's answer
    const wrote = await Promise.race([done, sentThenDone]);
    // A guest that stopped reading (no such directory) ends the channel before the source does.
    if (wrote.code !== 0) {
      await sent.catch(() => {});
      throw writeError(wrote.code, wrote.stderr, guestPath, node, signal);
    }
    await sent;
    signal?.throwIfAborted();
    const { bytes, sha256, check } = hash.digest();
    const finish = copyFinishText(temp, guestPath, check, { mode: options.mode, ...ownerOf(options) });
    const finished = await smallExec(session, privilegedShell(loginUser, finish));
    if (finished.code !== 0) throw copyFinishError(finished.code ?? 255, guestPath, options.owner);
    return { bytes, sha256, transport: 'ssh' };
  } catch (error) {
    channel.close();
    await done;
    await smallExec(session, privilegedShell(loginUser, `rm -f ${shellQuote(temp)}`)).catch(() => {});
    throw signal?.aborted ? abortedError(signal, `copy to ${guestPath} on node ${node}`) : error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Copies `guestPath` into `sink` (left open) through an exec channel (as root when it can), with
 * back-pressure, hashed here and by the guest's checksum program after it was read; `CORRUPT` when
 * they differ, `NOT_FOUND` naming `guestPath` when there is no such file.
 */
export async function copyOutOverSsh(
  context: SshCopyContext,
  guestPath: string,
  sink: Writable,
  options: OperationOptions,
): Promise<CopyResult> {
  checkGuestPath('guestPath', guestPath);
  const { session, loginUser, node } = context;
  const signal = options.signal;
  signal?.throwIfAborted();
  const path = shellQuote(guestPath);
  const read = `[ -f ${path} ] || exit ${MISSING}; cat ${path} && ${GUEST_CHECK_PROGRAM} ${path} >&2`;
  const channel = await session.exec(privilegedShell(loginUser, read));
  channel.end();
  const hash = new CopyHasher();
  // A channel paused for a sink that will not drain must flow again to reach its end.
  const stop = () => {
    channel.close();
    channel.resume();
  };
  signal?.addEventListener('abort', stop, { once: true });
  let sinkError: unknown;
  const onSinkError = (error: unknown) => {
    sinkError ??= error;
    stop();
  };
  sink.on('error', onSinkError);
  try {
    const result = await collectSmall(channel, (data) => {
      if (sinkError !== undefined) return;
      hash.update(data);
      if (!sink.write(data)) {
        channel.pause();
        sink.once('drain', () => channel.resume());
      }
    });
    if (signal?.aborted) throw abortedError(signal, `copy from ${guestPath} on node ${node}`);
    if (sinkError !== undefined) throw sinkError;
    if (result.code === MISSING)
      throw new VmkitError('NOT_FOUND', 'guestPath: no such file in the guest', {
        details: { field: 'guestPath', guestPath, node },
      });
    if (result.code !== 0)
      throw new VmkitError('PROVIDER', `copy from ${guestPath} on node ${node}: ${result.stderr.trim()}`, {
        details: { guestPath, node, exitCode: result.code },
      });
    const { bytes, sha256, check } = hash.digest();
    const remote = guestCheckOf(result.stderr.split('\n').at(-2) ?? '');
    if (remote !== check)
      throw new VmkitError(
        'CORRUPT',
        `copy from ${guestPath} on node ${node}: the guest's checksum (${GUEST_CHECK_PROGRAM}) differs from what arrived`,
        { details: { node, guestPath } },
      );
    return { bytes, sha256, transport: 'ssh' };
  } finally {
    signal?.removeEventListener('abort', stop);
    sink.off('error', onSinkError);
  }
}

function ownerOf(options: TransportCopyInOptions): { owner?: string } {
  return options.owner === undefined ? {} : { owner: options.owner };
}

/** The error of a first copy step that failed: no such directory, aborted, or what the guest said. */
function writeError(
  code: number | null,
  stderr: string,
  guestPath: string,
  node: string,
  signal: AbortSignal | undefined,
): VmkitError {
  if (signal?.aborted) return abortedError(signal, `copy to ${guestPath} on node ${node}`);
  if (code === MISSING)
    return new VmkitError('NOT_FOUND', `guestPath: no directory ${posix.dirname(guestPath)} in the guest`, {
      details: { field: 'guestPath', guestPath, node },
    });
  return new VmkitError(
    'PROVIDER',
    `copy to ${guestPath} on node ${node}: could not write: ${stderr.trim()}`,
    {
      details: { guestPath, node, exitCode: code },
    },
  );
}
