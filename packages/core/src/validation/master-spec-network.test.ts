import { describe, expect, it } from 'vitest';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { createComputeService } from '../compute/create-compute-service.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { storedMasterSpecSchema } from './master-spec-schema.js';

const spec = {
  id: 'netted',
  os: { family: 'debian', version: '12', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
};
const network = { nics: [{ attachment: 'bridged', hostInterface: 'br0' }] };

describe('MasterSpec.network, which no provider reads', () => {
  it('is refused in a configured image, naming the field', async () => {
    const error = await createComputeService({
      provider: memoryProvider(),
      store: memoryBlobStore(),
      images: [{ ...spec, network } as never],
    }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/images\[0\].*network: is not supported: no provider reads it/);
  });

  it('still loads from a stored record written before', () => {
    expect(storedMasterSpecSchema.safeParse({ ...spec, network }).success).toBe(true);
  });
});
