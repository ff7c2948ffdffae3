import { VmkitError } from '../errors/vmkit-error.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { NodeImageCapabilities } from '../spi/node-images.js';
import { sleep, throwIfAborted } from '../util/abort.js';
import { emitProgress } from '../util/progress.js';
import type { MemoryProviderState } from './memory-provider-state.js';
import type { MemoryProviderFaults } from './memory-provider-types.js';

/** What the memory provider makes images from: stopped and running nodes, sealed or not. */
export const MEMORY_NODE_IMAGE_CAPABILITIES: NodeImageCapabilities = Object.freeze({
  stopped: true,
  running: true,
  seal: true,
});

/**
 * The memory provider's `createMasterFromNode`: a ready master with a disk of its own (no backing
 * disk: flattened) whose steps say where it came from (`from-node:<id>`) and whether it was sealed
 * (`seal`). The node is left as it was. It honours `faults.buildDelayMs` (abortable) and fails
 * with `PROVIDER` when `faults.failStep` is `image-from-node`, removing what it made.
 */
export function memoryNodeImages(
  state: MemoryProviderState,
  faults: () => MemoryProviderFaults,
  open: () => void,
): Required<Pick<HypervisorProvider, 'createMasterFromNode'>> {
  return {
    async createMasterFromNode(id, request, options = {}) {
      open();
      const { masterName, seal } = request;
      throwIfAborted(options.signal, `image from node ${id}`);
      state.mutate((d) => {
        if (!d.nodes[id])
          throw new VmkitError('NOT_FOUND', `node ${id} does not exist`, { details: { node: id } });
        if (d.masters[masterName])
          throw new VmkitError('CONFLICT', `master ${masterName} already exists`, {
            details: { master: masterName },
          });
        d.masters[masterName] = {
          name: masterName,
          imageId: request.spec.id,
          ready: false,
          steps: [`from-node:${id}`],
          createdAt: new Date().toISOString(),
        };
        d.disks[`master:${masterName}`] = {};
      });
      const drop = () =>
        state.mutate((d) => {
          delete d.masters[masterName];
          delete d.disks[`master:${masterName}`];
        });
      try {
        const delay = faults().buildDelayMs ?? 0;
        for (let t = 0; t < delay; t += 10) {
          await sleep(Math.min(10, delay - t), options.signal);
          emitProgress(options.onProgress, {
            phase: 'image',
            imageId: request.spec.id,
            fraction: t / delay,
            message: `copying node ${id}`,
          });
        }
        if (faults().failStep === 'image-from-node')
          throw new VmkitError('PROVIDER', 'injected fault in image-from-node', {
            details: { step: 'image-from-node' },
          });
        throwIfAborted(options.signal, `image from node ${id}`);
      } catch (error) {
        drop();
        throw error;
      }
      state.mutate((d) => {
        const master = d.masters[masterName];
        if (!master) throw new VmkitError('PROVIDER', `master ${masterName} vanished while it was made`);
        if (seal) master.steps.push('seal');
        master.ready = true;
      });
      return { id: masterName, data: { disk: `master:${masterName}` } };
    },
  };
}
