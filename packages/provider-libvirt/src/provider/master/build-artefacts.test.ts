import { silentLogger } from '@vmkit/core/spi';
import { describe, expect, it, vi } from 'vitest';
import { resolveLibvirtProviderOptions } from '../libvirt-provider-options.js';
import { masterVolumes } from './build-artefacts.js';

const master = 'vmkit-img-0123abcd-beef';
const volume = `vmkit-m-${master}.qcow2`;
const good = {
  id: volume,
  data: { pool: 'vmkit', volume, format: 'qcow2', capacityBytes: 1024, boot: 'disk', volumes: [volume] },
};

describe('masterVolumes', () => {
  it('gives the volumes of a valid reference, logging nothing', () => {
    const logger = { ...silentLogger, warn: vi.fn() };
    const options = resolveLibvirtProviderOptions({ uri: 'qemu:///system', logger });
    expect(masterVolumes(options, good)).toEqual([volume]);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('leaves a reference that breaks a rule alone and says so, with the master and the rule', () => {
    const logger = { ...silentLogger, warn: vi.fn() };
    const options = resolveLibvirtProviderOptions({ uri: 'qemu:///system', logger });
    const planted = { id: volume, data: { ...good.data, volumes: [volume, 'someone-elses-disk.qcow2'] } };
    expect(masterVolumes(options, planted)).toBeUndefined();
    expect(logger.warn.mock.calls).toEqual([
      [
        'libvirt: a master reference breaks a rule, not touched',
        { master: volume, reason: expect.stringMatching(/^master\.data\.volumes must be /) },
      ],
    ]);
  });
});
