import type { GuestAgent, GuestAgentAccess } from '../spi/guest-agent.js';
import type { HypervisorProvider, ProviderNode } from '../spi/hypervisor-provider.js';

/** Faults the memory provider injects, for tests of the cache, pipeline and rollback. */
export interface MemoryProviderFaults {
  /** Fail the build step of this name (or 1-based index) on every build. */
  failStep?: string | number;
  /** Fail the k-th clone (1-based, counting clones since the provider was made) half-way. */
  failClone?: number | readonly number[];
  /** Make every master build take this long (in the first step, abortable). */
  buildDelayMs?: number;
  /** Make every clone take this long (abortable). */
  cloneDelayMs?: number;
  /** Fail `startNode` for nodes whose name matches. */
  failStart?: RegExp;
  /** Nodes whose name matches ignore the graceful stop (as a guest ignoring ACPI): `stopNode` waits `stopGraceMs` (abortable), then powers off. */
  ignoreStop?: RegExp;
  /** The grace period of `stopNode` for nodes matching `ignoreStop` (default 1000 ms). */
  stopGraceMs?: number;
}

/** Options of {@link memoryProvider}. */
export interface MemoryProviderOptions {
  /** Faults to inject; also settable later through `provider.faults`. */
  readonly faults?: MemoryProviderFaults;
  /** Share the fake hypervisor between processes through this JSON file. */
  readonly statePath?: string;
  /** Provider identity (default: a fresh id, or one derived from `statePath`). */
  readonly id?: string;
  /**
   * The guest agent of a running node, for tests of commands and copies. Absent (the default): the
   * provider has no `guestAgent` capability and core refuses agent work with `UNSUPPORTED`.
   */
  readonly guestAgent?: (node: ProviderNode, access: GuestAgentAccess) => GuestAgent | Promise<GuestAgent>;
}

/** Counters the memory provider keeps, for assertions. */
export interface MemoryProviderStats {
  builds: number;
  /** Masters adopted through `importMasterDisk`. */
  imports: number;
  clones: number;
  destroys: number;
  calls: number;
}

/** The in-memory hypervisor: a {@link HypervisorProvider} plus handles for tests. */
export interface MemoryProvider extends HypervisorProvider {
  /** Faults to inject; change at will between calls. */
  faults: MemoryProviderFaults;
  /** Counters. */
  readonly stats: MemoryProviderStats;
  /** Names of the masters that exist (ready or partial). */
  masterNames(): string[];
  /** Names of the disks that exist (`master:<name>`, `node:<id>`, data volumes `node:<id>:data<i>`). */
  diskNames(): string[];
  /** The steps that made a master (build steps, or `from-node:<id>` and `seal`), if it exists. */
  masterSteps(name: string): string[] | undefined;
  /** The disk a disk is backed by: `null` when it stands alone, `undefined` when there is no such disk. */
  diskBacking(name: string): string | null | undefined;
  /** Removes a master behind vmkit's back, as an operator might. */
  vanishMaster(name: string): void;
  /** How many times a node was booted (started from stopped, or rebooted) in this process. */
  bootCount(nodeId: string): number;
  /** Leaves an unfinished master, as a build whose process crashed would (`createdAt` default now). */
  plantLeftover(masterName: string, imageId: string, createdAt?: string): void;
}
