import type { CloneSpec } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { validateCloneSpec } from './clone-node.js';

const spec: CloneSpec = {
  name: 'n1',
  group: 'g',
  imageId: 'img',
  master: { id: 'm' },
  hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
  network: { nics: [{ slot: 0, attachment: 'nat', mac: '08:00:27:00:00:01', portForwards: [] }] },
  linked: true,
  tags: [],
  userMetadata: {},
};

describe('VirtualBox clone spec rules', () => {
  it('refuses data volumes with UNSUPPORTED naming dataVolumes, and accepts a spec without them', () => {
    expect(() => validateCloneSpec({ ...spec, dataVolumes: [{ sizeMiB: 1 }] })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', details: { field: 'dataVolumes' } }),
    );
    expect(() => validateCloneSpec(spec)).not.toThrow();
    expect(() => validateCloneSpec({ ...spec, dataVolumes: [] })).not.toThrow();
  });
});
