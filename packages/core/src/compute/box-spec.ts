import { VmkitError } from '../errors/vmkit-error.js';
import type { BoxSourceReader } from '../model/box-source-reader.js';
import type { MasterSpec } from '../model/master-spec.js';
import { validators } from '../validation/load-validators.js';

/**
 * The spec registered for `input`: itself, or for a `box` source the `disk` spec its reader
 * makes — the box's disk, the box's hardware under the spec's own, the box's login unless the
 * spec gives one. The spec is checked first (naming the bad field); without a reader a `box` is
 * `UNSUPPORTED`, naming `source.type`.
 */
export async function readBoxSpec(
  input: MasterSpec,
  reader: BoxSourceReader | undefined,
  signal?: AbortSignal,
): Promise<MasterSpec> {
  if (input?.source?.type !== 'box') return input; // checked when registered, as ever
  const spec = validators().checkMasterSpec(input, 'spec');
  if (spec.source.type !== 'box') return input;
  if (!reader)
    throw new VmkitError(
      'UNSUPPORTED',
      `image ${spec.id}: source.type 'box' needs a reader of Vagrant boxes: the compute service's sources.box option (@vmkit/import's vagrantBoxReader())`,
      { details: { field: 'source.type', imageId: spec.id } },
    );
  const read = await reader(spec.source, signal ? { signal } : {});
  const hardware = { ...read.hardware, ...spec.hardware };
  const login = spec.login ?? read.login;
  return {
    ...spec,
    source: read.source,
    ...(Object.keys(hardware).length > 0 ? { hardware } : {}),
    ...(login ? { login } : {}),
  };
}
