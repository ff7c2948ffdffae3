import { type ChildProcess, spawn } from 'node:child_process';

/** A child process running a fixture script, with its JSON output lines collected. */
export interface FixtureChild {
  readonly child: ChildProcess;
  /** Every JSON line printed so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** Resolves with the first line `match` accepts (rejects when the child exits first). */
  waitFor(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) and the last of stderr, once all its output is read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * Runs `script` with node and `env` added to this process's environment; with `stdin`, the
 * child's standard input is a pipe the caller writes to (`child.stdin`), else it is closed.
 */
export function spawnFixture(
  script: string,
  env: Record<string, string>,
  options: { readonly stdin?: boolean } = {},
): FixtureChild {
  // VMKIT_FIXTURE_NODE_ARGS: node options for every child, split at spaces (so none may hold one),
  // e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile a fleet.
  const nodeArgs = process.env.VMKIT_FIXTURE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, ...env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => {}); // a child that died before reading its input
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    let at = buffered.indexOf('\n');
    while (at >= 0) {
      const text = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      if (text.startsWith('{')) lines.push(JSON.parse(text) as Record<string, unknown>);
      at = buffered.indexOf('\n');
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const wake of waiters) wake();
  });
  return {
    child,
    lines,
    exited,
    waitFor(match) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (gone) {
            waiters.delete(check);
            reject(new Error(`the child exited first; stderr: ${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}
