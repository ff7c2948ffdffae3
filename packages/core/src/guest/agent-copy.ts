import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { CopyResult } from '../model/guest-exec.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import { readToEnd, writeGuestFile } from './agent-files.js';
import { runShell } from './agent-process.js';
import type { TransportCopyInOptions } from './guest-transport.js';
import { checkGuestPath, shellQuote } from './shell-command.js';

/** Owners `chown` is given: `user` or `user:group`. */
const OWNER = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}\$?(:[A-Za-z0-9._][A-Za-z0-9._-]{0,31}\$?)?$/;
/** A progress event every this many bytes. */
const PROGRESS_STEP = 8 * 1024 * 1024;
/** Bounds the guest commands of a copy (checksum, rename, cleanup). */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

// Exit codes of the finishing script of copyIn.
const EXIT = { hashFailed: 3, mismatch: 4, chmod: 5, chown: 6, isDirectory: 7, rename: 8 } as const;

/** Checks the options of a copy into a guest: `mode` from 0 to 0o7777, `owner` `user[:group]`. */
export function checkCopyInOptions(options: { readonly mode?: number; readonly owner?: string }): void {
  const { mode, owner } = options;
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777))
    throw invalidArgument('mode', 'must be a file mode from 0 to 0o7777', { mode });
  if (owner !== undefined && (typeof owner !== 'string' || !OWNER.test(owner)))
    throw invalidArgument('owner', 'must be `user` or `user:group` of the guest', { owner: String(owner) });
}

/** The temporary name beside `guestPath` a copy writes before renaming it into place. */
function tempBeside(guestPath: string): string {
  const slash = guestPath.lastIndexOf('/');
  return `${guestPath.slice(0, slash + 1)}.${guestPath.slice(slash + 1)}.vmkit-${randomBytes(6).toString('hex')}`;
}

/** Shell text: `h` is the SHA-256 of `path` in the guest, and equal to `sha256`. */
function sameHashText(path: string, sha256: string): string {
  return `h=$(sha256sum <${shellQuote(path)}) && [ "\${h%% *}" = ${sha256} ]`;
}

function progress(options: OperationOptions, guestPath: string, bytes: number, done = false): void {
  emitProgress(options.onProgress, {
    phase: 'copy',
    message: `${done ? 'copied' : 'copying'} ${guestPath}: ${(bytes / 1048576).toFixed(1)} MiB`,
    ...(done ? { fraction: 1 } : {}),
  });
}

/**
 * Copies `source` into the guest at `guestPath` through the agent's file calls: into a temporary
 * name beside it (chunks of `maxChunkBytes`, hashed as they go), then one guest command checks the
 * SHA-256, applies mode and owner and renames it into place; on any failure the temporary file is
 * removed, so nothing half-copied is left.
 */
