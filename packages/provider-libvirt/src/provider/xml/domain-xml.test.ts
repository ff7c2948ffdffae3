import { describe, expect, it } from 'vitest';
import { DOMAIN_XML_CASES } from '../../../test-support/domain-xml-cases.js';
import { readNodeMetadata, renderNodeMetadata } from '../node/node-metadata.js';
import { buildDomainXml, type DomainXmlSpec, qemuNetArgs } from './domain-xml.js';

const [pcCase, q35Case, testCase, efiCase, shareCase, , leanCase] = Object.values(DOMAIN_XML_CASES);

describe('buildDomainXml', () => {
  it('boots a kernel with an escaped command line and forwards ports through QEMU user networking', () => {
    const xml = buildDomainXml(pcCase!);
    expect(xml).toContain("<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>");
    expect(xml).toContain('<genid>8b1a4c2e-5d6f-4a3b-9c8d-7e6f5a4b3c2d</genid>');
    expect(buildDomainXml(shareCase as DomainXmlSpec)).toContain('  <genid/>\n');
    expect(buildDomainXml(q35Case!)).not.toContain('genid');
    expect(xml).toContain('<cmdline>console=ttyS0 a=&quot;b c&quot; &lt;x&gt;</cmdline>');
    expect(xml).toContain(
      "<source pool='vmkit' volume='vmkit-web-1.qcow2'/><target dev='vda' bus='virtio'/>",
    );
    expect(xml).toContain("<target dev='hdc' bus='ide'/><readonly/>");
    expect(xml).toContain(
      "<qemu:arg value='user,id=vmkitnet0,hostfwd=tcp:127.0.0.1:40080-:80,hostfwd=udp:0.0.0.0:40053-10.0.2.15:53'/>",
    );
    expect(xml).toContain(
      "<qemu:arg value='virtio-net-pci,netdev=vmkitnet0,mac=52:54:00:12:34:56,bus=pci.0,addr=0x10,romfile='/>",
    );
    expect(xml).toContain("<memballoon model='none'/>");
    expect(xml).not.toContain('<interface');
  });

  it('uses virtio-scsi CD-ROMs and the PCIe root bus on q35, and libvirt interfaces for other attachments', () => {
    const xml = buildDomainXml(q35Case!);
    expect(xml).toContain("<controller type='scsi' index='0' model='virtio-scsi'/>");
    expect(xml).toContain("<target dev='sda' bus='scsi'/>");
    expect(xml).toContain("<target dev='vdb' bus='virtio'/><readonly/>");
    expect(xml).toContain("<source bridge='br0'/>");
    expect(xml).toContain(
      "<interface type='network'><mac address='52:54:00:00:00:03'/><source network='vmkit-host'/>",
    );
    expect(xml).toContain("<source network='vmkit-int'/>");
    expect(xml).toContain('bus=pcie.0,addr=0x10');
    expect(xml).toContain("<serial type='file'><source path='/var/log/libvirt/qemu/vmkit-q35.log'/>");
    expect(xml).toContain("<boot dev='hd'/>");
  });

  it('renders NAT as a user interface where QEMU arguments are not available', () => {
    const xml = buildDomainXml(testCase!);
    expect(xml).toContain("<domain type='test'>");
    expect(xml).toContain("<interface type='user'><mac address='52:54:00:00:00:09'/>");
    expect(xml).not.toContain('qemu:commandline');
    expect(xml).toContain("<boot dev='cdrom'/>");
  });

  it('boots UEFI from OVMF as read-only pflash with the given NVRAM, and BIOS without either', () => {
    const efi = buildDomainXml(efiCase as DomainXmlSpec);
    expect(efi).toContain("<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>");
    expect(efi).toContain('<nvram>/var/lib/libvirt/vmkit/vmkit-efi-VARS.fd</nvram>');
    const { firmware: _, ...biosCase } = efiCase as DomainXmlSpec;
    const bios = buildDomainXml(biosCase);
    expect(bios).not.toMatch(/<loader|<nvram/);
    // A CD-ROM (the config drive) is virtio-scsi under UEFI (Linux under OVMF never found it on
    // IDE), IDE under BIOS on pc.
    expect(efi).toContain("<controller type='scsi' index='0' model='virtio-scsi'/>");
    expect(efi).toContain("volume='vmkit-efi-config.iso'/><target dev='sda' bus='scsi'/>");
    expect(bios).toContain("volume='vmkit-efi-config.iso'/><target dev='hdc' bus='ide'/>");
    expect(bios).not.toContain("type='scsi'");
  });

  it('shares folders through virtiofs with memfd memory shared with virtiofsd, and none without them', () => {
    const xml = buildDomainXml(shareCase as DomainXmlSpec);
    expect(xml).toContain("<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>");
    expect(xml).toContain(
      "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>" +
        "<source dir='/srv/data &amp; &apos;more&apos;'/><target dir='vmkit0'/></filesystem>",
    );
    expect(xml).toContain("<source dir='/srv/ro'/><target dir='vmkit1'/>");
    // libvirt 9.0 refuses <readonly/> on virtiofs: read-only is the guest's mount option.
    expect(xml).not.toMatch(/<filesystem[^\n]*<readonly\/>/);
    const { sharedFolders: _, ...plain } = shareCase as DomainXmlSpec;
    expect(buildDomainXml(plain)).not.toMatch(/<memoryBacking|<filesystem/);
  });

  it('gives every domain (pc, q35, test) the guest agent channel', () => {
    for (const spec of [pcCase!, q35Case!, testCase!]) {
      expect(buildDomainXml(spec)).toContain(
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
      );
    }
  });

  it('leaves the USB controller and the guest agent channel out of a lean (installer) domain only', () => {
    const lean = buildDomainXml(leanCase!);
    expect(lean).toContain("<controller type='usb' model='none'/>");
    expect(lean).not.toContain('<channel');
    expect(lean).toContain("<serial type='file'><source path='/var/lib/libvirt/vmkit/vmkit-lean.log'/>");
    expect(buildDomainXml({ ...leanCase!, lean: false })).toContain(
      "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
    );
    expect(buildDomainXml(pcCase!)).not.toContain("type='usb'");
  });

  it('places each NAT NIC on its own PCI slot', () => {
    const args = qemuNetArgs(
      [
        { slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards: [] },
        { slot: 2, attachment: 'nat', mac: '52:54:00:00:00:02', portForwards: [] },
        { slot: 1, attachment: 'bridged', hostInterface: 'br0', mac: '52:54:00:00:00:03', portForwards: [] },
      ],
      'pc',
    );
    expect(
      args.filter((a) => a.startsWith('virtio-net-pci')).map((a) => /addr=(0x[0-9a-f]+)/.exec(a)?.[1]),
    ).toEqual(['0x10', '0x12']);
  });
});

describe('node metadata', () => {
  it('round-trips through the domain XML, escaping included', () => {
    const xml = buildDomainXml(pcCase!);
    const meta = readNodeMetadata(xml);
    expect(meta).toMatchObject({
      kind: 'node',
      name: 'web-1',
      group: 'web',
      tags: ['a', 'b'],
      userMetadata: { k: "<v> & it's" },
      ext: { volumes: ['vmkit-web-1.qcow2'] },
    });
  });

  it('ignores domains without vmkit metadata or with metadata of another namespace', () => {
    expect(readNodeMetadata('<domain><name>x</name></domain>')).toBeUndefined();
    expect(
      readNodeMetadata(
        '<domain><metadata><a:node xmlns:a="urn:other">{"kind":"node","name":"x"}</a:node></metadata></domain>',
      ),
    ).toBeUndefined();
    const bad = renderNodeMetadata({ kind: 'node' } as never).replace('{', '{{');
    expect(readNodeMetadata(`<domain><metadata>${bad}</metadata></domain>`)).toBeUndefined();
  });
});
