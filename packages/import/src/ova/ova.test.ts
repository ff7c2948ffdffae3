import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractOva } from './ova-extract.js';
import { checkManifest, parseManifest } from './ova-manifest.js';
import { allocationUnits, parseOvf } from './ovf-descriptor.js';

const OVF = `<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="f1" ovf:href="a.vmdk"/><File ovf:id="f2" ovf:href="b.vhd"/></References>
  <DiskSection><Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="2" ovf:capacityAllocationUnits="byte * 2^30"
    ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
    <Disk ovf:diskId="d2" ovf:fileRef="f2" ovf:capacity="1048576"/></DiskSection>
  <VirtualSystem ovf:id="vm1"><VirtualHardwareSection>
    <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>
    <Item><rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
  </VirtualHardwareSection></VirtualSystem>
</Envelope>`;

function tar(members: Array<[string, string, ('file' | 'symlink')?]>): Readable {
  const p = pack();
  for (const [name, body, type] of members) {
    if (type === 'symlink') p.entry({ name, type: 'symlink', linkname: '/etc/passwd' });
    else p.entry({ name }, body);
  }
  p.finalize();
  return Readable.from(p as unknown as AsyncIterable<Buffer>);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-ova-unit-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));
const extract = (s: Readable, maxBytes = 1 << 20, into = dir) =>
  extractOva(s, into, { maxBytes, signal: new AbortController().signal });
/** A new folder to extract into, as each task's OVA gets (members are created exclusively). */
const fresh = () => mkdtemp(join(dir, 'ova-'));

describe('OVF descriptors', () => {
  it('gives disks in order with formats and capacities, CPUs and memory', () => {
    const d = parseOvf(OVF);
    expect(d.disks).toEqual([
      { href: 'a.vmdk', format: 'vmdk', capacityBytes: 2 * 1024 ** 3 },
      { href: 'b.vhd', format: 'vhd', capacityBytes: 1048576 },
    ]);
    expect(d.hardware).toEqual({ cores: 4, ramMiB: 2048 });
    expect(allocationUnits('byte * 2^20')).toBe(1048576);
    expect(() => allocationUnits('furlongs')).toThrow(/allocation units/);
    expect(() => parseOvf('<Envelope><DiskSection/></Envelope>')).toThrow(/no disks/);
    expect(() => parseOvf('<?xml version="1.0"?><NotOvf/>')).toThrow(/no Envelope/);
  });
});

describe('the boot mode an OVF descriptor declares', () => {
  const withSystem = (inner: string, hardware = '') =>
    OVF.replace(
      '<VirtualSystem ovf:id="vm1"><VirtualHardwareSection>',
      `<VirtualSystem ovf:id="vm1">${inner}<VirtualHardwareSection>${hardware}`,
    );
  it("reads VirtualBox's Firmware element and VMware's firmware setting; nothing declared is nothing", () => {
    const vbox = (type: string) =>
      parseOvf(
        withSystem(
          `<vbox:Machine xmlns:vbox="http://www.virtualbox.org/ovf/machine" ovf:required="false" version="1.16-linux" uuid="{x}" name="m"><Hardware><Firmware type="${type}"/></Hardware></vbox:Machine>`,
        ),
      ).hardware.firmware;
    expect(vbox('EFI')).toBe('efi');
    expect(vbox('EFI64')).toBe('efi');
    expect(vbox('BIOS')).toBe('bios');
    const vmware = (value: string) =>
      parseOvf(
        withSystem(
          '',
          `<vmw:Config xmlns:vmw="http://www.vmware.com/schema/ovf" ovf:required="false" vmw:key="firmware" vmw:value="${value}"/><vmw:Config ovf:required="false" vmw:key="tools.syncTimeWithHost" vmw:value="false"/>`,
        ),
      ).hardware.firmware;
    expect(vmware('efi')).toBe('efi');
    expect(vmware('bios')).toBe('bios');
    expect(parseOvf(OVF).hardware.firmware).toBeUndefined();
  });
});

describe('OVA manifests', () => {
  it('parses digests and refuses mismatches, unknown files and odd lines', () => {
    const entries = parseManifest('SHA256(a.vmdk)= AB\nSHA1(x.ovf)= cd\n');
    expect(entries).toEqual([
      { algorithm: 'sha256', file: 'a.vmdk', digest: 'ab' },
      { algorithm: 'sha1', file: 'x.ovf', digest: 'cd' },
    ]);
    const digests = new Map([['a.vmdk', { sha1: '', sha256: 'ab' }]]);
    expect(() => checkManifest(entries, digests)).toThrow(/lists x.ovf, which is not in the archive/);
    expect(() => checkManifest([{ algorithm: 'sha256', file: 'a.vmdk', digest: 'ff' }], digests)).toThrow(
      /SHA256 of a.vmdk is ab/,
    );
    expect(() => parseManifest('MD5(a)= 00')).toThrow(/is not ALG\(file\)= digest/);
  });
});

describe('extractOva refuses hostile archives before writing outside scratch', () => {
  it.each([
    ['../escape', /names a path outside/],
    ['/etc/cron.d/job', /names a path outside/],
    ['sub/../../x', /names a path outside/],
    ['dir/file.vmdk', /not a plain file name/],
  ])('member %s', async (name, message) => {
    await expect(
      extract(
        tar([
          [name, 'x'],
          ['vm.ovf', OVF],
        ]),
      ),
    ).rejects.toThrow(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('symlinks, duplicates, oversize archives, missing disks', async () => {
    await expect(extract(tar([['link.vmdk', '', 'symlink']]))).rejects.toThrow(
      /is a symlink, not a regular file/,
    );
    await expect(
      extract(
        tar([
          ['a.vmdk', 'x'],
          ['a.vmdk', 'y'],
        ]),
        1 << 20,
        await fresh(),
      ),
    ).rejects.toThrow(/appears twice/);
    await expect(extract(tar([['a.vmdk', 'x'.repeat(2000)]]), 1000, await fresh())).rejects.toThrow(
      /limits.maxImageBytes/,
    );
    await expect(
      extract(
        tar([
          ['vm.ovf', OVF],
          ['a.vmdk', 'x'],
        ]),
        1 << 20,
        await fresh(),
      ),
    ).rejects.toThrow(/names disk "b.vhd", which is not a member/);
  });
});
