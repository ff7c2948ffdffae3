import { randomBytes } from 'node:crypto';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { MasterCache } from '../masters/master-cache.js';
import type { MasterRecord, WarmStateRecord } from '../masters/master-record.js';
import type { NodeReadiness } from '../model/guest-exec.js';
import { DEFAULT_NETWORK } from '../model/network-spec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { Template } from '../model/template.js';
import type { WarmSpec } from '../model/warm-spec.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import type { HypervisorProvider, ProviderCapabilities } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import { SingleFlight } from '../util/single-flight.js';
import { configDriveFor } from './config-drive-request.js';
import { probeSsh, type SshProbe } from './warm-identity.js';
import { zeroFreeGuestMemory } from './warm-memory.js';

/** Group of the template nodes warm masters are saved from. */
export const WARM_TEMPLATE_GROUP = 'vmkit-warm';

/** What a warm launch hands the node launcher. */
export interface WarmLaunch {
  /** The saved state to resume from. */
  readonly record: WarmStateRecord;
  /** The spec's `warm.resumeScript`. */
  readonly resumeScript?: string;
  /** Called once when a node could not use the state (it booted cold). */
  readonly onStale: (reason: string) => Promise<void>;
}

/**
 * Refuses a warm request early, before anything is made, naming the field: the provider cannot
 * (`UNSUPPORTED`), the image is not warm, or the template asks for something a resumed clone
 * cannot have — a NIC other than NAT (its MAC would be the template's on a shared network), data
 * volumes or shared folders (devices the template did not have), no config drive or a vfat one
 * (the identity comes from an ISO drive in the template's CD-ROM), a full copy, other hardware.
 */
export function checkWarmRequest(
  template: Template,
  caps: ProviderCapabilities,
  provider: HypervisorProvider,
  warm: WarmSpec | undefined,
): void {
  if (!caps.warmClones || !provider.saveWarmState || !provider.cloneNodeFromState)
    throw new VmkitError('UNSUPPORTED', `warm: ${provider.name} cannot resume nodes from a saved state`, {
      details: { field: 'warm' },
    });
  if (!warm)
    throw invalidArgument('warm', `needs an image whose spec has warm (image ${template.image.id} has none)`);
  const options = template.options;
  const nics = (options.network ?? DEFAULT_NETWORK).nics;
  for (const [i, nic] of nics.entries()) {
    if (nic.attachment !== 'nat')
      throw invalidArgument(
        `network.nics[${i}].attachment`,
        `must be nat for warm clones (got ${nic.attachment}): a resumed clone keeps the template's MAC, ` +
          'which would be shared on a bridge or libvirt network',
      );
  }
  if (nics.length !== 1) throw invalidArgument('network.nics', 'must be exactly one NAT NIC for warm clones');
  if (options.dataVolumes?.length) throw invalidArgument('dataVolumes', 'cannot be given for warm clones');
  if (options.sharedFolders?.length)
    throw invalidArgument('sharedFolders', 'cannot be given for warm clones');
  if (options.linkedClone === false)
    throw invalidArgument('linkedClone', 'must not be false for warm clones');
  const drive = configDriveFor('probe', options);
  if (drive?.filesystem === 'vfat')
    throw invalidArgument('configDrive.filesystem', 'must be iso9660 for warm clones');
  if (options.configDrive === false)
    throw invalidArgument(
      'configDrive',
      'must not be false for warm clones: the identity comes from the drive',
    );
}

/** The hardware a warm node of `template` runs with. */
export function warmHardware(template: Template): { cores: number; ramMiB: number } {
  return {
    cores: template.options.hardware?.cores ?? template.hardware.cores,
    ramMiB: template.options.hardware?.ramMiB ?? template.hardware.ramMiB,
  };
}

/** What {@link WarmStates} needs of the compute service. */
export interface WarmStateParts {
  readonly provider: HypervisorProvider;
  readonly cache: MasterCache;
  readonly logger: Logger;
  /** Creates the template node (an ordinary cold node of the master). */
  readonly launch: (
    group: string,
    template: Template,
    master: MasterRecord,
    o: OperationOptions,
  ) => Promise<NodeMetadata>;
  /** Waits for a node's readiness. */
  readonly wait: (
    id: string,
    until: NodeReadiness,
    timeoutMs: number | undefined,
    o: OperationOptions,
  ) => Promise<void>;
  /** Destroys a node and releases its leases (a template that failed, or one that was saved). */
  readonly destroy: (id: string, name: string) => Promise<void>;
}

/**
 * The saved template states of warm masters: made on the first warm request of an image (one at a
 * time per image, however many callers), kept in the master's record, made again when marked stale.
 */
export class WarmStates {
  readonly #p: WarmStateParts;
  readonly #flights = new SingleFlight<string, WarmStateRecord>();

  constructor(parts: WarmStateParts) {
    this.#p = parts;
  }

