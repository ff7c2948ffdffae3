import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterSpec } from '@vmkit/core/spi';
import { type MasterRef, VmkitError } from '@vmkit/core/spi';
import { MASTER_SNAPSHOT, masterMachineName } from '../virtualbox-context.js';
import type { ResolvedVirtualBoxProviderOptions } from '../virtualbox-provider-options.js';
import type { VboxMasterData } from './master-build.js';

/** The options the rules depend on. */
export type MasterRefRuleOptions = Pick<ResolvedVirtualBoxProviderOptions, 'namePrefix' | 'machineFolder'>;

/** A `CORRUPT` error naming the field of the stored reference and the rule it broke. */
function broken(field: string, rule: string): VmkitError {
  return new VmkitError('CORRUPT', `${field}: ${rule}`, { details: { field } });
}

/** Every field a VirtualBox master's data may hold ({@link VboxMasterData}). */
const DATA_FIELDS: ReadonlySet<string> = new Set([
  'machine',
  'snapshot',
  'disk',
  'ownsDisk',
  'ramMiB',
  'cores',
  'bootIso',
  'ownsIso',
]);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `path` is absolute, normalised and inside `folder` (at any depth, never the folder itself). */
export function isInsideFolder(folder: string, path: string): boolean {
  if (!isAbsolute(path) || resolve(path) !== path) return false;
  const rel = relative(resolve(folder), path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Whether `path` is a file vmkit itself would have written for the master `machine`: directly in
 * the machine folder under one of the names `names` (e.g. `<machine>.vdi`).
 */
function isOwnFile(options: MasterRefRuleOptions, machine: string, path: string, names: readonly string[]) {
  return (
    isInsideFolder(options.machineFolder, path) &&
    dirname(path) === resolve(options.machineFolder) &&
    names.some((n) => basename(path) === `${machine}${n}`)
  );
}

/** The local file of a spec's `path` or `file:` source, resolved; `undefined` for a download. */
function sourceFile(spec: MasterSpec): string | undefined {
  const source = spec.source as { path?: string; url?: string };
  if (source.path) return resolve(source.path);
  if (source.url?.startsWith('file:')) return resolve(fileURLToPath(source.url));
  return undefined;
}

/**
 * The machine name rule: with a spec, exactly what core and this provider derive for it
 * (`<prefix>m-vmkit-<image id>-<8 hex>-<4 hex>`); without one, a master name with the prefix
 * (`<prefix>m-` followed by letters, digits, `.`, `_` and `-`).
 */
function machinePattern(options: MasterRefRuleOptions, spec: MasterSpec | undefined): RegExp {
  const head = escapeRegExp(masterMachineName(options.namePrefix, ''));
  return spec
    ? new RegExp(`^${head}vmkit-${escapeRegExp(spec.id)}-[0-9a-f]{8}-[0-9a-f]{4}$`)
    : new RegExp(`^${head}[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`);
}

function checkBootIso(
  options: MasterRefRuleOptions,
  data: Record<string, unknown>,
  machine: string,
  spec: MasterSpec | undefined,
): void {
  const iso = data.bootIso;
  if (typeof iso !== 'string' || !isAbsolute(iso) || resolve(iso) !== iso)
    throw broken('master.data.bootIso', 'must be an absolute, normalised path');
  if (typeof data.ownsIso !== 'boolean') throw broken('master.data.ownsIso', 'must be true or false');
  if (data.snapshot !== '' || data.disk !== '' || data.ownsDisk !== false)
    throw broken('master.data.disk', "a bootIso master has no snapshot or disk ('' and ownsDisk false)");
  if (spec && spec.source.type !== 'bootIso')
    throw broken('master.data.bootIso', `the spec's source is '${spec.source.type}', not 'bootIso'`);
  if (data.ownsIso) {
    if (!isOwnFile(options, machine, iso, ['-boot.iso', '.iso']))
      throw broken(
        'master.data.bootIso',
        `an ISO vmkit owns (and deletes) must be ${machine}-boot.iso or ${machine}.iso in the machine folder ${options.machineFolder}`,
      );
    return;
  }
  if (
    spec &&
    (sourceFile(spec) !== iso || (spec.source as { kernelParams?: string }).kernelParams !== undefined)
  )
    throw broken('master.data.bootIso', "an ISO vmkit does not own must be the spec's source path, as it is");
}

function checkDisk(
  options: MasterRefRuleOptions,
  data: Record<string, unknown>,
  machine: string,
  spec: MasterSpec | undefined,
): void {
  if (data.snapshot !== MASTER_SNAPSHOT) throw broken('master.data.snapshot', `must be '${MASTER_SNAPSHOT}'`);
  const disk = data.disk;
  if (typeof disk !== 'string' || !isAbsolute(disk) || resolve(disk) !== disk)
    throw broken('master.data.disk', 'must be an absolute, normalised path');
  if (typeof data.ownsDisk !== 'boolean') throw broken('master.data.ownsDisk', 'must be true or false');
  if (spec?.source.type === 'bootIso')
    throw broken('master.data.bootIso', "the spec's source is 'bootIso': the reference must name its ISO");
  if (data.ownsDisk) {
    if (!isOwnFile(options, machine, disk, ['.vdi', '.img']))
      throw broken(
        'master.data.disk',
        `a disk vmkit owns must be ${machine}.vdi or ${machine}.img in the machine folder ${options.machineFolder}`,
      );
  } else if (spec && (spec.source.type !== 'disk' || sourceFile(spec) !== disk))
    throw broken('master.data.disk', "a disk vmkit does not own must be the spec's disk source path");
  for (const field of ['ramMiB', 'cores'] as const) {
    const value = data[field];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1))
      throw broken(`master.data.${field}`, 'must be a positive integer');
  }
}

