import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ProviderNode } from '../spi/hypervisor-provider.js';

/** A master held by the memory provider. */
export interface MemoryMaster {
  readonly name: string;
  readonly imageId: string;
  ready: boolean;
  /** Steps that ran, in order (for tests of the pipeline). */
  readonly steps: string[];
  /** When its build started (ISO 8601). */
  readonly createdAt?: string;
}

/** Everything the memory provider knows; serialisable so processes can share it through a file. */
export interface MemoryProviderData {
  masters: Record<string, MemoryMaster>;
  nodes: Record<string, ProviderNode>;
  /** Disks by name: `master:<name>`, `node:<id>` or a node's data volume `node:<id>:data<i>` (with its size and label). */
  disks: Record<string, { readonly backing?: string; readonly bytes?: number; readonly label?: string }>;
  /** Snapshots by node id, oldest first (absent in files written before snapshots existed). */
  snapshots?: Record<string, MemorySnapshot[]>;
  /** Each node's current snapshot (the last taken or reverted to), by node id. */
  currentSnapshot?: Record<string, string>;
}

/** A snapshot held by the memory provider: as listed, plus the node status it restores. */
export interface MemorySnapshot {
  readonly name: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly memory: boolean;
  readonly parent?: string;
  /** The node's status when it was taken (a memory snapshot restores `running`). */
  readonly status: ProviderNode['status'];
}

/** Holds the provider's data in memory, or in a JSON file shared by several processes. */
export class MemoryProviderState {
  readonly #path: string | undefined;
  #data: MemoryProviderData = { masters: {}, nodes: {}, disks: {} };

  constructor(path?: string) {
    this.#path = path;
  }

  /** Runs `fn` over fresh data and saves what it changed. */
  mutate<T>(fn: (data: MemoryProviderData) => T): T {
    this.#load();
    const result = fn(this.#data);
    this.#save();
    return result;
  }

  /** Reads the data. */
  read<T>(fn: (data: MemoryProviderData) => T): T {
    this.#load();
    return fn(this.#data);
  }

  #load(): void {
    if (!this.#path) return;
    try {
      this.#data = JSON.parse(readFileSync(this.#path, 'utf8')) as MemoryProviderData;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  #save(): void {
    if (!this.#path) return;
    const tmp = `${this.#path}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#data));
    renameSync(tmp, this.#path);
  }
}
