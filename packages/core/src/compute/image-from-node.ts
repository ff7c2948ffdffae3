import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import { masterRecordOf, newMasterName } from '../masters/build-and-record.js';
import { firmwareOf } from '../masters/image-view.js';
import { masterSpecHash, publicLogin, storedSpecOf } from '../masters/login-secrets.js';
import type { MasterCache } from '../masters/master-cache.js';
import type { MasterRepository } from '../masters/master-repository.js';
import type { Image } from '../model/image.js';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { CreateImageFromNodeOptions } from '../model/node-image.js';
import type { HypervisorProvider, ProviderNode } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import type { NodeImageCapabilities, ProviderNodeImages } from '../spi/node-images.js';
import { throwIfAborted } from '../util/abort.js';
import type { Logger } from '../util/logger.js';
import { emitProgress, type ProgressListener } from '../util/progress.js';
import { IMAGE_ID_PATTERN } from '../validation/patterns.js';

/** What {@link createImageFromNode} works with. */
export interface ImageFromNodeParts {
  readonly provider: HypervisorProvider;
  readonly cache: MasterCache;
  readonly repository: MasterRepository;
  readonly logger: Logger;
  /** Image ids being made now: a second call for one of them is `CONFLICT`. */
  readonly making: Set<string>;
}

/** The image id rule in words, for errors. */
const IMAGE_ID_RULE = "must be 1-63 of a-z, 0-9, '.', '_' and '-', start with a letter or a digit, no '..'";

/** Checks the options: `INVALID_ARGUMENT` naming the field and the rule. */
function checkOptions(options: CreateImageFromNodeOptions): {
  imageId: string;
  name?: string;
  seal: boolean;
} {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('options', 'must be an object with imageId');
  const { imageId, name, seal = true } = options;
  if (typeof imageId !== 'string' || !IMAGE_ID_PATTERN.test(imageId) || imageId.includes('..'))
    throw invalidArgument('imageId', IMAGE_ID_RULE, {
      value: typeof imageId === 'string' ? imageId : typeof imageId,
    });
  if (name !== undefined && (typeof name !== 'string' || name.length < 1 || name.length > 200))
    throw invalidArgument('name', 'must be a string of 1-200 characters');
  if (typeof seal !== 'boolean') throw invalidArgument('seal', 'must be a boolean');
  return { imageId, ...(name === undefined ? {} : { name }), seal };
}

/**
 * The provider's `createMasterFromNode` and `capabilities().imageFromNode`: `UNSUPPORTED` when it
 * lacks either (what core says before anything else is asked).
 */
export async function nodeImageSupport(
  provider: HypervisorProvider,
): Promise<{ caps: NodeImageCapabilities; make: Required<ProviderNodeImages>['createMasterFromNode'] }> {
  const caps = (await provider.capabilities()).imageFromNode;
  const make = provider.createMasterFromNode;
  if (!caps || !make)
    throw new VmkitError('UNSUPPORTED', `the ${provider.name} provider cannot make images from nodes`);
  return { caps, make: make.bind(provider) };
}

/** Refuses what the provider cannot copy in the node's state, or without sealing, with the reason. */
function checkNodeState(
  provider: HypervisorProvider,
  caps: NodeImageCapabilities,
  node: ProviderNode,
  seal: boolean,
): void {
  const details = { node: node.id, status: node.status };
  if (node.status === 'running') {
    if (!caps.running)
      throw new VmkitError(
        'UNSUPPORTED',
        `node ${node.name} is running: the ${provider.name} provider copies a node's disk only while ` +
          `it is stopped (a running node's disk is open for writing and cannot be read consistently); ` +
          `stop it first`,
        { details },
      );
  } else if (node.status === 'stopped') {
    if (!caps.stopped)
      throw new VmkitError('UNSUPPORTED', `the ${provider.name} provider cannot copy a stopped node`, {
        details,
      });
  } else
    throw new VmkitError(
      'CONFLICT',
      `node ${node.name} is ${node.status}: images are made from running or stopped nodes`,
      { details },
    );
  if (seal && !caps.seal)
    throw new VmkitError(
      'UNSUPPORTED',
      `seal: the ${provider.name} provider cannot run the guest clean-up on a copy; pass seal: false`,
      { details: { ...details, field: 'seal' } },
    );
}

