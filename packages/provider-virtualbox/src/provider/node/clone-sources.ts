import { type MasterRef, VmkitError } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi } from '../../soap/connection.js';
import { isNotFound } from '../../soap/errors.js';
import { masterMachineOf, type VboxMasterData } from '../master/master-build.js';
import { MASTER_SNAPSHOT } from '../virtualbox-context.js';

/** The machines clones are made from (each master's snapshot machine), looked up once per websession. */
export class CloneSources {
  readonly #cache = new Map<string, { generation: number; machine: Promise<vbox.IMachine> }>();

  /** The snapshot machine of a master; `NOT_FOUND` when the master is gone. */
  get(api: VboxApi, ref: MasterRef): Promise<vbox.IMachine> {
    const key = masterMachineOf(ref);
    const cached = this.#cache.get(key);
    if (cached && cached.generation === api.generation) return cached.machine;
    const data = ref.data as Partial<VboxMasterData> | undefined;
    const machine = (async () => {
      let master: vbox.IMachine;
      try {
        master = await api.vbox.findMachine(key);
      } catch (error) {
        if (isNotFound(error))
          throw new VmkitError('NOT_FOUND', `master ${ref.id} does not exist on VirtualBox`, {
            cause: error,
          });
        throw error;
      }
      return (await master.findSnapshot(data?.snapshot ?? MASTER_SNAPSHOT)).getMachine();
    })();
    this.#cache.set(key, { generation: api.generation, machine });
    machine.catch(() => this.#cache.delete(key));
    return machine;
  }

  /** Forgets one master (after a failure with it). */
  forget(ref: MasterRef): void {
    this.#cache.delete(masterMachineOf(ref));
  }

  /** Forgets all. */
  clear(): void {
    this.#cache.clear();
  }
}
