import { type Logger, silentLogger } from '@vmkit/core/spi';
import { describe, expect, it, vi } from 'vitest';
import type { LibvirtContext } from '../libvirt-context.js';
import { resolveLibvirtProviderOptions } from '../libvirt-provider-options.js';
import { deleteLeftoverVolume } from './volume-cleanup.js';

describe('deleteLeftoverVolume', () => {
  const ctxWith = (logger: Logger, failure?: Error) =>
    ({
      options: resolveLibvirtProviderOptions({ uri: 'qemu:///system', logger }),
      storage: {
        name: 'vmkit',
        delete: async () => {
          if (failure) throw failure;
        },
      },
    }) as unknown as LibvirtContext;

  it('warns, naming the volume, the pool and the clean-up, when a volume stays', async () => {
    const logger = { ...silentLogger, warn: vi.fn() };
    await deleteLeftoverVolume(ctxWith(logger, new Error('volume is busy')), 'vmkit-x.log', 'a test');
    expect(logger.warn.mock.calls).toEqual([
      [
        'libvirt: a volume could not be removed; it stays in the pool',
        { volume: 'vmkit-x.log', pool: 'vmkit', during: 'a test', reason: 'volume is busy' },
      ],
    ]);
  });

  it('is silent when the volume is removed', async () => {
    const logger = { ...silentLogger, warn: vi.fn() };
    await deleteLeftoverVolume(ctxWith(logger), 'vmkit-x.log', 'a test');
    expect(logger.warn).not.toHaveBeenCalled();
  });
});
