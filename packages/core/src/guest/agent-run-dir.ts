import { randomBytes } from 'node:crypto';
import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import { raceAbort } from '../util/abort.js';
import { mapSettled } from '../util/concurrency.js';
import { runShell } from './agent-process.js';
import { makeRunDirText, removeRunDirText } from './agent-wrapper.js';

/** Bounds the one round trip that makes a run directory (it is shared by concurrent runs). */
const MAKE_TIMEOUT_MS = 30_000;

/** Names tried for a new run directory before giving up. */
const MAKE_ATTEMPTS = 3;

/** Nodes whose run directories are removed at once when the owner closes. */
const REMOVE_CONCURRENCY = 4;

/**
 * The run directory of one guest, made by the first script run (`mkdir` of a fresh random name
 * under `umask 077`: one round trip) and kept for the life of its owner, so a run's own round
 * trip starts no `mkdir` and no `rm -r`: each wrapper checks with shell builtins that the
 * directory is still its own, and a run that finds it gone (the guest emptied `/tmp`, a snapshot
 * was reverted) says so, and the directory is made again.
 *
 * Concurrent runs share one `mkdir`; it runs under no caller's signal (a caller that gives up
 * does not fail the others), bounded by its own timeout.
 */
export class RunDirKeeper {
  readonly #tempRoot: string;
  #dir: Promise<string> | undefined;
  /** The directory {@link RunDirKeeper.dir} gives now, once made. */
  #current: string | undefined;
  /** Every directory asked for and not known lost: what {@link RunDirKeeper.remove} removes. */
  readonly #made = new Set<string>();

  constructor(tempRoot: string) {
    this.#tempRoot = tempRoot.replace(/\/+$/, '');
  }

  /** The run directory (made on first use), or `ABORTED` when `signal` fires first. */
  dir(agent: GuestAgent, signal?: AbortSignal): Promise<string> {
    if (!this.#dir) {
      const making = this.#make(agent);
      this.#dir = making;
      making.then(
        (dir) => {
          if (this.#dir === making) this.#current = dir;
        },
        () => {
          if (this.#dir === making) this.#dir = undefined;
        },
      );
    }
    return raceAbort(this.#dir, signal, 'script');
  }

  /** Says `dir` is gone or no longer private: the next {@link RunDirKeeper.dir} makes a new one. */
  lost(dir: string): void {
    this.#made.delete(dir);
    if (this.#current !== dir) return;
    this.#current = undefined;
    this.#dir = undefined;
  }

  /** The directories made (or being made) and not lost. */
  get made(): readonly string[] {
    return [...this.#made];
  }

  /** Removes the directories made (best effort, each bounded by `timeoutMs`) and forgets them. */
  async remove(agent: GuestAgent, timeoutMs: number): Promise<void> {
    const dirs = [...this.#made];
    this.#made.clear();
    this.#dir = undefined;
    this.#current = undefined;
    for (const dir of dirs) await runShell(agent, removeRunDirText(dir), { timeoutMs }).catch(() => 1);
  }

  /**
   * Makes a new run directory: a fresh random name each try, three tries (a guest user who saw
   * the name in the process list may have taken it first: `mkdir` then fails and nothing is used).
   */
  async #make(agent: GuestAgent): Promise<string> {
    let made = 0;
    let dir = '';
    for (let attempt = 0; attempt < MAKE_ATTEMPTS; attempt++) {
      dir = `${this.#tempRoot}/vmkit-runs-${randomBytes(8).toString('hex')}`;
      // Counted before the mkdir: one whose answer is lost is still removed at the end.
      this.#made.add(dir);
      made = await runShell(agent, makeRunDirText(dir), { timeoutMs: MAKE_TIMEOUT_MS });
      if (made === 0) return dir;
      this.#made.delete(dir);
    }
    throw new VmkitError('PROVIDER', `could not make a private directory in the guest (exit ${made})`, {
      details: { dir, attempts: MAKE_ATTEMPTS },
    });
  }
}

/**
 * The run directories of every node one owner (a compute service) reached through its agent: a
 * {@link RunDirKeeper} per node, kept across calls, removed by {@link AgentRunDirs.removeAll}
 * when the owner closes.
 */
export class AgentRunDirs {
  readonly #tempRoot: string;
  readonly #keepers = new Map<string, RunDirKeeper>();

  constructor(tempRoot = '/tmp') {
    this.#tempRoot = tempRoot;
  }

  /** The keeper of node `nodeId`'s run directory. */
  forNode(nodeId: string): RunDirKeeper {
    let keeper = this.#keepers.get(nodeId);
    if (!keeper) {
      keeper = new RunDirKeeper(this.#tempRoot);
      this.#keepers.set(nodeId, keeper);
    }
    return keeper;
  }

  /**
   * Removes every run directory made, a few nodes at a time through agents `open` gives (best effort:
   * a node that is gone or does not answer keeps nothing that matters), within `timeoutMs` in all.
   */
  async removeAll(
    open: (nodeId: string, signal: AbortSignal) => Promise<GuestAgent>,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const nodes = [...this.#keepers].filter(([, keeper]) => keeper.made.length > 0);
    this.#keepers.clear();
    await mapSettled(nodes, REMOVE_CONCURRENCY, async ([nodeId, keeper]) => {
      const left = deadline - Date.now();
      if (left <= 0) return;
      const agent = await open(nodeId, AbortSignal.timeout(left)).catch(() => undefined);
      if (!agent) return;
      try {
        await keeper.remove(agent, Math.max(1, deadline - Date.now()));
      } finally {
        await agent.close?.().catch(() => undefined);
      }
    });
  }
}