  /** The image's usable warm state, saved now if it has none (or a stale one). */
  async ensure(
    template: Template,
    master: MasterRecord,
    warm: WarmSpec,
    options: OperationOptions,
  ): Promise<WarmStateRecord> {
    const id = master.imageId;
    const current = this.#p.cache.record(id)?.warm ?? master.warm;
    const hardware = warmHardware(template);
    if (current && !current.stale) {
      if (current.hardware.cores !== hardware.cores || current.hardware.ramMiB !== hardware.ramMiB)
        throw invalidArgument(
          'hardware',
          `must be the warm template's (${current.hardware.cores} cores, ${current.hardware.ramMiB} MiB) for warm clones`,
        );
      return current;
    }
    return this.#flights.run(
      id,
      (signal, onProgress) => this.#save(template, master, warm, current, { signal, onProgress }),
      options,
    );
  }

  /** Marks an image's warm state stale (a clone could not use it); the next warm request saves a new one. */
  async markStale(imageId: string, state: WarmStateRecord, reason: string): Promise<void> {
    const record = this.#p.cache.record(imageId);
    if (!record?.warm || record.warm.state.id !== state.state.id || record.warm.stale) return;
    this.#p.logger.warn('warm state unusable; marked stale, it is saved again on the next warm request', {
      imageId,
      state: state.state.id,
      reason,
    });
    await this.#p.cache.setWarm(imageId, record, { ...record.warm, stale: true });
  }

  /** The template's SSH server ({@link probeSsh}), read through its agent (`undefined` when it cannot say). */
  async #probeSsh(id: string, signal: AbortSignal): Promise<SshProbe | undefined> {
    const { provider } = this.#p;
    if (!provider.guestAgent) return undefined;
    let agent: GuestAgent;
    try {
      agent = await provider.guestAgent(id, { signal });
    } catch {
      return undefined;
    }
    try {
      return await probeSsh(agent, signal);
    } finally {
      await agent.close?.();
    }
  }

  /**
   * Zeroes the template's free memory through its agent ({@link zeroFreeGuestMemory}) so that its
   * saved stream carries only the memory in use; skipped when the provider has no agent.
   */
  async #zeroFreeMemory(id: string, name: string, signal: AbortSignal): Promise<void> {
    const { provider } = this.#p;
    if (!provider.guestAgent) return;
    const agent = await provider.guestAgent(id, { signal });
    try {
      await zeroFreeGuestMemory(agent, name, signal);
    } finally {
      await agent.close?.();
    }
  }

  async #save(
    template: Template,
    master: MasterRecord,
    warm: WarmSpec,
    previous: WarmStateRecord | undefined,
    options: Required<Pick<OperationOptions, 'signal' | 'onProgress'>>,
  ): Promise<WarmStateRecord> {
    const { provider } = this.#p;
    const name = `warm-${randomBytes(6).toString('hex')}`;
    emitProgress(options.onProgress, {
      phase: 'build',
      imageId: master.imageId,
      message: `booting warm template ${name} of ${master.imageId}`,
    });
    const port = warm.until === 'agent' ? undefined : warm.until === 'ssh' ? 22 : (warm.until.port ?? 80);
    const hardware = warmHardware(template);
    const node = await this.#p.launch(
      WARM_TEMPLATE_GROUP,
      {
        ...template,
        options: {
          ...(template.options.loginUser !== undefined ? { loginUser: template.options.loginUser } : {}),
          configDrive: true,
          nodeNames: [name],
          hardware,
          ...(port !== undefined ? { inboundPorts: [port] } : {}),
          tags: ['vmkit-warm-template'],
        },
      },
      master,
      options,
    );
    let saved = false;
    try {
      await this.#p.wait(node.id, warm.until, warm.timeoutMs, options);
      const ssh = await this.#probeSsh(node.id, options.signal);
      await this.#zeroFreeMemory(node.id, name, options.signal);
      emitProgress(options.onProgress, {
        phase: 'build',
        imageId: master.imageId,
        message: `saving the running state of warm template ${name}`,
      });
      const state = await (provider.saveWarmState as NonNullable<HypervisorProvider['saveWarmState']>)(
        node.id,
        master.master,
        options,
      );
      saved = true;
      const record: WarmStateRecord = {
        state: state.ref,
        savedAt: new Date().toISOString(),
        stateBytes: state.stateBytes,
        hardware,
        ...(ssh ? { sshHostKeyTypes: ssh.hostKeyTypes } : {}),
        ...(ssh?.sshdRereadsHostKeys ? { sshdRereadsHostKeys: true as const } : {}),
      };
      const current = this.#p.cache.record(master.imageId) ?? master;
      await this.#p.cache.setWarm(master.imageId, current, record).catch(async (error: unknown) => {
        await provider.deleteWarmState?.(state.ref).catch(() => {});
        throw error;
      });
      // The stale state's image goes; its disk stays under the clones based on it (the provider
      // deletes it with the master).
      if (previous) await provider.deleteWarmState?.(previous.state).catch(() => {});
      return record;
    } finally {
      // A saved template is gone on the provider already: this releases its port leases.
      await this.#p.destroy(node.id, node.name).catch((error: unknown) => {
        if (!saved)
          this.#p.logger.error('could not remove a failed warm template', {
            node: name,
            error: String(error),
          });
      });
    }
  }
}
