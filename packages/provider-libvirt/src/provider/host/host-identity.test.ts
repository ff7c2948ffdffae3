import { describe, expect, it } from 'vitest';
import { legacyLibvirtId, readHostUuid } from './host-identity.js';

describe('readHostUuid', () => {
  it("reads the host's UUID from capabilities XML, lower-cased", () => {
    const caps =
      '<capabilities><host><uuid>6F80A6EA-CC6D-409F-84E8-F2594689C05A</uuid><cpu><arch>x86_64</arch></cpu></host></capabilities>';
    expect(readHostUuid(caps)).toBe('6f80a6ea-cc6d-409f-84e8-f2594689c05a');
  });

  it('answers undefined when there is none or it is not a UUID', () => {
    expect(readHostUuid('<capabilities><host><cpu/></host></capabilities>')).toBeUndefined();
    expect(readHostUuid('<capabilities><host><uuid>../../etc</uuid></host></capabilities>')).toBeUndefined();
  });

  it('keeps the id of earlier versions for migration', () => {
    expect(legacyLibvirtId('qemu:///system')).toBe('libvirt:qemu:///system');
  });
});
