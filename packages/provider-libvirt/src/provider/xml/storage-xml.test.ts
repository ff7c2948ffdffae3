import { describe, expect, it } from 'vitest';
import { volumeXml } from './storage-xml.js';

describe('volumeXml', () => {
  it('asks libvirt for a file only its owner can read, whatever the daemon or pool would default to', () => {
    for (const format of ['raw', 'qcow2'] as const) {
      const xml = volumeXml({ name: 'n-config.iso', capacityBytes: 4096, format });
      expect(xml).toContain('<permissions><mode>0600</mode></permissions>');
      expect(xml).toMatch(/<target>.*<permissions>.*<\/target>/);
    }
  });
});
