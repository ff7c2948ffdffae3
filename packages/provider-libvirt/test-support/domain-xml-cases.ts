import { NODE_RECORD_VERSION } from '@vmkit/core/spi';
import { renderNodeMetadata } from '../src/provider/node/node-metadata.js';
import type { DomainXmlSpec } from '../src/provider/xml/domain-xml.js';

/** Domain specs covering every boot kind, disk role, NIC attachment and machine type (tests only). */
export const DOMAIN_XML_CASES: Readonly<Record<string, DomainXmlSpec>> = {
  'kernel boot, pc, NAT with forwards, CD-ROM config drive, metadata': {
    name: 'vmkit-web-1',
    type: 'qemu',
    machine: 'pc',
    arch: 'x86_64',
    memoryMiB: 256,
    vcpus: 1,
    boot: {
      kind: 'kernel',
      kernel: '/var/lib/libvirt/vmkit/k',
      initrd: '/var/lib/libvirt/vmkit/i',
      cmdline: 'console=ttyS0 a="b c" <x>',
    },
    disks: [
      { pool: 'vmkit', volume: 'vmkit-web-1.qcow2', format: 'qcow2', role: 'disk' },
      { pool: 'vmkit', volume: 'vmkit-web-1-config.iso', format: 'raw', role: 'cdrom' },
    ],
    nics: [
      {
        slot: 0,
        attachment: 'nat',
        mac: '52:54:00:12:34:56',
        portForwards: [
          { name: 'tcp-80', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 40080, guestPort: 80 },
          {
            name: 'udp-53',
            protocol: 'udp',
            hostIp: '0.0.0.0',
            hostPort: 40053,
            guestIp: '10.0.2.15',
            guestPort: 53,
          },
        ],
      },
    ],
    qemuCommandLine: true,
    metadata: renderNodeMetadata({
      v: NODE_RECORD_VERSION,
      kind: 'node',
      name: 'web-1',
      group: 'web',
      imageId: 'img',
      hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
      network: { nics: [] },
      tags: ['a', 'b'],
      userMetadata: { k: "<v> & it's" },
      linkedClone: true,
      createdAt: '2025-01-01T00:00:00.000Z',
      master: 'm.qcow2',
      ext: { volumes: ['vmkit-web-1.qcow2'] },
    }),
  },
  'disk boot, q35, virtio-scsi CD-ROM, bridged, host-only and internal NICs, console log': {
    name: 'vmkit-q35',
    type: 'qemu',
    machine: 'q35',
    memoryMiB: 512,
    vcpus: 2,
    boot: { kind: 'disk' },
    disks: [
      { pool: 'vmkit', volume: 'root.qcow2', format: 'qcow2', role: 'disk' },
      { pool: 'vmkit', volume: 'cfg.iso', format: 'raw', role: 'cdrom' },
      { pool: 'vmkit', volume: 'cfg.img', format: 'raw', role: 'disk', readonly: true },
    ],
    nics: [
      { slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards: [] },
      { slot: 1, attachment: 'bridged', hostInterface: 'br0', mac: '52:54:00:00:00:02', portForwards: [] },
      { slot: 2, attachment: 'hostOnly', network: 'vmkit-host', mac: '52:54:00:00:00:03', portForwards: [] },
      { slot: 3, attachment: 'internal', network: 'vmkit-int', mac: '52:54:00:00:00:04', portForwards: [] },
    ],
    qemuCommandLine: true,
    consoleLog: '/var/log/libvirt/qemu/vmkit-q35.log',
  },
  'CD-ROM installer on the test driver (user networking as an interface)': {
    name: 'vmkit-install-x',
    type: 'test',
    machine: 'pc',
    memoryMiB: 128,
    vcpus: 1,
    boot: { kind: 'cdrom' },
    disks: [
      { pool: 'default-pool', volume: 'x.qcow2', format: 'qcow2', role: 'disk' },
      { pool: 'default-pool', volume: 'x.iso', format: 'raw', role: 'cdrom' },
    ],
    nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:09', portForwards: [] }],
    qemuCommandLine: false,
  },
  'UEFI: OVMF read-only pflash and the node NVRAM, kernel boot': {
    name: 'vmkit-efi',
    type: 'qemu',
    machine: 'pc',
    arch: 'x86_64',
    memoryMiB: 256,
    vcpus: 1,
    boot: { kind: 'kernel', kernel: '/p/k', initrd: '/p/i', cmdline: 'console=ttyS0' },
    firmware: {
      loader: '/usr/share/OVMF/OVMF_CODE_4M.fd',
      nvram: '/var/lib/libvirt/vmkit/vmkit-efi-VARS.fd',
    },
    disks: [
      { pool: 'vmkit', volume: 'vmkit-efi.qcow2', format: 'qcow2', role: 'disk' },
      { pool: 'vmkit', volume: 'vmkit-efi-config.iso', format: 'raw', role: 'cdrom' },
    ],
    nics: [],
    qemuCommandLine: true,
  },
  'virtiofs shared folders with shared memfd memory, disk boot': {
    name: 'vmkit-share',
    type: 'qemu',
    machine: 'pc',
    arch: 'x86_64',
    memoryMiB: 512,
    vcpus: 1,
    boot: { kind: 'disk' },
    disks: [{ pool: 'vmkit', volume: 'vmkit-share.qcow2', format: 'qcow2', role: 'disk' }],
    nics: [],
    qemuCommandLine: true,
    sharedFolders: [
      { tag: 'vmkit0', hostPath: "/srv/data & 'more'" },
      { tag: 'vmkit1', hostPath: '/srv/ro' },
    ],
  },
};
