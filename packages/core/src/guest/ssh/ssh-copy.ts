import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, VmkitError } from '../../errors/vmkit-error.js';
import type { CopyResult } from '../../model/guest-exec.js';
import { abortedError } from '../../util/abort.js';
import type { OperationOptions } from '../../util/progress.js';
import type { TransportCopyInOptions } from '../guest-transport.js';
import { checkGuestPath, shellQuote } from '../shell-command.js';
import { privilegedShell } from './ssh-command.js';
import type { SshSession } from './ssh-session.js';
import { collectSmall, smallExec } from './ssh-small-exec.js';

/** What a copy over SSH needs. */
export interface SshCopyContext {
  readonly session: SshSession;
  readonly loginUser: string;
  /** Node name, in errors. */
  readonly node: string;
}

const OWNER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})?$/;
const SHA256_LINE = /^([0-9a-f]{64})\s/;

/**
 * Copies `source` to `guestPath` through an exec channel (as root when the login can become root,
 * else as the login user): streamed into a temporary file beside the path with back-pressure while hashed here,
 * hashed again in the guest (`sha256sum`), then given its mode and owner and renamed into place.
 * On any failure (or abort) the temporary file is removed, so nothing is left at or beside the path.
 */
export async function copyInOverSsh(
  context: SshCopyContext,
  source: AsyncIterable<Uint8Array>,
  guestPath: string,
  options: TransportCopyInOptions,
): Promise<CopyResult> {
  checkGuestPath('guestPath', guestPath);
  if (guestPath.endsWith('/')) throw invalidArgument('guestPath', 'must name a file, not a folder');
  const mode = options.mode;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    throw invalidArgument('mode', 'must be an integer from 0 to 0o7777');
  if (options.owner !== undefined && !OWNER.test(options.owner))
    throw invalidArgument('owner', `must be 'user' or 'user:group' (got ${JSON.stringify(options.owner)})`);
  const temp = posix.join(
    posix.dirname(guestPath),
    `.${posix.basename(guestPath)}.vmkit-${randomBytes(6).toString('hex')}.part`,
  );
  const { session, loginUser, node } = context;
  const signal = options.signal;
  signal?.throwIfAborted();
  const hash = createHash('sha256');
  let bytes = 0;
  const write = `umask 077; cat > ${shellQuote(temp)} && sha256sum ${shellQuote(temp)}`;
  const channel = await session.exec(privilegedShell(loginUser, write));
  const done = collectSmall(channel);
  const onAbort = () => channel.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(Readable.from(source), hashing, channel, signal ? { signal } : {}).catch(
      (error: unknown) => {
        if (signal?.aborted) throw abortedError(signal, `copy to ${guestPath} on node ${node}`);
        throw error;
      },
    );
    const wrote = await done;
    if (signal?.aborted) throw abortedError(signal, `copy to ${guestPath} on node ${node}`);
    const sha256 = hash.digest('hex');
    if (wrote.code !== 0)
      throw invalidArgument('guestPath', `node ${node} could not write ${temp}: ${wrote.stderr.trim()}`, {
        node,
      });
    const remote = SHA256_LINE.exec(wrote.stdout)?.[1];
    if (remote !== sha256)
      throw new VmkitError(
        'CORRUPT',
        `the copy to ${guestPath} on node ${node} arrived changed (SHA-256 differs)`,
        {
          details: { node, guestPath },
        },
      );
    const place =
      `chmod ${mode.toString(8)} ${shellQuote(temp)}` +
      (options.owner ? ` && chown ${shellQuote(options.owner)} ${shellQuote(temp)}` : '') +
      ` && mv -f ${shellQuote(temp)} ${shellQuote(guestPath)}`;
    const placed = await smallExec(session, privilegedShell(loginUser, place));
    if (placed.code !== 0)
      throw invalidArgument(
        options.owner ? 'owner' : 'guestPath',
        `node ${node} could not place ${guestPath}: ${placed.stderr.trim()}`,
        { node },
      );
    return { bytes, sha256, transport: 'ssh' };
  } catch (error) {
    channel.close();
    await done;
    await smallExec(session, privilegedShell(loginUser, `rm -f ${shellQuote(temp)}`)).catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Copies `guestPath` into `sink` (left open) through an exec channel (as root when it can), with back-pressure,
 * hashed here and by `sha256sum` in the guest after it was read; `CORRUPT` when they differ.
 */
export async function copyOutOverSsh(
  context: SshCopyContext,
  guestPath: string,
  sink: Writable,
  options: OperationOptions,
): Promise<CopyResult> {
  checkGuestPath('guestPath', guestPath);
  if (guestPath.endsWith('/')) throw invalidArgument('guestPath', 'must name a file, not a folder');
  const { session, loginUser, node } = context;
  const signal = options.signal;
  signal?.throwIfAborted();
  const read = `test -f ${shellQuote(guestPath)} || { echo 'not a file' >&2; exit 2; }; cat ${shellQuote(guestPath)} && sha256sum ${shellQuote(guestPath)} >&2`;
  const channel = await session.exec(privilegedShell(loginUser, read));
  channel.end();
  const hash = createHash('sha256');
  let bytes = 0;
  // A channel paused for a sink that will not drain must flow again to reach its end.
  const stop = () => {
    channel.close();
    channel.resume();
  };
  const onAbort = stop;
  signal?.addEventListener('abort', onAbort, { once: true });
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
      bytes += data.length;
      if (!sink.write(data)) {
        channel.pause();
        sink.once('drain', () => channel.resume());
      }
    });
    if (signal?.aborted) throw abortedError(signal, `copy from ${guestPath} on node ${node}`);
    if (sinkError !== undefined) throw sinkError;
    if (result.code !== 0)
      throw invalidArgument(
        'guestPath',
        `node ${node} could not read ${guestPath}: ${result.stderr.trim()}`,
        {
          node,
        },
      );
    const sha256 = hash.digest('hex');
    const remote = SHA256_LINE.exec(result.stderr.split('\n').at(-2) ?? '')?.[1];
    if (remote !== sha256)
      throw new VmkitError(
        'CORRUPT',
        `the copy of ${guestPath} from node ${node} arrived changed (SHA-256 differs)`,
        {
          details: { node, guestPath },
        },
      );
    return { bytes, sha256, transport: 'ssh' };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    sink.off('error', onSinkError);
  }
}
