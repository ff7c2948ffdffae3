import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { VmkitError } from '../errors/vmkit-error.js';
import type { CopyResult } from '../model/guest-exec.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import { readToEnd, writeGuestFile } from './agent-files.js';
import { runShell } from './agent-process.js';
import {
  CopyHasher,
  checkCopyInOptions,
  copyFinishError,
  copyFinishText,
  GUEST_CHECK_PROGRAM,
  sameHashText,
  tempBeside,
} from './copy-steps.js';
import type { TransportCopyInOptions } from './guest-transport.js';
import { checkGuestPath, shellQuote } from './shell-command.js';

/** A progress event every this many bytes. */
const PROGRESS_STEP = 8 * 1024 * 1024;
/** Bounds the guest commands of a copy (checksum, rename, cleanup). */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

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
 * bytes (`md5sum`, see {@link GUEST_CHECK_PROGRAM}), applies mode and owner and renames it into place; on any failure the temporary file is
 * removed, so nothing half-copied is left.
 */
export async function agentCopyIn(
  agent: GuestAgent,
  source: AsyncIterable<Uint8Array>,
  guestPath: string,
  options: TransportCopyInOptions,
): Promise<CopyResult> {
  checkCopyInOptions(guestPath, options);
  const signal = options.signal;
  const temp = tempBeside(guestPath);
  let written = false;
  let nextProgress = PROGRESS_STEP;
  try {
    written = true;
    const { bytes, sha256, check } = await writeGuestFile(agent, temp, source, {
      onOpenError: (error) => explainOpenFailure(agent, error, guestPath, 'write'),
      ...(signal ? { signal } : {}),
      onBytes: (n) => {
        if (n < nextProgress) return;
        nextProgress += PROGRESS_STEP;
        progress(options, guestPath, n);
      },
    });
    const finish = copyFinishText(temp, guestPath, check, options);
    const code = await runShell(agent, finish, {
      ...(signal ? { signal } : {}),
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    if (code !== 0) throw copyFinishError(code, guestPath, options.owner);
    written = false;
    progress(options, guestPath, bytes, true);
    return { bytes, sha256, transport: 'agent' };
  } finally {
    if (written)
      await runShell(agent, `rm -f ${shellQuote(temp)}`, { timeoutMs: COMMAND_TIMEOUT_MS }).catch(() => 0);
  }
}

/**
 * The error of a guest file that would not open: `NOT_FOUND` naming `guestPath` when the file to
 * read, or the directory to write in, does not exist; the agent's own error otherwise.
 */
async function explainOpenFailure(
  agent: GuestAgent,
  error: unknown,
  guestPath: string,
  purpose: 'read' | 'write',
): Promise<unknown> {
  if (!VmkitError.is(error, 'PROVIDER')) return error;
  const dir = guestPath.slice(0, guestPath.lastIndexOf('/')) || '/';
  const test = purpose === 'read' ? `[ -f ${shellQuote(guestPath)} ]` : `[ -d ${shellQuote(dir)} ]`;
  const code = await runShell(agent, test, { timeoutMs: COMMAND_TIMEOUT_MS }).catch(() => 0);
  if (code === 0) return error;
  const what = purpose === 'read' ? 'no such file in the guest' : `no directory ${dir} in the guest`;
  return new VmkitError('NOT_FOUND', `guestPath: ${what}`, {
    details: { field: 'guestPath', guestPath },
    cause: error,
  });
}

/**
 * Copies the guest file `guestPath` into `sink` through the agent's file calls, chunk by chunk
 * (waiting for the sink to drain), hashing as it goes, then checks the guest's own checksum of the
 * file (`md5sum`): `CORRUPT` when they differ (the file changed while it was read).
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
  const hash = new CopyHasher();
  let nextProgress = PROGRESS_STEP;
  const handle = await agent.openFile(guestPath, 'r', call).catch(async (error: unknown) => {
    throw await explainOpenFailure(agent, error, guestPath, 'read');
  });
  try {
    await readToEnd(
      agent,
      handle,
      async (chunk) => {
        hash.update(chunk);
        if (hash.bytes >= nextProgress) {
          nextProgress += PROGRESS_STEP;
          progress(options, guestPath, hash.bytes);
        }
        if (!sink.write(chunk)) await drained(sink, signal);
      },
      { signal },
    );
  } finally {
    await agent.closeFile(handle).catch(() => undefined);
  }
  const { bytes: total, sha256, check } = hash.digest();
  const code = await runShell(agent, sameHashText(guestPath, check), {
    ...(signal ? { signal } : {}),
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
  if (code !== 0)
    throw new VmkitError(
      'CORRUPT',
      `copy from ${guestPath}: the guest's checksum (${GUEST_CHECK_PROGRAM}) differs from what was read`,
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
