import { describe, expect, it } from 'vitest';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { parseLibvirtUri } from '../../transport/libvirt-uri.js';
import { legacyLibvirtId, readHostUuid, readLibvirtIdentity, readSysinfoUuid } from './host-identity.js';

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

const UUID = '6f80a6ea-cc6d-409f-84e8-f2594689c05a';
const CAPS = `<capabilities><host><uuid>${UUID}</uuid></host></capabilities>`;
const sysinfo = (uuid: string) =>
  `<sysinfo type='smbios'><bios><entry name='vendor'>x</entry></bios><system><entry name='manufacturer'>y</entry><entry name='uuid'>${uuid.toUpperCase()}</entry></system></sysinfo>`;

/** A client answering sysinfo and hostname as a daemon would; `sysinfo` undefined fails like a host without SMBIOS. */
function fakeClient(info: string | undefined, uri = 'qemu:///system'): LibvirtClient {
  return {
    target: parseLibvirtUri(uri),
    getSysinfo: async () => {
      if (info === undefined)
        throw new Error('unsupported configuration: Host SMBIOS information is not available');
      return info;
    },
    getHostname: async () => 'node7',
  } as unknown as LibvirtClient;
}

describe('readLibvirtIdentity', () => {
  it('reads the SMBIOS system UUID from sysinfo XML', () => {
    expect(readSysinfoUuid(sysinfo(UUID))).toBe(UUID);
    expect(readSysinfoUuid('<sysinfo type="smbios"><bios/></sysinfo>')).toBeUndefined();
  });

  it('names the host UUID when the SMBIOS data confirms it', async () => {
    const identity = await readLibvirtIdentity(fakeClient(sysinfo(UUID)), CAPS);
    expect(identity).toEqual({ id: `libvirt:${UUID}:qemu:///system`, host: { id: UUID, local: true } });
  });

  it("names the hostname when the UUID is libvirt's made-up one (no SMBIOS, or another UUID there)", async () => {
    for (const info of [undefined, sysinfo('11111111-2222-3333-4444-555555555555')]) {
      const identity = await readLibvirtIdentity(fakeClient(info), CAPS);
      expect(identity.id).toBe('libvirt:hostname=node7:qemu:///system');
    }
  });

  it('names the configured host id before anything the daemon says, and tells remote transports', async () => {
    const identity = await readLibvirtIdentity(
      fakeClient(sysinfo(UUID), 'qemu+tcp://10.0.0.7/system'),
      CAPS,
      'rack4-n2',
    );
    expect(identity).toEqual({
      id: 'libvirt:rack4-n2:qemu:///system',
      host: { id: 'rack4-n2', local: false },
    });
  });
});