export async function agentCopyIn(
  agent: GuestAgent,
  source: AsyncIterable<Uint8Array>,
  guestPath: string,
  options: TransportCopyInOptions,
): Promise<CopyResult> {
  checkGuestPath('guestPath', guestPath);
  checkCopyInOptions(options);
  if (guestPath.endsWith('/')) throw invalidArgument('guestPath', 'must name a file, not a directory');
  const signal = options.signal;
  const temp = tempBeside(guestPath);
  let written = false;
  let nextProgress = PROGRESS_STEP;
  try {
    written = true;
    const { bytes, sha256 } = await writeGuestFile(agent, temp, source, {
      ...(signal ? { signal } : {}),
      onBytes: (n) => {
        if (n < nextProgress) return;
        nextProgress += PROGRESS_STEP;
        progress(options, guestPath, n);
      },
    });
    const t = shellQuote(temp);
    const p = shellQuote(guestPath);
    const finish = [
      `fail() { rm -f ${t}; exit $1; }`,
      `h=$(sha256sum <${t}) || fail ${EXIT.hashFailed}`,
      `[ "\${h%% *}" = ${sha256} ] || fail ${EXIT.mismatch}`,
      `chmod ${options.mode.toString(8)} ${t} || fail ${EXIT.chmod}`,
      ...(options.owner ? [`chown ${shellQuote(options.owner)} ${t} || fail ${EXIT.chown}`] : []),
      `[ -d ${p} ] && fail ${EXIT.isDirectory}`,
      `mv -f ${t} ${p} || fail ${EXIT.rename}`,
    ].join('\n');
    const code = await runShell(agent, finish, {
      ...(signal ? { signal } : {}),
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    if (code !== 0) throw finishError(code, guestPath, options.owner);
    written = false;
    progress(options, guestPath, bytes, true);
    return { bytes, sha256, transport: 'agent' };
  } finally {
    if (written)
      await runShell(agent, `rm -f ${shellQuote(temp)}`, { timeoutMs: COMMAND_TIMEOUT_MS }).catch(() => 0);
  }
}

function finishError(code: number, guestPath: string, owner: string | undefined): VmkitError {
  switch (code) {
    case EXIT.mismatch:
      return new VmkitError(
        'CORRUPT',
        `copy to ${guestPath}: the guest's SHA-256 differs from what was sent`,
        {
          details: { guestPath },
        },
      );
    case EXIT.chown:
      return invalidArgument('owner', 'no such user or group in the guest', { owner });
    case EXIT.isDirectory:
      return invalidArgument('guestPath', 'is a directory in the guest', { guestPath });
    default:
      return new VmkitError(
        'PROVIDER',
        `copy to ${guestPath}: the guest could not ${finishStep(code)} (exit ${code})`,
        {
          details: { guestPath, exitCode: code },
        },
      );
  }
}

function finishStep(code: number): string {
  if (code === EXIT.hashFailed) return 'compute the SHA-256 (sha256sum)';
  if (code === EXIT.chmod) return 'set the mode';
  if (code === EXIT.rename) return 'rename the file into place';
  return 'finish the copy';
}

/**
 * Copies the guest file `guestPath` into `sink` through the agent's file calls, chunk by chunk
 * (waiting for the sink to drain), hashing as it goes, then checks the guest's own SHA-256 of the
 * file: `CORRUPT` when they differ (the file changed while it was read).
 */
export async function agentCopyOut(
  agent: GuestAgent,
  guestPath: string,
  sink: Writable,
  options: OperationOptions,
): Promise<CopyResult> {
  checkGuestPath('guestPath', guestPath);
  const signal = options.signal;
  const call = signal ? { signal } : {};
  const hash = createHash('sha256');
  let nextProgress = PROGRESS_STEP;
  let total = 0;
  const handle = await agent.openFile(guestPath, 'r', call);
  try {
    await readToEnd(
      agent,
      handle,
      async (chunk) => {
        hash.update(chunk);
        total += chunk.byteLength;
        if (total >= nextProgress) {
          nextProgress += PROGRESS_STEP;
          progress(options, guestPath, total);
        }
        if (!sink.write(chunk)) await drained(sink, signal);
      },
      signal,
    );
  } finally {
    await agent.closeFile(handle).catch(() => undefined);
  }
  const sha256 = hash.digest('hex');
  const code = await runShell(agent, sameHashText(guestPath, sha256), {
    ...(signal ? { signal } : {}),
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
  if (code !== 0)
    throw new VmkitError(
      'CORRUPT',
      `copy from ${guestPath}: the guest's SHA-256 differs from what was read`,
      {
        details: { guestPath, bytes: total },
      },
    );
  progress(options, guestPath, total, true);
  return { bytes: total, sha256, transport: 'agent' };
}

/** Waits for `sink` to drain; rejects when it fails or `signal` fires. */
async function drained(sink: Writable, signal: AbortSignal | undefined): Promise<void> {
  await once(sink, 'drain', signal ? { signal } : {});
}
