import { randomBytes } from 'node:crypto';
import type { MasterSpec } from '../model/master-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import type { Logger } from '../util/logger.js';
import type { OperationOptions } from '../util/progress.js';
import { storedSpecOf } from './login-secrets.js';
import { runMasterBuild } from './master-build-pipeline.js';
import { MASTER_RECORD_SCHEMA_VERSION, type MasterRecord } from './master-record.js';
import type { MasterRepository } from './master-repository.js';
import type { SharedMasters } from './shared-masters.js';

/** What {@link buildAndRecord} builds. */
export interface BuildRequest extends Required<Pick<OperationOptions, 'signal' | 'onProgress'>> {
  readonly spec: MasterSpec;
  /** The spec's hash. */
  readonly hash: string;
  /** The image's record before this build, if it had one. */
  readonly previous: MasterRecord | undefined;
  /** With `shareMasters`: adopt the fleet's master instead of building, publish what is built. */
  readonly shared?: SharedMasters | undefined;
  /** The master name to build under (default: a fresh {@link newMasterName}). */
  readonly masterName?: string;
}

/** A fresh master name for a build: `vmkit-<image>-<8 hex of the spec hash>-<4 random hex>`. */
export function newMasterName(spec: MasterSpec, hash: string): string {
  return `vmkit-${spec.id}-${hash.slice(0, 8)}-${randomBytes(2).toString('hex')}`;
}

/**
 * Builds a master under a fresh name and persists its record. Masters of earlier specs are kept
 * (linked clones may depend on them) and listed in the record as retired, to be deleted once no
 * node of the image is left. When the record cannot be saved, the new master is deleted again.
 * With {@link BuildRequest.shared}, a master shared by another host is adopted instead of built,
 * and a master built here is published after its record is saved.
 */
export async function buildAndRecord(
  provider: HypervisorProvider,
  repository: MasterRepository,
  logger: Logger,
  request: BuildRequest,
): Promise<MasterRecord> {
  const { spec, hash } = request;
  const started = performance.now();
  const masterName = request.masterName ?? newMasterName(spec, hash);
  const adopted = await request.shared?.adopt(spec, hash, masterName, request);
  if (!adopted) logger.info('building master', { imageId: spec.id, masterName });
  const master =
    adopted ??
    (await runMasterBuild(provider, spec, masterName, {
      signal: request.signal,
      onProgress: request.onProgress,
      logger,
    }));
  const record = await recordMaster(provider, repository, logger, request, master, started, !!adopted);
  if (!adopted) await request.shared?.publish(spec, hash, master, request);
  return record;
}

/**
 * Adopts the master the fleet shares for the request's spec (see {@link SharedMasters.adopt}) and
 * persists its record, never building: `undefined` when none is shared or it is unusable.
 */
export async function adoptAndRecord(
  provider: HypervisorProvider,
  repository: MasterRepository,
  logger: Logger,
  request: BuildRequest,
): Promise<MasterRecord | undefined> {
  const started = performance.now();
  const masterName = request.masterName ?? newMasterName(request.spec, request.hash);
  const adopted = await request.shared?.adopt(request.spec, request.hash, masterName, request);
  return adopted && recordMaster(provider, repository, logger, request, adopted, started, true);
}

/**
 * The record of a master made now (built, adopted or made from a node), its build time counted
 * from `started` (a `performance.now()`), with `extra` fields (retired masters, origin).
 */
export function masterRecordOf(
  provider: HypervisorProvider,
  spec: MasterSpec,
  hash: string,
  master: MasterRef,
  started: number,
  extra: Pick<MasterRecord, 'retired' | 'origin'> = {},
): MasterRecord {
  return {
    schemaVersion: MASTER_RECORD_SCHEMA_VERSION,
    imageId: spec.id,
    specHash: hash,
    // Never the login's password or private key: a digest of them stands in (login-secrets.ts).
    spec: storedSpecOf(spec),
    master,
    providerId: provider.id,
    builtAt: new Date().toISOString(),
    buildMs: Math.round(performance.now() - started),
    ...extra,
  };
}

/** Saves the record of a master built or adopted; deletes the master when it cannot be saved. */
async function recordMaster(
  provider: HypervisorProvider,
  repository: MasterRepository,
  logger: Logger,
  request: BuildRequest,
  master: MasterRef,
  started: number,
  adopted: boolean,
): Promise<MasterRecord> {
  const { spec, hash, previous } = request;
  const retired =
    previous && previous.master.id !== master.id ? [...(previous.retired ?? []), previous.master] : [];
  const record = masterRecordOf(provider, spec, hash, master, started, retired.length > 0 ? { retired } : {});
  try {
    await repository.save(record);
  } catch (error) {
    await provider.deleteMaster(master).catch(() => {});
    throw error;
  }
  logger.info(adopted ? 'master adopted' : 'master built', {
    imageId: spec.id,
    masterName: master.id,
    buildMs: record.buildMs,
  });
  return record;
}
