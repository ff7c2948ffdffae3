import type { DiskBytes, MasterRef, ProviderArtefact } from '@vmkit/core/spi';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import type { StorageVolHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import type { ResolvedLibvirtProviderOptions } from '../libvirt-provider-options.js';
import { removeDomain } from '../node/domain-removal.js';
import { readNodeMetadata } from '../node/node-metadata.js';
import { parseXml } from '../xml/xml-text.js';
import { masterNames } from './build-state.js';
import { checkLibvirtMasterRef, type MasterRefRules } from './master-ref-check.js';

/** `VIR_DOMAIN_XML_INACTIVE`: the persistent definition, where vmkit's metadata lives. */
const XML_INACTIVE = 2;

/** Core's master names: `vmkit-<image>-<8 hex of the spec hash>-<4 random hex>`. */
const MASTER_NAME = 'vmkit-[a-z0-9][a-z0-9._-]*-[0-9a-f]{8}-[0-9a-f]{4}';

/**
 * How old a node's volume without a domain must be to count as a leftover: a node's disk and
 * config drive are made before its domain is defined, so a younger one may be a node another
 * process is creating right now (15 minutes).
 */
export const NODE_LEFTOVER_GRACE_MS = 15 * 60_000;

/** A node's own volumes: `<prefix><node>.qcow2` and `<prefix><node>-config.iso|img` (see clone-node). */
function nodeVolumePattern(prefix: string): RegExp {
  return new RegExp(
    `^${prefix.replace(/[.]/g, '\\.')}([a-z][a-z0-9-]{0,62}?)(?:\\.qcow2|-config\\.(?:iso|img))$`,
  );
}

/** The names a build makes (see `masterNames` and `postInstallNames`), each giving its master name. */
function buildPatterns(prefix: string): { domain: RegExp; volume: RegExp } {
  const p = prefix.replace(/[.]/g, '\\.');
  return {
    domain: new RegExp(`^${p}(?:install|post)-(${MASTER_NAME})$`),
    volume: new RegExp(
      `^${p}(?:m-(${MASTER_NAME})\\.(?:qcow2|vmlinuz|initrd|iso|answers\\.initrd|answers\\.iso)|(?:install|post)-(${MASTER_NAME})\\.(?:log|iso))$`,
    ),
  };
}

/**
 * Every artefact of master builds in the pool and among the domains: build domains (installer,
 * post-install boot) carrying vmkit's metadata, then the volumes named as a build names them.
 * Volumes a node domain lists as its own are never artefacts; a master volume some node is
 * cloned from is in use. A build domain is never "in use": whether its build lives is core's call.
 */
export async function listBuildArtefacts(ctx: LibvirtContext): Promise<ProviderArtefact[]> {
  const { client, storage, options } = ctx;
  const patterns = buildPatterns(options.namePrefix);
  const nodeVolumes = new Set<string>();
  const nodeMasters = new Set<string>();
  const domains: ProviderArtefact[] = [];
  const domainNames = new Set<string>();
  for (const dom of await client.domains.listAll()) {
    domainNames.add(dom.name);
    if (!dom.name.startsWith(options.namePrefix)) continue;
    const meta = await client.domains
      .getXmlDesc(dom, XML_INACTIVE)
      .then(readNodeMetadata, (error: unknown) =>
        VmkitError.is(error, 'NOT_FOUND') ? undefined : Promise.reject(error),
      );
    if (!meta) continue;
    if (meta.kind === 'node') {
      for (const v of meta.ext.volumes) nodeVolumes.add(v);
      nodeMasters.add(meta.master);
      continue;
    }
    const masterName = patterns.domain.exec(dom.name)?.[1];
    if (!masterName) continue;
    domains.push({
      id: dom.name,
      kind: 'domain',
      masterName,
      masterId: masterNames(options.namePrefix, masterName).volume,
      imageId: meta.imageId,
      createdAt: meta.createdAt,
      // Running or not, it is its build's: core keeps it while the build lives (see ProviderArtefact.inUse).
      inUse: false,
    });
  }
  // Console logs are written by QEMU behind libvirt's back: rescan so they are volumes.
  await storage.refresh().catch(() => {});
  const volumes: ProviderArtefact[] = [];
  for (const vol of await client.storage.poolListAllVolumes(await storage.pool())) {
    const m = patterns.volume.exec(vol.name);
    const masterName = m?.[1] ?? m?.[2];
    if (nodeVolumes.has(vol.name)) continue;
    if (!masterName) {
      const orphan = await orphanNodeVolume(ctx, vol, domainNames);
      if (orphan) volumes.push(orphan);
      continue;
    }
    const masterId = masterNames(options.namePrefix, masterName).volume;
    const facts = await volumeFacts(ctx, vol);
    if (!facts) continue;
    volumes.push({
      id: vol.name,
      kind: 'volume',
      masterName,
      masterId,
      inUse: nodeMasters.has(masterId),
      ...facts,
    });
  }
  return [...domains, ...volumes];
}

/**
 * A volume named as a node's whose domain does not exist: the leftover of a node creation killed
 * before its domain was defined. It is "in use" (kept) until {@link NODE_LEFTOVER_GRACE_MS} after
 * it was last written, since another process may be creating that node right now.
 */
async function orphanNodeVolume(
  ctx: LibvirtContext,
  vol: StorageVolHandle,
  domainNames: ReadonlySet<string>,
): Promise<ProviderArtefact | undefined> {
  const node = nodeVolumePattern(ctx.options.namePrefix).exec(vol.name)?.[1];
  if (!node || domainNames.has(`${ctx.options.namePrefix}${node}`)) return undefined;
  const facts = await volumeFacts(ctx, vol);
  if (!facts) return undefined;
  const made = facts.createdAt === undefined ? Number.NaN : Date.parse(facts.createdAt);
  return {
    id: vol.name,
    kind: 'node-volume',
    masterName: '',
    masterId: '',
    inUse: !(made <= Date.now() - NODE_LEFTOVER_GRACE_MS),
    ...facts,
  };
}

/** Removes one listed artefact (a build domain, or a volume); gone is not an error. */
export async function removeBuildArtefact(ctx: LibvirtContext, artefact: ProviderArtefact): Promise<void> {
  if (typeof artefact?.id !== 'string' || !artefact.id.startsWith(ctx.options.namePrefix)) {
    throw invalidArgument('artefact.id', `must start with this provider's prefix ${ctx.options.namePrefix}`);
  }
  const patterns = buildPatterns(ctx.options.namePrefix);
  if (artefact.kind === 'domain' && patterns.domain.test(artefact.id)) return removeDomain(ctx, artefact.id);
  if (artefact.kind === 'volume' && patterns.volume.test(artefact.id)) return ctx.storage.delete(artefact.id);
  if (artefact.kind === 'node-volume' && nodeVolumePattern(ctx.options.namePrefix).test(artefact.id)) {
    const node = nodeVolumePattern(ctx.options.namePrefix).exec(artefact.id)?.[1] as string;
    const domain = await ctx.client.domains
      .lookupByName(`${ctx.options.namePrefix}${node}`)
      .catch(() => undefined);
    if (domain) throw new VmkitError('CONFLICT', `${artefact.id} belongs to node ${node}, which exists now`);
    return ctx.storage.delete(artefact.id);
  }
  throw invalidArgument('artefact', `${artefact.kind} ${artefact.id} is not an artefact of a vmkit build`);
}

/** Sums the sizes of named volumes; `undefined` when the first (the main disk) is missing. */
export async function volumesDiskBytes(
  ctx: LibvirtContext,
  names: readonly string[],
): Promise<DiskBytes | undefined> {
  if (names.length === 0) return undefined;
  let allocatedBytes = 0;
  let virtualBytes = 0;
  for (const [i, name] of names.entries()) {
    const vol = await ctx.storage.find(name);
    if (!vol) {
      if (i === 0) return undefined;
      continue;
    }
    const info = await ctx.client.storage.volGetInfo(vol).catch(() => undefined);
    allocatedBytes += info?.allocation ?? 0;
    virtualBytes += info?.capacity ?? 0;
  }
  return { allocatedBytes, virtualBytes };
}

/**
 * The volumes of a master, or `undefined` when its reference fails the checks of
 * {@link checkLibvirtMasterRef} (ref-only): such a reference names nothing of vmkit's, is left
 * alone and is logged as a warning (the `logger` option) with the master's id and the rule.
 */
export function masterVolumes(
  rules: MasterRefRules & Pick<ResolvedLibvirtProviderOptions, 'logger'>,
  ref: MasterRef,
): readonly string[] | undefined {
  try {
    return checkLibvirtMasterRef(rules, ref, undefined, { refOnly: true }).volumes;
  } catch (error) {
    rules.logger.warn('libvirt: a master reference breaks a rule, not touched', {
      master: String(ref?.id),
      reason: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/** The volumes a node owns (its disk first), or `undefined` when it is not a vmkit node. */
export async function nodeVolumes(ctx: LibvirtContext, id: string): Promise<readonly string[] | undefined> {
  if (!id.startsWith(ctx.options.namePrefix)) return undefined;
  try {
    const dom = await ctx.client.domains.lookupByName(id);
    const meta = readNodeMetadata(await ctx.client.domains.getXmlDesc(dom, XML_INACTIVE));
    return meta?.kind === 'node' ? meta.ext.volumes : undefined;
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}

/** A volume's sizes and modification time; `undefined` when it vanished meanwhile. */
async function volumeFacts(
  ctx: LibvirtContext,
  vol: StorageVolHandle,
): Promise<{ bytes: DiskBytes; createdAt?: string } | undefined> {
  try {
    const info = await ctx.client.storage.volGetInfo(vol);
    const doc = parseXml(await ctx.client.storage.volGetXmlDesc(vol)) as {
      volume?: { target?: { timestamps?: { mtime?: string } } };
    };
    const mtime = Number.parseFloat(doc.volume?.target?.timestamps?.mtime ?? '');
    return {
      bytes: { allocatedBytes: info.allocation, virtualBytes: info.capacity },
      ...(Number.isFinite(mtime) ? { createdAt: new Date(mtime * 1000).toISOString() } : {}),
    };
  } catch (error) {
    if (VmkitError.is(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}
