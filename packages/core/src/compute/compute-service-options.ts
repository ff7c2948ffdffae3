import { join } from 'node:path';
import { checkContainerName } from '../blobstore/blob-names.js';
import type { BlobStore } from '../blobstore/blob-store.js';
import { fileSystemBlobStore } from '../blobstore/file-system-blob-store.js';
import { type CredentialsOption, resolveCredentials } from '../credentials/credential-options.js';
import { invalidArgument } from '../errors/vmkit-error.js';
import {
  type BuildLeaseOptions,
  type ResolvedBuildLeaseOptions,
  resolveBuildLeaseOptions,
} from '../masters/build-lease-options.js';
import {
  type RecordSigner,
  type RecordSigningOptions,
  resolveRecordSigning,
} from '../masters/record-signing.js';
import type { BoxSourceReader } from '../model/box-source-reader.js';
import type { CredentialStore } from '../model/credential-store.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { PortAllocatorOptions } from '../ports/port-allocator.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import { integerOption } from '../util/integer-option.js';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import {
  type EphemeralNodesOptions,
  type ResolvedEphemeralNodesOptions,
  resolveEphemeralNodesOptions,
} from './ephemeral-nodes-options.js';

/** Options of `createComputeService`. */
export interface ComputeServiceOptions {
  /** The hypervisor. */
  readonly provider: HypervisorProvider;
  /** Where master metadata lives (default: the filesystem store under `./.vmkit/store`). */
  readonly store?: BlobStore;
  /** Blob-store container of master metadata (default `vmkit-images`). */
  readonly container?: string;
  /** Images to offer; built lazily on first demand. */
  readonly images?: readonly MasterSpec[];
  /**
   * Readers of master sources core does not read itself: `box` (Vagrant boxes), such as
   * `@vmkit/import`'s `vagrantBoxReader()`. A `box` spec registered without one is `UNSUPPORTED`.
   */
  readonly sources?: { readonly box?: BoxSourceReader };
  /** The in-memory cache of verified masters (defaults {@link DEFAULT_CACHE_MAX}, {@link DEFAULT_CACHE_TTL_MS}). */
  readonly cache?: { readonly max?: number; readonly ttlMs?: number };
  /**
   * Parallelism: master builds at once (1-64, default {@link DEFAULT_BUILD_CONCURRENCY}), node clones
   * at once per call (1-256, default {@link DEFAULT_CLONE_CONCURRENCY}).
   */
  readonly concurrency?: { readonly builds?: number; readonly clones?: number };
  /** Host-port leasing for `hostPort: 'auto'`. */
  readonly ports?: PortAllocatorOptions;
  /** Where vmkit logs (default: silent). Compatible with `console` and pino. */
  readonly logger?: Logger;
  /**
   * Masters built once per fleet (default `false`): a master this host builds is published to the
   * store (container `<container>-shared`, keyed by the spec hash), and a master another host
   * published is downloaded, verified and adopted instead of built. See the guide "Sharing
   * masters across hosts".
   */
  readonly shareMasters?: boolean;
  /** The build lease that makes processes sharing a store build each master once (see the guide). */
  readonly buildLease?: BuildLeaseOptions;
  /** The owner lease of ephemeral nodes (`TemplateOptions.ephemeral`) and what `close()` does with them. */
  readonly ephemeralNodes?: EphemeralNodesOptions;
  /**
   * Signs what this host writes to the store with a key the fleet shares (HMAC-SHA256): master
   * records, the catalogue snapshot's entries and shared-master records. A record read without a
   * valid signature is quarantined ("not signed with the fleet's key"), so a host acts only on
   * records the fleet made. Default: records are not signed and signatures are not required.
   */
  readonly recordSigning?: RecordSigningOptions;
  /**
   * Where vmkit keeps the credentials it makes (the ed25519 key pair of each group whose template
   * names no key, and the SSH host keys it pinned): a {@link CredentialStore} of yours, or
   * `{ directory }` for files of mode 0600 in a folder of mode 0700. Default: the folder
   * `vmkit/credentials` under `$XDG_STATE_HOME` (else `~/.local/state`). See the guide "Credentials and SSH".
   */
  readonly credentials?: CredentialsOption;
}

/** {@link ComputeServiceOptions} checked and completed with defaults. */
export interface ResolvedComputeServiceOptions {
  readonly provider: HypervisorProvider;
  readonly store: BlobStore;
  readonly container: string;
  readonly images: readonly MasterSpec[];
  /** The reader of `box` sources, if given. */
  readonly boxReader: BoxSourceReader | undefined;
  readonly cache: { readonly max: number; readonly ttlMs: number };
  readonly concurrency: { readonly builds: number; readonly clones: number };
  readonly ports: PortAllocatorOptions;
  readonly logger: Logger;
  readonly shareMasters: boolean;
  readonly buildLease: ResolvedBuildLeaseOptions;
  readonly ephemeralNodes: ResolvedEphemeralNodesOptions;
  /** The signer of `recordSigning`; `undefined` when records are not signed. */
  readonly signer: RecordSigner | undefined;
  /** Where credentials are kept. */
  readonly credentials: CredentialStore;
}

