import { randomUUID } from 'node:crypto';
import type { NodeCredentials } from '../credentials/node-credentials.js';
import { makeSshHostKeys } from '../credentials/ssh-host-keys.js';
import { unbindableHostPort } from '../errors/host-port-error.js';
import { type NodeFailure, RunNodesError } from '../errors/run-nodes-error.js';
import { invalidArgument, toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { firmwareOf } from '../masters/image-view.js';
import type { MasterRecord } from '../masters/master-record.js';
import type { Hardware } from '../model/hardware.js';
import { DEFAULT_NETWORK, type NetworkSpec } from '../model/network-spec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { Template } from '../model/template.js';
import { staticNetworkConfig } from '../network/network-documents.js';
import { bindStaticAddresses, checkGroupAddresses, hasStaticAddresses } from '../network/static-addresses.js';
import type { LeaseClaim, PortAllocator } from '../ports/port-allocator.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { HypervisorProvider, ProviderCapabilities, ProviderNode } from '../spi/hypervisor-provider.js';
import { sleep, throwIfAborted } from '../util/abort.js';
import { mapSettled } from '../util/concurrency.js';
import type { Logger } from '../util/logger.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import { isRetryable, retryRetryable } from '../util/retry.js';
import { configDriveFor } from './config-drive-request.js';
import { isFixedHostPort, leaseHostOf, MAX_PORT_ATTEMPTS } from './host-port-retry.js';
import { bindNetwork, withInboundPorts } from './network-binding.js';
import { assertFirmwareSupported, nodeFirmware } from './node-firmware.js';
import { nodeNames } from './node-names.js';
import { leaseOwner, nodeMetadataOf } from './node-view.js';
import { bindSharedFolders, checkSharedFolderSupport } from './shared-folders.js';
import { WARM_TEMPLATE_GROUP, type WarmLaunch } from './warm-clones.js';
import { resetWarmIdentity } from './warm-identity.js';

/** Options of {@link NodeLauncher.launch}. */
export interface LaunchOptions extends OperationOptions {
  /** Resume each node from this saved state instead of booting it. */
  readonly warm?: WarmLaunch;
  /** The node is a warm master's template (see `CloneSpec.warmTemplate`). */
  readonly warmTemplate?: boolean;
}

/** Creates nodes from a verified master: names, networks, config drives, clones, start, rollback. */
export class NodeLauncher {
  readonly #provider: HypervisorProvider;
  readonly #ports: PortAllocator;
  readonly #logger: Logger;
  readonly #clones: number;
  readonly #reserved = new Set<string>();
  readonly #credentials: NodeCredentials | undefined;

  /** `credentials`: where group key pairs are made and host keys forgotten (absent: neither). */
  constructor(
    provider: HypervisorProvider,
    ports: PortAllocator,
    logger: Logger,
    clones: number,
    credentials?: NodeCredentials,
  ) {
    this.#provider = provider;
    this.#ports = ports;
    this.#logger = logger;
    this.#clones = clones;
    this.#credentials = credentials;
  }

  /** Checks that the provider can do what the template asks, before any work. */
  check(template: Template, caps: ProviderCapabilities): void {
    const options = template.options;
    const network = options.network ?? DEFAULT_NETWORK;
    for (const [i, nic] of network.nics.entries()) {
      if (!caps.attachments.includes(nic.attachment)) {
        throw new VmkitError(
          'UNSUPPORTED',
          `network.nics[${i}].attachment: ${this.#provider.name} does not support ${nic.attachment}`,
        );
      }
      if ((nic.portForwards?.length ?? 0) > 0 && !caps.portForwarding) {
        throw new VmkitError(
          'UNSUPPORTED',
          `network.nics[${i}].portForwards: ${this.#provider.name} cannot forward ports`,
        );
      }
    }
    if (options.inboundPorts?.length && !caps.portForwarding) {
      throw new VmkitError('UNSUPPORTED', `inboundPorts: ${this.#provider.name} cannot forward ports`);
    }
    const drive = configDriveFor('probe', options);
    if (hasStaticAddresses(network)) {
      if (!drive)
        throw invalidArgument(
          'configDrive',
          'is false, but static addresses (network.nics[].ipv4) reach the guest in its config drive',
        );
      if (drive.networkConfig !== undefined) {
        throw invalidArgument(
          'configDrive.networkConfig',
          'cannot be given with static addresses (network.nics[].ipv4): vmkit writes the network config from them',
        );
      }
    }
    if (drive && !caps.configDriveFormats.includes(drive.format)) {
      throw new VmkitError(
        'UNSUPPORTED',
        `configDrive.format: ${this.#provider.name} does not attach ${drive.format} drives`,
      );
    }
    if ((options.dataVolumes?.length ?? 0) > 0 && !caps.dataVolumes) {
      throw new VmkitError(
        'UNSUPPORTED',
        `dataVolumes: ${this.#provider.name} cannot attach data volumes to nodes (leave dataVolumes out)`,
        { details: { field: 'dataVolumes' } },
      );
    }
    checkSharedFolderSupport(options, caps, this.#provider.name);
    const firmware = nodeFirmware(template, template.image.defaultHardware.firmware ?? 'bios');
    assertFirmwareSupported(firmware, caps, this.#provider.name, 'hardware.firmware');
    if (options.linkedClone !== false && !caps.linkedClones) {
      throw new VmkitError(
        'UNSUPPORTED',
        `linkedClone: ${this.#provider.name} cannot make linked clones; set linkedClone: false`,
      );
    }
  }

  /**
   * Checks, before anything is made, that each of `count` nodes can get its own static address on
   * every NIC with `ipv4` (pools large enough and not exhausted by other nodes' leases).
   */
  async checkAddresses(template: Template, count: number): Promise<void> {
    const network = template.options.network ?? DEFAULT_NETWORK;
    if (hasStaticAddresses(network))
      await checkGroupAddresses(network, count, this.#ports, leaseHostOf(this.#provider));
  }

  /** Creates and starts `count` nodes; throws {@link RunNodesError} when some fail (those are rolled back). */
  async launch(
    group: string,
    count: number,
    requested: Template,
    master: MasterRecord,
    options: LaunchOptions = {},
  ): Promise<NodeMetadata[]> {
    const template = await this.#withGroupKey(group, requested);
    const taken = new Set([...(await this.#provider.listNodes()).map((n) => n.name), ...this.#reserved]);
    const names = nodeNames(group, count, template.options.nodeNames ?? [], taken);
    // Names stay reserved while this call runs, so concurrent calls in this process never pick the
    // same one (across processes, the provider refuses a duplicate name with CONFLICT).
    for (const name of names) this.#reserved.add(name);
    try {
      return await this.#launchNamed(group, names, template, master, options);
    } finally {
      for (const name of names) this.#reserved.delete(name);
    }
  }

  /**
   * jclouds' "store credentials": when the nodes get a config drive and neither the template nor
   * the image names a key, the group's key pair (made once and kept in the credential store) is
   * authorised in the drive, as `authorizePublicKey` would be.
   */
  async #withGroupKey(group: string, template: Template): Promise<Template> {
    const options = template.options;
    if (!this.#credentials || options.authorizePublicKey !== undefined) return template;
    if (template.image.login?.privateKey !== undefined) return template;
    if (configDriveFor('probe', options) === undefined) return template;
    const authorizePublicKey = await this.#credentials.groupPublicKey(group);
    const user = options.loginUser ?? template.image.login?.user;
    if (user !== undefined) await this.#credentials.rememberLoginUser(group, user);
    return { ...template, options: { ...options, authorizePublicKey } };
  }

  async #launchNamed(
    group: string,
    names: readonly string[],
    template: Template,
    master: MasterRecord,
    options: LaunchOptions,
  ): Promise<NodeMetadata[]> {
    const { signal, onProgress } = options;
    const count = names.length;
    const network = withInboundPorts(
      template.options.network ?? DEFAULT_NETWORK,
      template.options.inboundPorts,
    );
    // The master's record says what its disk was installed for; the node gets exactly that.
    const hardware: Hardware = {
      ...template.hardware,
      ...template.options.hardware,
      firmware: nodeFirmware(template, firmwareOf(master.spec)),
    };
    let done = 0;
    const settled = await mapSettled(names, this.#clones, async (name) => {
      const node = await this.#createOne(name, group, template, master, network, hardware, options);
      done++;
      emitProgress(onProgress, {
        phase: 'start',
        node: name,
        fraction: done / count,
        message: `node ${name} running (${done}/${count})`,
      });
      return node;
    });
    const nodes: NodeMetadata[] = [];
    const errors: NodeFailure[] = [];
    for (const [i, outcome] of settled.entries()) {
      if (outcome.status === 'fulfilled') {
        nodes.push(outcome.value);
        continue;
      }
      const error = toVmkitError(outcome.reason, 'PROVIDER', `node ${names[i]}`);
      // A node whose rollback was given up is looked at once more: it is reported as it is.
      const stranded = strandedOf(error);
      const found = stranded ? await this.#lookAgain(stranded.nodeId) : undefined;
      if (found?.status === 'running') {
        this.#logger.warn('a node whose rollback failed is running: it is returned as created', {
          node: found.name,
        });
        nodes.push(nodeMetadataOf(found, template.image, template.options.loginUser));
      } else if (found === null) {
        // Gone after all: nothing of it is left, and its port leases can go.
        await this.#releaseLeases(names[i] as string).catch(() => {});
        errors.push({ name: names[i] as string, error: stranded?.original ?? error });
      } else {
        errors.push({
          name: names[i] as string,
          error,
          ...(found ? { node: nodeMetadataOf(found, template.image, template.options.loginUser) } : {}),
        });
      }
    }
    if (signal?.aborted && nodes.length > 0) {
      // Aborted: the caller wants none of it, so the nodes that made it are removed too. A node
      // that cannot be removed is still reported as created, so it is not lost.
      const removed = await mapSettled(nodes, this.#clones, (n) => this.destroy(n.id, n.name));
      const survivors = nodes.filter((_, i) => removed[i]?.status === 'rejected');
      const gone = nodes.filter((_, i) => removed[i]?.status === 'fulfilled');
      throw new RunNodesError(group, survivors, [
        ...errors,
        ...gone.map((n) => ({ name: n.name, error: abortedFor(n.name) })),
      ]);
    }
    if (errors.length > 0) throw new RunNodesError(group, nodes, errors);
    return nodes;
  }

  /**
   * Destroys a node (the provider gets `options`) and releases its port leases (also those taken
   * under an earlier provider id). A `retryable` failure (the hypervisor restarting) is tried
   * again, a few times with growing pauses: a removal is safe to repeat.
   */
  async destroy(id: string, name: string, options: OperationOptions = {}): Promise<void> {
    await retryRetryable(() => this.#provider.destroyNode(id, options), {
      attempts: ROLLBACK_ATTEMPTS,
      onRetry: (error, attempt) =>
        this.#logger.warn('destroying a node failed; trying again', {
          node: name,
          attempt,
          error: (error as Error).message,
        }),
    });
    await this.#releaseLeases(name);
    await this.#credentials?.forgetNode(id).catch((error: unknown) => {
      this.#logger.warn('could not forget the pinned host key of a destroyed node', {
        node: name,
        error: String(error),
      });
    });
  }

  async #releaseLeases(name: string): Promise<void> {
    for (const providerId of [this.#provider.id, ...(this.#provider.previousIds ?? [])])
      await this.#ports.releaseOwner(leaseOwner(providerId, name));
  }

  /** The node as the provider has it now (`null`: gone; `undefined`: the provider cannot say). */
  async #lookAgain(id: string): Promise<ProviderNode | null | undefined> {
    try {
      return (
        (await retryRetryable(() => this.#provider.getNode(id), { attempts: ROLLBACK_ATTEMPTS })) ?? null
      );
    } catch {
      return undefined;
    }
  }

  /**
   * Creates one node; when the hypervisor cannot bind an `'auto'` host port it was given (held on
   * its host by something the leases do not know), the node is rolled back, the port is avoided
   * and the node is made again on other ports, up to {@link MAX_PORT_ATTEMPTS} times.
   */
  async #createOne(
    name: string,
    group: string,
    template: Template,
    master: MasterRecord,
    network: NetworkSpec,
    hardware: Hardware,
    options: LaunchOptions,
  ): Promise<NodeMetadata> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attemptOne(name, group, template, master, network, hardware, options);
      } catch (error) {
        const bad = unbindableHostPort(error);
        if (!bad) {
          // The hypervisor went away under this node (and its rollback went through): make it again.
          if (!retryableStep(error) || attempt >= NODE_ATTEMPTS || options.signal?.aborted) throw error;
          const message = `${name} failed (${(error as Error).message}); making it again`;
          this.#logger.warn(message, { node: name, attempt });
          emitProgress(options.onProgress, { phase: 'clone', node: name, message });
          await sleep(RETRY_PAUSE_MS * attempt, options.signal);
          continue;
        }
        if (isFixedHostPort(network, bad)) throw error;
        this.#ports.avoid(leaseHostOf(this.#provider), bad.protocol, bad.port);
        if (attempt >= MAX_PORT_ATTEMPTS) throw error;
        const message = `host port ${bad.protocol}/${bad.port} could not be bound on ${name}'s host; trying another`;
        this.#logger.warn(message, { node: name, attempt });
        emitProgress(options.onProgress, { phase: 'clone', node: name, message });
      }
    }
  }

  /**
   * One warm node: made from the saved state (or booted cold by the provider when the state is
   * unusable, which marks the state stale), its port leases committed, its identity reset through
   * the guest agent (with its drive's SSH keys in place of the template's). `made` learns the node's id as soon as it exists (for the rollback) and
   * commits its port leases.
   */
  async #warmOne(
    spec: CloneSpec,
    template: Template,
    warm: WarmLaunch,
    options: OperationOptions,
    made: (id: string) => Promise<void>,
  ): Promise<{ node: ProviderNode; resumed: boolean; reason?: string }> {
    const { signal, onProgress } = options;
    const clone = this.#provider.cloneNodeFromState as NonNullable<HypervisorProvider['cloneNodeFromState']>;
    // The clone's host keys are made on the host while the state is restored (an RSA key costs
    // seconds in an emulated guest), and the template's keys read meanwhile.
    const hostKeys = makeSshHostKeys(`root@${spec.name}`, warm.record.sshHostKeyTypes);
    const templateKeys = this.#templateKeys(template);
    hostKeys.catch(() => {});
    templateKeys.catch(() => {});
    const result = await clone.call(this.#provider, spec, warm.record.state, { signal, onProgress });
    await made(result.node.id);
    if (!result.resumed) {
      const reason = result.reason ?? 'the saved state could not be used';
      emitProgress(onProgress, {
        phase: 'start',
        node: spec.name,
        message: `${spec.name} booted cold: ${reason}`,
      });
      await warm.onStale(reason).catch((error: unknown) => {
        this.#logger.warn('could not mark a warm state stale', { node: spec.name, error: String(error) });
      });
      return { node: result.node, resumed: false, reason };
    }
    const sshUser = template.options.loginUser ?? template.image.login?.user;
    const open = this.#provider.guestAgent as NonNullable<HypervisorProvider['guestAgent']>;
    const agent = await open.call(this.#provider, result.node.id, signal ? { signal } : {});
    try {
      const reset = await resetWarmIdentity(
        agent,
        spec.name,
        {
          ...(warm.resumeScript !== undefined ? { resumeScript: warm.resumeScript } : {}),
          ...(sshUser !== undefined ? { sshUser } : {}),
          ...(spec.configDrive
            ? {
                identity: {
                  instanceId: spec.configDrive.instanceId,
                  ...(spec.configDrive.hostname !== undefined ? { hostname: spec.configDrive.hostname } : {}),
                },
              }
            : {}),
          sshKeys: spec.configDrive?.publicKeys ?? [],
          dropSshKeys: await templateKeys,
          hostKeys: await hostKeys,
          ...(warm.record.sshdRereadsHostKeys ? { sshdRereadsHostKeys: true } : {}),
        },
        signal,
      );
      if (reset.rng === 'none')
        this.#logger.warn(
          "a warm clone shares its template's random number generator until its kernel reseeds it (up to a minute): the guest has no VM generation id driver, perl or python3 to reseed it now",
          { node: spec.name },
        );
    } finally {
      await agent.close?.();
    }
    emitProgress(onProgress, { phase: 'start', node: spec.name, message: `${spec.name} resumed warm` });
    return { node: result.node, resumed: true };
  }

  /**
   * The keys a warm master's template was given in its drive (its group's key, as
   * {@link NodeLauncher.#withGroupKey} gives it), which its clones no longer authorise.
   */
  async #templateKeys(template: Template): Promise<string[]> {
    if (!this.#credentials || template.image.login?.privateKey !== undefined) return [];
    return [await this.#credentials.groupPublicKey(WARM_TEMPLATE_GROUP)];
  }

  /** The id of a node named `name` the provider has now, if any (and if it can say). */
  async #leftBehind(name: string): Promise<string | undefined> {
    try {
      const nodes = await retryRetryable(() => this.#provider.listNodes(), { attempts: ROLLBACK_ATTEMPTS });
      return nodes.find((n) => n.name === name)?.id;
    } catch {
      return undefined;
    }
  }

  async #attemptOne(
    name: string,
    group: string,
    template: Template,
    master: MasterRecord,
    network: NetworkSpec,
    hardware: Hardware,
    options: LaunchOptions,
  ): Promise<NodeMetadata> {
    const { signal, onProgress } = options;
    const host = leaseHostOf(this.#provider);
    const claim: LeaseClaim = {
      owner: leaseOwner(this.#provider.id, name),
      attempt: randomUUID(),
      ...(host === undefined ? {} : { host }),
    };
    let createdId: string | undefined;
    try {
      throwIfAborted(signal, `node ${name}`);
      emitProgress(onProgress, {
        phase: 'clone',
        node: name,
        imageId: master.imageId,
        message: `cloning ${name}`,
      });
      const shares = bindSharedFolders(template.options.sharedFolders);
      const shareType = shares.length > 0 ? (await this.#provider.capabilities()).sharedFolders : undefined;
      const bound = await bindNetwork(network, claim, this.#ports);
      const statics = await bindStaticAddresses(network, bound, claim, this.#ports);
      const asked = configDriveFor(
        name,
        template.options,
        shareType ? { folders: shares, type: shareType } : undefined,
      );
      // Static addresses reach the guest in its drive, matched to its NICs by the MACs just settled.
      const drive =
        asked && statics.length > 0
          ? { ...asked, networkConfig: staticNetworkConfig(asked.format, bound, statics) }
          : asked;
      const spec: CloneSpec = {
        name,
        group,
        imageId: master.imageId,
        master: master.master,
        hardware,
        network: bound,
        linked: template.options.linkedClone ?? true,
        ...(drive ? { configDrive: drive } : {}),
        ...(template.options.dataVolumes?.length ? { dataVolumes: template.options.dataVolumes } : {}),
        ...(shares.length > 0 ? { sharedFolders: shares } : {}),
        ...(options.warmTemplate ? { warmTemplate: true } : {}),
        tags: template.options.tags ?? [],
        userMetadata: template.options.userMetadata ?? {},
      };
      if (options.warm) {
        const made = await this.#warmOne(spec, template, options.warm, options, async (id) => {
          createdId = id;
          await this.#ports.commit(claim);
        });
        return {
          ...nodeMetadataOf({ ...made.node, status: 'running' }, template.image, template.options.loginUser),
          warm: made.resumed ? { resumed: true } : { resumed: false, reason: made.reason ?? 'unknown' },
        };
      }
      const node = await this.#provider
        .cloneNode(spec, { signal, onProgress })
        .catch(async (error: unknown) => {
          // A clone cut off by a lost connection may have left its domain (its rollback could not
          // reach the hypervisor): look by name, so the rollback below removes it or reports it.
          if (retryableStep(error)) createdId = await this.#leftBehind(name);
          throw error;
        });
      createdId = node.id;
      await this.#ports.commit(claim);
      throwIfAborted(signal, `node ${name}`);
      // Starting checks the state first, so a start whose answer was lost is safe to repeat.
      await retryRetryable(() => this.#provider.startNode(node.id, { signal, onProgress }), {
        signal,
        attempts: ROLLBACK_ATTEMPTS,
        // A port the host cannot bind is retried on other ports by the caller, not here.
        retryIf: (e) => isRetryable(e) && unbindableHostPort(e) === undefined,
      });
      return nodeMetadataOf({ ...node, status: 'running' }, template.image, template.options.loginUser);
    } catch (error) {
      this.#logger.warn('node failed; rolling it back', { node: name, error: String(error) });
      if (createdId !== undefined) {
        try {
          // Not within the caller's signal: an aborted call still wants its half-made node gone.
          await retryRetryable(() => this.#provider.destroyNode(createdId as string), {
            attempts: ROLLBACK_ATTEMPTS,
          });
        } catch (destroyError) {
          // The node survives: keep its port leases so no other node is given its ports.
          this.#logger.error('rollback could not destroy a failed node; its leases are kept', {
            node: name,
            error: String(destroyError),
          });
          throw new VmkitError(
            'PROVIDER',
            `node ${name} failed and could not be rolled back, so it may still exist as ${createdId} ` +
              `(destroyNode removes it): ${String(destroyError)}`,
            {
              cause: error,
              details: { node: name, nodeId: createdId, stranded: true },
            },
          );
        }
      }
      await this.#ports.releaseAttempt(claim).catch(() => {});
      throw error;
    }
  }
}

/** Tries of one node before it is given up, when the hypervisor keeps going away under it. */
const NODE_ATTEMPTS = 3;
/** Tries of a step safe to repeat (start, destroy, look-up) before it is given up. */
const ROLLBACK_ATTEMPTS = 5;
/** The pause before a node is made again, times the attempt number. */
const RETRY_PAUSE_MS = 500;

/** Whether a failed step may succeed when made again: `retryable`, and not a rollback given up. */
function retryableStep(error: unknown): boolean {
  return VmkitError.is(error) && error.retryable && error.details.stranded !== true;
}

/** The node id and first failure of a node whose rollback was given up. */
function strandedOf(error: VmkitError): { nodeId: string; original: VmkitError } | undefined {
  if (error.details.stranded !== true || typeof error.details.nodeId !== 'string') return undefined;
  const original = VmkitError.is(error.cause) ? error.cause : error;
  return { nodeId: error.details.nodeId, original };
}

function abortedFor(name: string): VmkitError {
  return new VmkitError('ABORTED', `node ${name} removed: the call was aborted`);
}