/**
 * Checks a master reference read from the store against what this provider would have made
 * (see `HypervisorProvider.checkMasterRef`) and returns its data:
 *
 * - `id` and `data.machine` are the same name, the master name derived from the prefix: with a
 *   spec `<prefix>m-vmkit-<spec.id>-<8 hex>-<4 hex>`, without one any `<prefix>m-…` name;
 * - a `bootIso` master: `bootIso` is the spec's source path (`ownsIso: false`, no kernel
 *   parameters), or `<machine>-boot.iso` / `<machine>.iso` in the machine folder (`ownsIso: true`,
 *   the only case vmkit deletes it); without a spec, an ISO outside the folder is accepted only
 *   with `ownsIso: false` (it is closed as a medium, never deleted);
 * - any other master: snapshot `vmkit-base`; `disk` is `<machine>.vdi` / `<machine>.img` in the
 *   machine folder (`ownsDisk: true`) or, with a spec, the spec's disk source (`ownsDisk: false`);
 *   `ramMiB` and `cores` positive integers when present;
 * - no field vmkit does not write.
 *
 * @throws VmkitError `CORRUPT` naming the field (`master.data.machine`, ...) and the rule.
 */
export function checkVboxMasterRef(
  options: MasterRefRuleOptions,
  ref: MasterRef,
  spec: MasterSpec | undefined,
): VboxMasterData {
  if (typeof ref !== 'object' || ref === null) throw broken('master', 'must be an object');
  const data = ref.data as Record<string, unknown> | undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw broken('master.data', 'must be an object');
  for (const field of Object.keys(data))
    if (!DATA_FIELDS.has(field)) throw broken(`master.data.${field}`, 'is not a field vmkit writes');
  const machine = data.machine;
  if (typeof machine !== 'string' || !machinePattern(options, spec).test(machine))
    throw broken(
      'master.data.machine',
      spec
        ? `must be the master name vmkit derives for image '${spec.id}' (${masterMachineName(options.namePrefix, `vmkit-${spec.id}-<8 hex>-<4 hex>`)})`
        : `must be a master name with the prefix (${masterMachineName(options.namePrefix, '…')})`,
    );
  if (ref.id !== machine) throw broken('master.id', 'must equal master.data.machine');
  if (data.bootIso !== undefined) checkBootIso(options, data, machine, spec);
  else checkDisk(options, data, machine, spec);
  return data as unknown as VboxMasterData;
}