/** `CONFLICT` when the catalogue has the image id or another call is making it. */
function checkFree(parts: ImageFromNodeParts, imageId: string): void {
  if (parts.cache.image(imageId) || parts.making.has(imageId))
    throw new VmkitError('CONFLICT', `imageId: an image ${imageId} exists already`, {
      details: { field: 'imageId', imageId },
    });
}

/**
 * The spec of the master the node was cloned from, which describes its disk (firmware, source,
 * boot): the image's configured spec while its record's master is the one built from it, the
 * record's own spec when the configured spec changed and is not built yet. Refused with
 * `CONFLICT` naming both when the image was rebuilt since the node was cloned (its master is no
 * longer the image's: the spec it was built from is not kept), or when the node's firmware is not
 * the spec's; `NOT_FOUND` when the image is not in the catalogue.
 */
function nodeMasterSpec(cache: MasterCache, node: ProviderNode): MasterSpec {
  const details = { node: node.id, imageId: node.imageId };
  const configured = cache.spec(node.imageId);
  if (!configured)
    throw new VmkitError(
      'NOT_FOUND',
      `node ${node.name}'s image ${node.imageId} is not in the catalogue; its spec is needed for the new image`,
      { details },
    );
  const record = cache.record(node.imageId);
  if (node.master !== undefined && record?.master.id !== node.master)
    throw new VmkitError(
      'CONFLICT',
      `node ${node.name} was cloned from master ${node.master}, but image ${node.imageId}'s master is ` +
        `${record ? `now ${record.master.id} (rebuilt since)` : 'gone'}: the spec that master was built from ` +
        `(firmware, source, boot) is not kept, and the current one may not describe the node's disk; ` +
        `make the image from a node cloned from the current master`,
      { details: { ...details, nodeMaster: node.master, imageMaster: record?.master.id ?? null } },
    );
  const spec =
    record && record.specHash !== masterSpecHash(configured)
      ? withSecretsOf(record.spec, configured, node)
      : configured;
  const firmware = firmwareOf(spec);
  if (node.hardware.firmware !== undefined && node.hardware.firmware !== firmware)
    throw new VmkitError(
      'CONFLICT',
      `hardware.firmware: node ${node.name} boots ${node.hardware.firmware} firmware, but image ` +
        `${node.imageId}'s master was built for ${firmware}; the new image would claim the wrong firmware`,
      { details: { ...details, field: 'hardware.firmware' } },
    );
  return spec;
}

/**
 * The stored spec of the node's master with its login secrets back: a record keeps only their
 * digest (`secretsDigest`), so they are taken from the configured spec when its digest is the
 * same; when not (the configured login changed too), `CONFLICT`: the secrets the node's image was
 * made with are not known, and an image without them could not be logged in to.
 */
function withSecretsOf(stored: MasterSpec, configured: MasterSpec, node: ProviderNode): MasterSpec {
  const kept = stored.login as (LoginCredentials & { secretsDigest?: string }) | undefined;
  if (!kept?.secretsDigest) return stored;
  const now = storedSpecOf(configured).login as (LoginCredentials & { secretsDigest?: string }) | undefined;
  if (now?.secretsDigest !== kept.secretsDigest)
    throw new VmkitError(
      'CONFLICT',
      `node ${node.name}'s image ${node.imageId} was built with a login password or key that its ` +
        `spec no longer has (the catalogue keeps only a digest of it); build the image's new spec first`,
      { details: { node: node.id, imageId: node.imageId, field: 'login' } },
    );
  const { password, privateKey } = configured.login as LoginCredentials;
  return {
    ...stored,
    login: {
      ...publicLogin(kept),
      ...(password === undefined ? {} : { password }),
      ...(privateKey === undefined ? {} : { privateKey }),
    },
  };
}

