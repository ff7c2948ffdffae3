import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real executable, as npm links it (it runs the compiled dist/). */
export const VMKIT_BIN = fileURLToPath(new URL('../bin/vmkit.js', import.meta.url));

/** A running `vmkit` child process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Output so far. */
  readonly out: { stdout: string; stderr: string };
  /** Resolves when stderr matches (rejects when the process ends first or after `timeoutMs`). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code and all output when it ends. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `vmkit ARGS` as a child process (pipes, so no TTY) in `cwd`. */
export function spawnCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [VMKIT_BIN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d) => (out.stdout += d));
  child.stderr?.on('data', (d) => {
    out.stderr += d;
    for (const l of listeners) l();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, ...out })),
  );
  return {
    child,
    out,
    done,
    waitForStderr(pattern, timeoutMs = 120_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out.stderr)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`stderr did not match ${pattern} in ${timeoutMs} ms:\n${out.stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void done.then(() => {
          if (!listeners.has(check)) return;
          cleanup();
          reject(new Error(`vmkit ended before stderr matched ${pattern}:\n${out.stderr}`));
        });
        check();
      });
    },
  };
}

/** Runs `vmkit ARGS` to completion. */
export function runCliProcess(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return spawnCli(args, cwd, env).done;
}
