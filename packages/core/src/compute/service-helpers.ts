import { VmkitError } from '../errors/vmkit-error.js';
import type { Image } from '../model/image.js';
import type { Template, TemplateOptions } from '../model/template.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import type { MasterDiskExport } from '../spi/master-export.js';
import type { OperationOptions } from '../util/progress.js';
import { validators } from '../validation/load-validators.js';
import type { TemplateBuilder } from './template-builder.js';

/**
 * The template `createNodesInGroup` launches: a template built by hand is checked as carefully as
 * options (its image must be known); options go through a fresh template builder (internal).
 */
export async function resolveTemplate(
  input: Template | TemplateOptions | undefined,
  imageOf: (id: string) => Image | undefined,
  builder: () => TemplateBuilder,
): Promise<Template> {
  if (input && 'image' in input && 'hardware' in input) {
    const image = imageOf(input.image?.id);
    if (!image) throw new VmkitError('NOT_FOUND', `template.image: no image ${String(input.image?.id)}`);
    return {
      image,
      hardware: validators().checkHardware(input.hardware, 'template.hardware'),
      options: validators().checkTemplateOptions(input.options ?? {}, 'template.options'),
    };
  }
  const b = builder();
  if (input) b.options(input as TemplateOptions);
  return b.build();
}

/** The provider's `exportMasterDisk`, bound; `UNSUPPORTED` naming the method when it has none (internal). */
export function masterExporter(
  provider: HypervisorProvider,
): (ref: MasterRef, toPath: string, options?: OperationOptions) => Promise<MasterDiskExport> {
  if (!provider.exportMasterDisk)
    throw new VmkitError(
      'UNSUPPORTED',
      `provider ${provider.name} cannot export masters (no exportMasterDisk)`,
      {
        details: { provider: provider.name, method: 'exportMasterDisk' },
      },
    );
  return provider.exportMasterDisk.bind(provider);
}
