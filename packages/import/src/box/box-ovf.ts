import type { ImportedHardware } from '../task-model.js';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/**
 * The OVF 1.0 descriptor of a VirtualBox box: one streamOptimized VMDK (`disk`, `diskBytes` long,
 * `capacity` bytes of virtual size) on a SATA controller, a NAT network card (Vagrant forwards its
 * SSH port through adapter 1), and the CPUs and memory given (default 1 CPU, 512 MiB).
 */
export function boxOvf(opts: {
  name: string;
  disk: string;
  diskBytes: number;
  capacity: number;
  hardware?: ImportedHardware;
}): string {
  const cpus = opts.hardware?.cores ?? 1;
  const ram = opts.hardware?.ramMiB ?? 512;
  const item = (id: number, type: number, body: string) =>
    `      <Item>\n        <rasd:InstanceID>${id}</rasd:InstanceID>\n        <rasd:ResourceType>${type}</rasd:ResourceType>\n${body}      </Item>\n`;
  const line = (tag: string, value: string | number) => `        <rasd:${tag}>${value}</rasd:${tag}>\n`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
    <File ovf:id="file1" ovf:href="${xml(opts.disk)}" ovf:size="${opts.diskBytes}"/>
  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="${opts.capacity}" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks</Info>
    <Network ovf:name="NAT"><Description>NAT network</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${xml(opts.name)}">
    <Info>A virtual machine made by vmkit</Info>
    <Name>${xml(opts.name)}</Name>
    <OperatingSystemSection ovf:id="101">
      <Info>The guest operating system</Info>
      <Description>Linux 2.6 / 3.x / 4.x (64-bit)</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${xml(opts.name)}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>
      </System>
${item(1, 3, `${line('AllocationUnits', 'hertz * 10^6')}${line('ElementName', `${cpus} virtual CPU`)}${line('VirtualQuantity', cpus)}`)}${item(2, 4, `${line('AllocationUnits', 'byte * 2^20')}${line('ElementName', `${ram} MB of memory`)}${line('VirtualQuantity', ram)}`)}${item(3, 20, `${line('Address', 0)}${line('ElementName', 'sataController0')}${line('ResourceSubType', 'AHCI')}`)}${item(4, 17, `${line('AddressOnParent', 0)}${line('ElementName', 'disk1')}${line('HostResource', '/disk/vmdisk1')}${line('Parent', 3)}`)}${item(5, 10, `${line('AutomaticAllocation', 'true')}${line('Connection', 'NAT')}${line('ElementName', 'Ethernet adapter on NAT')}${line('ResourceSubType', 'E1000')}`)}    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}
