import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CliIo } from './command-context.js';
import { EXIT_CODES } from './exit-codes.js';
import { cliPackageFile } from './package-files.js';

/** Set in the environment of a `vmkit` started by {@link runDetached}. */
export const DETACHED_ENV = 'VMKIT_IMPORT_DETACHED';

/** In a detached `vmkit`: tells the parent what it started, then cuts the channel. */
export function notifyParent(message: Record<string, unknown>): void {
  if (process.env[DETACHED_ENV] !== '1' || !process.send) return;
  process.send(message);
  process.disconnect();
}

/**
 * Starts `vmkit ARGS` in the background (its own session, output written to `logFile`, a new
 * file made 0600) and resolves with the first message it sends (see {@link notifyParent}); the
 * parent can then exit while the child works on. A child that ends before sending fails with its own exit code's
 * kind and the last line of its log.
 */
export async function runDetached(
  args: readonly string[],
  io: CliIo,
  logFile: string,
): Promise<{ message: Record<string, unknown>; pid: number }> {
  await mkdir(dirname(logFile), { recursive: true });
  // A new file readable by its owner only (its lines may quote user data), never one planted there.
  const log = await open(logFile, 'ax', 0o600);
  try {
    const child = spawn(process.execPath, [cliPackageFile('bin/vmkit.js'), ...args], {
      cwd: io.cwd,
      env: { ...process.env, ...io.env, [DETACHED_ENV]: '1' },
      detached: true,
      stdio: ['ignore', log.fd, log.fd, 'ipc'],
    });
    const message = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Record<string, unknown>));
      child.once('error', reject);
      child.once('exit', (code) => reject(Object.assign(new Error('exited'), { exitCode: code ?? 1 })));
    }).catch(async (error: unknown) => {
      const exitCode = (error as { exitCode?: number }).exitCode;
      if (exitCode === undefined) throw error;
      const lines = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n');
      const kind = Object.entries(EXIT_CODES).find(([, c]) => c === exitCode)?.[0] ?? 'INTERNAL';
      const { VmkitError } = await import('@vmkit/core');
      const last = (lines.at(-1) ?? '').replace(/^vmkit: /, '');
      if (kind === 'INTERNAL' || kind === 'OK')
        throw new Error(`background vmkit failed: ${last} (log: ${logFile})`);
      throw new VmkitError(kind as 'PROVIDER', last, { details: { log: logFile } });
    });
    if (child.connected) child.disconnect();
    child.unref();
    return { message, pid: child.pid ?? 0 };
  } finally {
    await log.close();
  }
}
