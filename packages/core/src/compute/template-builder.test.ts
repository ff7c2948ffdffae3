import { beforeAll, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { DEFAULT_HARDWARE_PROFILES } from '../model/hardware.js';
import type { Image } from '../model/image.js';
import { loadValidators } from '../validation/load-validators.js';
import { TemplateBuilder } from './template-builder.js';

// A builder is made by a started compute service, which has loaded the checks.
beforeAll(() => loadValidators());

const image = (
  id: string,
  family: string,
  version: string,
  status: Image['status'] = 'buildable',
): Image => ({
  id,
  name: id,
  os: { family, version, arch: 'x86_64' },
  status,
  defaultHardware: { id: `${id}-default`, cores: 1, ramMiB: 512, diskGiB: 10 },
  specHash: '0'.repeat(64),
});

const source = (images: Image[]) => ({
  listImages: async () => images,
  listHardwareProfiles: async () => [...DEFAULT_HARDWARE_PROFILES],
});

describe('TemplateBuilder', () => {
  const images = [
    image('deb-11', 'debian', '11.9'),
    image('deb-12', 'debian', '12.5', 'available'),
    image('ubu', 'ubuntu', '24.04'),
  ];

  it('matches by family and version, preferring available images', async () => {
    const t = await new TemplateBuilder(source(images)).osFamily('debian').build();
    expect(t.image.id).toBe('deb-12');
    const old = await new TemplateBuilder(source(images))
      .osFamily('debian')
      .osVersionMatches('^11\\.')
      .build();
    expect(old.image.id).toBe('deb-11');
  });

  it('uses the image default hardware unless constrained, then the smallest profile that fits', async () => {
    const plain = await new TemplateBuilder(source(images)).imageId('ubu').build();
    expect(plain.hardware.id).toBe('ubu-default');
    const fit = await new TemplateBuilder(source(images)).imageId('ubu').minRam(2000).minCores(2).build();
    expect(fit.hardware.id).toBe('medium');
    const smallest = await new TemplateBuilder(source(images)).imageId('ubu').smallest().build();
    expect(smallest.hardware.id).toBe('micro');
  });

  it('says which criteria matched nothing', async () => {
    await expect(new TemplateBuilder(source(images)).osFamily('windows').build()).rejects.toSatisfy(
      (e) => VmkitError.is(e, 'NOT_FOUND') && /osFamily=windows/.test((e as Error).message),
    );
    await expect(new TemplateBuilder(source(images)).minRam(10_000_000).build()).rejects.toThrow(
      /no hardware profile/,
    );
  });

  it('validates options and patterns eagerly', () => {
    expect(() => new TemplateBuilder(source(images)).osVersionMatches('(')).toThrow(/osVersionMatches/);
    expect(() => new TemplateBuilder(source(images)).options({ inboundPorts: [0] })).toThrow(
      /options\.inboundPorts\[0\]/,
    );
    expect(() => new TemplateBuilder(source(images)).options({ tags: ['ok', 'not ok'] })).toThrow(
      /options\.tags\[1\]/,
    );
  });
});