/** The new image's spec: the node's image's, with the new id and name, and no post-install steps. */
function specFrom(source: MasterSpec, imageId: string, name: string | undefined): MasterSpec {
  const { postInstall: _ran, name: _name, ...rest } = source;
  return { ...rest, id: imageId, ...(name === undefined ? {} : { name }) };
}

/**
 * Makes a new image from a node's disk: checks the options (`INVALID_ARGUMENT` naming the field),
 * the provider's `capabilities().imageFromNode` in the node's state (`UNSUPPORTED` with the
 * reason), that the node exists (`NOT_FOUND`) and that the image id is free (`CONFLICT`); asks the
 * provider for a flattened master (sealed on the copy when `seal`), saves its record in the
 * catalogue like a built master's and adds the image, which then lists, clones, exports and
 * (with `shareMasters`) is published like any other. On failure or abort the new master is
 * deleted and no record is left. `image` progress events mark its start and end.
 */
export async function createImageFromNode(
  parts: ImageFromNodeParts,
  id: string,
  options: CreateImageFromNodeOptions & { readonly signal: AbortSignal },
): Promise<Image> {
  const { imageId, name, seal } = checkOptions(options);
  const { signal, onProgress } = options;
  throwIfAborted(signal, `image ${imageId} from node ${id}`);
  const { provider, cache } = parts;
  const { caps, make } = await nodeImageSupport(provider);
  const node = await provider.getNode(id);
  if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
  checkFree(parts, imageId);
  checkNodeState(provider, caps, node, seal);
  const spec = specFrom(nodeMasterSpec(cache, node), imageId, name);
  const hash = masterSpecHash(spec);
  const masterName = newMasterName(spec, hash);
  const progress = (fraction: number, message: string) =>
    emitProgress(onProgress, { phase: 'image', imageId, node: node.name, fraction, message });
  parts.making.add(imageId);
  const started = performance.now();
  let master: MasterRef | undefined;
  let saved = false;
  try {
    progress(0, `making image ${imageId} from node ${node.name}${seal ? ' (sealed)' : ''}`);
    master = await make(node.id, { masterName, spec, seal }, { signal, ...forward(onProgress) });
    throwIfAborted(signal, `image ${imageId} from node ${node.name}`);
    const record = masterRecordOf(provider, spec, hash, master, started, {
      origin: { node: node.name, imageId: node.imageId },
    });
    // Create-only: another process may have made this image id meanwhile; its record stays.
    await parts.repository.save(record, { createOnly: true }).catch((error: unknown) => {
      if (!VmkitError.is(error, 'CONFLICT')) throw error;
      throw new VmkitError('CONFLICT', `imageId: an image ${imageId} exists already`, {
        cause: error,
        details: { field: 'imageId', imageId },
      });
    });
    saved = true;
    await cache.add(record, spec, { signal, onProgress: onProgress ?? (() => {}) });
    parts.logger.info('image made from node', { imageId, node: node.name, masterName, ms: record.buildMs });
    progress(1, `image ${imageId} made from node ${node.name}`);
    return cache.image(imageId) as Image;
  } catch (error) {
    if (master) {
      const made = master;
      if (saved) await parts.repository.remove(imageId).catch(() => {});
      await provider.deleteMaster(made).catch((e: unknown) =>
        parts.logger.warn('could not delete the master of a failed image from a node', {
          master: made.id,
          error: String(e),
        }),
      );
    }
    throw error;
  } finally {
    parts.making.delete(imageId);
  }
}

function forward(onProgress: ProgressListener | undefined): { onProgress?: ProgressListener } {
  return onProgress ? { onProgress } : {};
}
