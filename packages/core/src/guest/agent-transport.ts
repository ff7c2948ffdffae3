import type { Writable } from 'node:stream';
import type { CopyResult, NodeScript, RunScriptOptions, ScriptResult } from '../model/guest-exec.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import type { OperationOptions } from '../util/progress.js';
import { agentCopyIn, agentCopyOut } from './agent-copy.js';
import { RunDirKeeper } from './agent-run-dir.js';
import { type AgentRunSettings, AgentScriptRun } from './agent-script-run.js';
import type { GuestTransport, TransportCopyInOptions } from './guest-transport.js';

/** Options of an {@link AgentTransport}. */
export interface AgentTransportOptions {
  /** Guest directory the private run directory is made in (default `/tmp`). */
  readonly tempRoot?: string;
  /**
   * The guest's run directory, kept by the caller across transports (a compute service keeps one
   * per node); by default the transport makes its own on its first script and removes it on close.
   */
  readonly runDir?: RunDirKeeper;
  /** Time between `TERM` and `KILL` when a script is stopped (default 1 s). */
  readonly killGraceMs?: number;
  /** A script's output is read while it runs once it ran this long (default 20 ms). */
  readonly streamAfterMs?: number;
  /** How long {@link AgentTransport.close} waits for cleanup still going on (default 10 s). */
  readonly closeWaitMs?: number;
}

/**
 * The guest agent transport: scripts and file copies written once on the few primitives a
 * provider's {@link GuestAgent} has. A script runs as a subshell of a `/bin/sh` wrapper, its files
 * in a private run directory (mode 700, kept across runs), stdin from a file, output to files read
 * by offset or handed back through the agent's capture; timeouts
 * and aborts kill every process the run marked (`TERM`, then `KILL`). Copies go through a temporary name,
 * SHA-256 checked in the guest, then renamed. Memory stays bounded (one chunk at a time).
 */
export class AgentTransport implements GuestTransport {
  readonly kind = 'agent' as const;
  readonly #agent: GuestAgent;
  readonly #settings: AgentRunSettings;
  readonly #closeWaitMs: number;
  readonly #pending = new Set<Promise<unknown>>();
  /** The run directory this transport made itself and removes on close. */
  readonly #ownRunDir: RunDirKeeper | undefined;
  #closed: Promise<void> | undefined;

  constructor(agent: GuestAgent, options: AgentTransportOptions = {}) {
    this.#agent = agent;
    this.#closeWaitMs = options.closeWaitMs ?? 10_000;
    this.#ownRunDir = options.runDir ? undefined : new RunDirKeeper(options.tempRoot ?? '/tmp');
    this.#settings = {
      runDir: options.runDir ?? (this.#ownRunDir as RunDirKeeper),
      killGraceMs: options.killGraceMs ?? 1000,
      streamAfterMs: options.streamAfterMs ?? 20,
      background: (work) => {
        const tracked = work.catch(() => undefined).finally(() => this.#pending.delete(tracked));
        this.#pending.add(tracked);
      },
    };
  }

  /** The agent underneath. */
  get agent(): GuestAgent {
    return this.#agent;
  }

  /** Runs a script (see {@link GuestTransport.run}). */
  run(script: NodeScript, options: RunScriptOptions): Promise<ScriptResult> {
    return new AgentScriptRun(this.#agent, options, this.#settings).run(script);
  }

  /** Copies into the guest (see {@link GuestTransport.copyIn}). */
  copyIn(
    source: AsyncIterable<Uint8Array>,
    guestPath: string,
    options: TransportCopyInOptions,
  ): Promise<CopyResult> {
    return agentCopyIn(this.#agent, source, guestPath, options);
  }

  /** Copies out of the guest (see {@link GuestTransport.copyOut}). */
  copyOut(guestPath: string, sink: Writable, options: OperationOptions): Promise<CopyResult> {
    return agentCopyOut(this.#agent, guestPath, sink, options);
  }

  /**
   * Waits (up to `closeWaitMs`) for cleanup still going on (an aborted script's kill), removes the
   * run directory it made itself (not one the caller keeps), then closes the agent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#closeWaitMs);
      });
      await Promise.race([Promise.all([...this.#pending]), limit]);
      clearTimeout(timer);
      await this.#ownRunDir?.remove(this.#agent, this.#closeWaitMs);
      await this.#agent.close?.();
    })();
    return this.#closed;
  }
}