/** Verified masters kept in memory by default. */
export const DEFAULT_CACHE_MAX = 1000;
/** How long a verified master is trusted before it is checked again, by default (10 minutes). */
export const DEFAULT_CACHE_TTL_MS = 10 * 60_000;
/** Master builds at once, by default. */
export const DEFAULT_BUILD_CONCURRENCY = 2;
/** Node clones at once per call, by default. */
export const DEFAULT_CLONE_CONCURRENCY = 4;

/** Where the default filesystem store keeps its data, relative to the working directory. */
export const DEFAULT_STORE_ROOT = join('.vmkit', 'store');

const PROVIDER_METHODS = [
  'capabilities',
  'listHostNetworks',
  'planMasterBuild',
  'mastersExist',
  'deleteMaster',
  'cloneNode',
  'startNode',
  'stopNode',
  'rebootNode',
  'suspendNode',
  'resumeNode',
  'destroyNode',
  'listNodes',
  'getNode',
] as const;

/** Checks options eagerly, naming the bad one, and returns them frozen with defaults filled in. */
export function resolveComputeServiceOptions(options: ComputeServiceOptions): ResolvedComputeServiceOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  const provider = options.provider;
  if (typeof provider !== 'object' || provider === null) throw invalidArgument('provider', 'is required');
  for (const method of PROVIDER_METHODS) {
    if (typeof provider[method] !== 'function')
      throw invalidArgument(`provider.${method}`, 'must be a function');
  }
  if (typeof provider.id !== 'string' || provider.id.length === 0)
    throw invalidArgument('provider.id', 'must be a non-empty string');
  const container = options.container ?? 'vmkit-images';
  checkContainerName(container);
  if (container.length > 52) {
    throw invalidArgument(
      'container',
      `must be at most 52 characters: '-quarantine', '-index' and '-shared' are appended (got ${container.length})`,
    );
  }
  if (options.images !== undefined && !Array.isArray(options.images))
    throw invalidArgument('images', 'must be an array');
  checkDistinctImageIds(options.images ?? []);
  if (options.sources?.box !== undefined && typeof options.sources.box !== 'function')
    throw invalidArgument('sources.box', 'must be a function (a BoxSourceReader)');
  const cache = {
    max: integerOption('cache.max', options.cache?.max, DEFAULT_CACHE_MAX),
    ttlMs: integerOption('cache.ttlMs', options.cache?.ttlMs, DEFAULT_CACHE_TTL_MS),
  };
  const concurrency = {
    builds: integerOption('concurrency.builds', options.concurrency?.builds, DEFAULT_BUILD_CONCURRENCY, {
      max: 64,
    }),
    clones: integerOption('concurrency.clones', options.concurrency?.clones, DEFAULT_CLONE_CONCURRENCY, {
      max: 256,
    }),
  };
  if (options.shareMasters !== undefined && typeof options.shareMasters !== 'boolean')
    throw invalidArgument('shareMasters', 'must be a boolean');
  const logger = options.logger ?? silentLogger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') throw invalidArgument(`logger.${level}`, 'must be a function');
  }
  return Object.freeze({
    provider,
    store: options.store ?? fileSystemBlobStore({ root: DEFAULT_STORE_ROOT }),
    container,
    images: Object.freeze([...(options.images ?? [])]),
    boxReader: options.sources?.box,
    cache: Object.freeze(cache),
    concurrency: Object.freeze(concurrency),
    ports: Object.freeze({ ...options.ports }),
    logger: bindLogger(logger),
    shareMasters: options.shareMasters ?? false,
    buildLease: resolveBuildLeaseOptions(options.buildLease),
    ephemeralNodes: resolveEphemeralNodesOptions(options.ephemeralNodes),
    signer: resolveRecordSigning(options.recordSigning),
    credentials: resolveCredentials(options.credentials),
  });
}

/** Binds methods so loggers like `console` or pino can be passed as they are. */
function bindLogger(logger: Logger): Logger {
  return {
    debug: logger.debug.bind(logger),
    info: logger.info.bind(logger),
    warn: logger.warn.bind(logger),
    error: logger.error.bind(logger),
  };
}

/** Two specs with one id would silently replace each other: refuse, naming both. */
function checkDistinctImageIds(images: readonly MasterSpec[]): void {
  const seen = new Map<unknown, number>();
  for (const [i, spec] of images.entries()) {
    const id = (spec as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') continue; // the spec's own check names a missing or bad id
    const first = seen.get(id);
    if (first !== undefined)
      throw invalidArgument(`images[${i}].id`, `must be unique: images[${first}] has the same id '${id}'`, {
        indices: [first, i],
      });
    seen.set(id, i);
  }
}
