import type { MasterSpec } from '@vmkit/core/spi';
import { type MasterRef, masterRefError } from '@vmkit/core/spi';
import type { LibvirtMasterData } from '../libvirt-context.js';
import type { ResolvedLibvirtProviderOptions } from '../libvirt-provider-options.js';
import { masterNames } from './build-state.js';

/** The options a master reference is checked against. */
export type MasterRefRules = Pick<ResolvedLibvirtProviderOptions, 'namePrefix' | 'pool' | 'nodeCmdline'>;

/** The fields a libvirt master's data has (see {@link LibvirtMasterData}). */
const FIELDS = new Set([
  'pool',
  'volume',
  'format',
  'capacityBytes',
  'boot',
  'kernelVolume',
  'initrdVolume',
  'kernelPath',
  'initrdPath',
  'cmdline',
  'nvramVolume',
  'volumes',
]);
const KERNEL_FIELDS = ['kernelVolume', 'initrdVolume', 'kernelPath', 'initrdPath', 'cmdline'] as const;
/** A master name as a build gets it (core's are `vmkit-<image>-<8 hex>-<4 hex>`). */
const MASTER_NAME = '[A-Za-z0-9][A-Za-z0-9._-]{0,200}';

/**
 * Checks a master reference read from the store against what a build, a shared-master import or a
 * boot ISO upload of this provider makes (see `HypervisorProvider.checkMasterRef`): the id is the
 * master volume named from a master name and the prefix (`<prefix>m-<name>.qcow2`, `.iso` for a
 * boot ISO); the pool is the configured one; the volume, the volumes list and the kernel and
 * initrd volumes are exactly the names that master name gives; the enums and numbers are ones a
 * build writes; host boot-file paths (kept only by drivers without volume uploads) are the spec's
 * own source files, and refused without a spec (`refOnly` skips them: the caller checks them).
 * Returns the data, typed. Throws `CORRUPT` naming the field (`master.data.volume`) and the rule.
 */
export function checkLibvirtMasterRef(
  rules: MasterRefRules,
  ref: MasterRef,
  spec: MasterSpec | undefined,
  options: { readonly refOnly?: boolean } = {},
): LibvirtMasterData {
  const prefix = rules.namePrefix.replace(/[.]/g, '\\.');
  const match = new RegExp(`^${prefix}m-(${MASTER_NAME})\\.(qcow2|iso)$`).exec(ref.id);
  if (!match)
    throw masterRefError(
      'master.id',
      `must be a master volume this provider names (${rules.namePrefix}m-<master>.qcow2)`,
    );
  const names = masterNames(rules.namePrefix, match[1] as string);
  const data = ref.data as Record<string, unknown> | undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw masterRefError('master.data', 'must be an object');
  for (const key of Object.keys(data))
    if (!FIELDS.has(key)) throw masterRefError(`master.data.${key}`, 'is not a field of libvirt masters');
  const bad = (field: string, rule: string) => masterRefError(`master.data.${field}`, rule);
  if (data.pool !== rules.pool) throw bad('pool', `must be the configured pool ${rules.pool}`);
  const boot = data.boot;
  if (boot !== 'disk' && boot !== 'kernel' && boot !== 'cdrom')
    throw bad('boot', "must be 'disk', 'kernel' or 'cdrom'");
  const volume = boot === 'cdrom' ? names.iso : names.volume;
  if (ref.id !== volume) throw masterRefError('master.id', `must be ${volume} for a ${boot} master`);
  if (data.volume !== volume) throw bad('volume', `must be the master's own volume ${volume}`);
  const formats = boot === 'cdrom' ? ['raw'] : ['qcow2', 'raw'];
  if (!formats.includes(data.format as string)) throw bad('format', `must be one of ${formats.join(', ')}`);
  const capacity = data.capacityBytes;
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 0)
    throw bad('capacityBytes', 'must be an integer of 0 or more');
  const uploaded = boot === 'kernel' && data.kernelPath === undefined && data.initrdPath === undefined;
  const efi = data.nvramVolume !== undefined;
  if (efi && data.nvramVolume !== names.nvram)
    throw bad('nvramVolume', `must be the master's own NVRAM volume ${names.nvram}`);
  if (spec && efi !== (spec.hardware?.firmware === 'efi'))
    throw bad(
      'nvramVolume',
      efi
        ? "is only for masters whose spec has hardware.firmware 'efi'"
        : "must be set for hardware.firmware 'efi'",
    );
  const expected = [
    ...(uploaded ? [volume, names.kernel, names.initrd] : [volume]),
    ...(efi ? [names.nvram] : []),
  ];
  const volumes = data.volumes;
  if (
    !Array.isArray(volumes) ||
    volumes.length !== expected.length ||
    volumes.some((v, i) => v !== expected[i])
  )
    throw bad('volumes', `must be the master's own volumes, ${expected.join(', ')}`);
  if (boot !== 'kernel') {
    for (const field of KERNEL_FIELDS)
      if (data[field] !== undefined) throw bad(field, `is only for kernel masters`);
  } else checkKernel(rules, data, names, uploaded, spec, options.refOnly === true);
  if (spec) checkSourceType(spec, boot);
  return data as LibvirtMasterData;
}

function checkKernel(
  rules: MasterRefRules,
  data: Record<string, unknown>,
  names: ReturnType<typeof masterNames>,
  uploaded: boolean,
  spec: MasterSpec | undefined,
  refOnly: boolean,
): void {
  const bad = (field: string, rule: string) => masterRefError(`master.data.${field}`, rule);
  if (uploaded) {
    if (data.kernelVolume !== names.kernel)
      throw bad('kernelVolume', `must be the master's own ${names.kernel}`);
    if (data.initrdVolume !== names.initrd)
      throw bad('initrdVolume', `must be the master's own ${names.initrd}`);
  } else {
    for (const field of ['kernelVolume', 'initrdVolume'] as const)
      if (data[field] !== undefined) throw bad(field, 'must not be set beside kernelPath and initrdPath');
    if (!refOnly) {
      const source = spec?.source;
      if (source?.type !== 'kernel')
        throw bad(
          'kernelPath',
          "is only kept for a kernel master whose spec is known (its source's own files)",
        );
      if (data.kernelPath !== source.kernel) throw bad('kernelPath', "must be the spec's source.kernel");
      if (data.initrdPath !== source.initrd) throw bad('initrdPath', "must be the spec's source.initrd");
    }
  }
  if (typeof data.cmdline !== 'string') throw bad('cmdline', 'must be a string');
  const source = spec?.source;
  if (source?.type === 'kernel' && data.cmdline !== rules.nodeCmdline(source.cmdline ?? ''))
    throw bad('cmdline', "must be the node command line made from the spec's source.cmdline");
}

/** The boot a spec's source gives: kernel sources boot a kernel, boot ISOs a CD-ROM, the rest a disk. */
function checkSourceType(spec: MasterSpec, boot: string): void {
  const type = spec.source.type;
  const want = type === 'kernel' ? 'kernel' : type === 'bootIso' ? 'cdrom' : 'disk';
  if (boot !== want) throw masterRefError('master.data.boot', `must be '${want}' for a ${type} source`);
}
