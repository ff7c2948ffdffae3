import type { MasterSpec } from '../model/master-spec.js';
import type { Logger } from '../util/logger.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import type { BuildContext, MasterRef } from './master-build.js';

/**
 * What a provider can make images from, in `ProviderCapabilities.imageFromNode` (absent: no
 * images from nodes at all). Core refuses what a provider cannot do before asking it, with the
 * reason.
 */
export interface NodeImageCapabilities {
  /** Images from stopped nodes. */
  readonly stopped: boolean;
  /**
   * Images from running nodes, copied consistently while they keep running (their file systems
   * frozen through the guest agent for the moment the copy needs); false: a running node is
   * refused with the reason, to be stopped first.
   */
  readonly running: boolean;
  /** Sealing the copy (`seal: true`, the default): the guest clean-up run on the copy, never on the node. */
  readonly seal: boolean;
}

/** What core asks a provider to make, after checking it. */
export interface NodeImageRequest {
  /** The new master's name (core's `vmkit-<image>-<8 hex>-<4 hex>`); the provider names its parts from it. */
  readonly masterName: string;
  /**
   * The new image's spec: the node's image's spec with the new id and name and no post-install
   * steps (they ran already). Its source, hardware and firmware are the node's master's.
   */
  readonly spec: MasterSpec;
  /** Whether to run the guest clean-up on the copy. */
  readonly seal: boolean;
}

/**
 * The optional part of the provider SPI behind `createImageFromNode`. A provider that has it says
 * so in `capabilities().imageFromNode`.
 *
 * Rules: the node's disk is copied into a new master, flattened (no backing file: independent of
 * the master the node was cloned from), named from `masterName` as a build would name it, so
 * `checkMasterRef`, `mastersExist`, `cloneNode`, `exportMasterDisk` and `deleteMaster` take it
 * like any master. The node keeps its state (a running node keeps running) and its disk is never
 * written. `NOT_FOUND` for an unknown node, `UNSUPPORTED` (naming the reason) for a node it cannot
 * copy; on failure or abort nothing of the new master remains.
 */
export interface ProviderNodeImages {
  /** Makes a new master from the node's disk; returns its reference. */
  createMasterFromNode?(
    id: string,
    request: NodeImageRequest,
    options?: OperationOptions,
  ): Promise<MasterRef>;
}

/**
 * The build context a provider's sealing boot of a copy runs in (its post-install boot, with the
 * guest clean-up alone): the new image's spec and master name, the call's signal, and progress
 * reported as `image` events of step `seal`, its fraction mapped into `[from, to]`.
 */
export function sealContext<S>(
  request: NodeImageRequest,
  options: OperationOptions,
  logger: Logger,
  state: S,
  [from, to]: readonly [number, number],
): BuildContext<S> {
  return {
    spec: request.spec,
    masterName: request.masterName,
    signal: options.signal ?? new AbortController().signal,
    logger,
    state,
    progress: (fraction, message) =>
      emitProgress(options.onProgress, {
        phase: 'image',
        imageId: request.spec.id,
        step: 'seal',
        fraction: from + (to - from) * fraction,
        message: message ?? 'sealing the copy',
      }),
    markSkipped: () => {},
  };
}
