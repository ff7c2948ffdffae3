import type { BoundNic, BoundPortForward } from '@vmkit/core/spi';
import { xmlEscape } from './xml-text.js';

/** Namespace of QEMU pass-through arguments in domain XML. */
export const QEMU_NAMESPACE = 'http://libvirt.org/schemas/domain/qemu/1.0';

/** Name of the virtio-serial port the QEMU guest agent listens on (`/dev/virtio-ports/<name>`). */
export const GUEST_AGENT_CHANNEL = 'org.qemu.guest_agent.0';

/** How a domain boots. */
export type DomainBoot =
  | { readonly kind: 'disk' }
  | { readonly kind: 'cdrom' }
  | { readonly kind: 'kernel'; readonly kernel: string; readonly initrd: string; readonly cmdline: string };

/**
 * UEFI firmware of a domain: OVMF's code mapped read-only as pflash, and the domain's own
 * variable store (a file vmkit made, never the distribution's template). Absent: BIOS.
 */
export interface DomainFirmware {
  /** Path of the firmware code (`OVMF_CODE_4M.fd`). */
  readonly loader: string;
  /** Path of the domain's own NVRAM file. */
  readonly nvram: string;
}

/** A disk of a domain: a volume of a storage pool. */
export interface DomainDisk {
  readonly pool: string;
  readonly volume: string;
  readonly format: 'qcow2' | 'raw';
  /** `disk` (virtio), `cdrom` (IDE on a BIOS pc, virtio-scsi on q35 and under UEFI), or `vfat` config drive (a second virtio disk). */
  readonly role: 'disk' | 'cdrom';
  readonly readonly?: boolean;
}

/** A host directory shared with the guest through virtiofs (libvirt spawns `virtiofsd` for it). */
export interface DomainSharedFolder {
  /** The mount tag the guest mounts it by. */
  readonly tag: string;
  /** The host directory. */
  readonly hostPath: string;
}

/** Everything {@link buildDomainXml} renders. */
export interface DomainXmlSpec {
  readonly name: string;
  /** Domain type: `qemu`, `kvm`, `test`. */
  readonly type: string;
  readonly machine: 'pc' | 'q35';
  readonly arch?: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly boot: DomainBoot;
  /** UEFI firmware; absent boots BIOS. */
  readonly firmware?: DomainFirmware;
  readonly disks: readonly DomainDisk[];
  readonly nics: readonly BoundNic[];
  /** Whether NAT NICs are QEMU user-mode networking on the command line (qemu/kvm) or `<interface type='user'>`. */
  readonly qemuCommandLine: boolean;
  /** A serialized metadata element to store (see node-metadata.ts). */
  readonly metadata?: string;
  /**
   * The VM generation id (`<genid>`, QEMU's `vmgenid` device): a UUID, or `'auto'` for one
   * libvirt picks. A guest kernel reseeds its random number generator when it changes (Linux ≥
   * 5.18), as it does for each warm clone resumed from one saved template.
   */
  readonly genid?: string;
  /** Path of a file receiving the serial console. */
  readonly consoleLog?: string;
  /**
   * Path of a file where libvirt (virtlogd) keeps a copy of the serial console, which stays a
   * pty (`virsh console` works), and BIOS firmware prints there too (`<bios useserial>`);
   * ignored when `consoleLog` is given.
   */
  readonly serialLog?: string;
  /**
   * Host directories shared through virtiofs. They need the guest's memory shared with
   * `virtiofsd` (memfd backing, libvirt ≥ 6.9), and cannot be made read-only on the host side
   * here: libvirt 9.0 refuses `<readonly/>` on virtiofs, so read-only is the guest's mount option.
   */
  readonly sharedFolders?: readonly DomainSharedFolder[];
  /**
   * Leaves out the devices an installer has no use for: libvirt's default USB controller
   * (`<controller type='usb' model='none'/>`) and the guest agent's virtio-serial channel. Each
   * is a device the installer's hardware detection probes and loads drivers for, which under TCG
   * costs the install time (about 5 % of the real Debian installer's run until its preseed was
   * read, see docs/boot-iso.md). Nodes and post-install domains keep both (default `false`).
   */
  readonly lean?: boolean;
}

/**
 * Renders libvirt domain XML for a node or an installer (validated against libvirt's RNG in tests).
 * Every domain but a `lean` one gets the guest agent's virtio-serial channel
 * ({@link GUEST_AGENT_CHANNEL}; libvirt picks the host socket and adds the virtio-serial
 * controller), so a guest that runs `qemu-ga` answers agent commands.
 */
export function buildDomainXml(spec: DomainXmlSpec): string {
  const q = spec.qemuCommandLine;
  const lines: string[] = [];
  lines.push(`<domain type='${xmlEscape(spec.type)}'${q ? ` xmlns:qemu='${QEMU_NAMESPACE}'` : ''}>`);
  lines.push(`  <name>${xmlEscape(spec.name)}</name>`);
  if (spec.genid === 'auto') lines.push('  <genid/>');
  else if (spec.genid !== undefined) lines.push(`  <genid>${xmlEscape(spec.genid)}</genid>`);
  if (spec.metadata) lines.push(`  <metadata>${spec.metadata}</metadata>`);
  lines.push(`  <memory unit='MiB'>${spec.memoryMiB}</memory>`);
  const shares = spec.sharedFolders ?? [];
  if (shares.length > 0) {
    lines.push(`  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>`);
  }
  lines.push(`  <vcpu>${spec.vcpus}</vcpu>`);
  lines.push('  <os>');
  const arch = spec.arch ? ` arch='${xmlEscape(spec.arch)}'` : '';
  const machine = spec.type === 'test' ? '' : ` machine='${spec.machine}'`;
  lines.push(`    <type${arch}${machine}>hvm</type>`);
  if (spec.firmware) {
    // type='pflash': without it the loader is a ROM, which QEMU refuses for OVMF's split image.
    lines.push(`    <loader readonly='yes' type='pflash'>${xmlEscape(spec.firmware.loader)}</loader>`);
    lines.push(`    <nvram>${xmlEscape(spec.firmware.nvram)}</nvram>`);
  }
  if (spec.boot.kind === 'kernel') {
    lines.push(`    <kernel>${xmlEscape(spec.boot.kernel)}</kernel>`);
    lines.push(`    <initrd>${xmlEscape(spec.boot.initrd)}</initrd>`);
    lines.push(`    <cmdline>${xmlEscape(spec.boot.cmdline)}</cmdline>`);
  } else {
    lines.push(`    <boot dev='${spec.boot.kind === 'cdrom' ? 'cdrom' : 'hd'}'/>`);
  }
  // SeaBIOS speaks on the serial port too, so a kept console shows why a disk did not boot.
  if (spec.serialLog && !spec.consoleLog && !spec.firmware) lines.push(`    <bios useserial='yes'/>`);
  lines.push('  </os>');
  lines.push('  <features><acpi/></features>');
  lines.push('  <on_poweroff>destroy</on_poweroff>');
  lines.push('  <on_reboot>restart</on_reboot>');
  lines.push('  <on_crash>destroy</on_crash>');
  lines.push('  <devices>');
  let virtio = 0;
  let cd = 0;
  // CD-ROMs are IDE on a BIOS pc; on q35 (no IDE) and under UEFI firmware they are virtio-scsi:
  // under OVMF on pc, Linux never finished probing the IDE CD-ROM (libvirt 9.0, QEMU 7.2: the
  // Debian guest found no config drive), while virtio-scsi answers under both firmwares.
  const scsiCdrom = spec.machine === 'q35' || spec.firmware !== undefined;
  const needScsi = scsiCdrom && spec.disks.some((d) => d.role === 'cdrom');
  if (needScsi) lines.push(`    <controller type='scsi' index='0' model='virtio-scsi'/>`);
  for (const disk of spec.disks) {
    const src = `<source pool='${xmlEscape(disk.pool)}' volume='${xmlEscape(disk.volume)}'/>`;
    const driver = `<driver name='qemu' type='${disk.format}'/>`;
    if (disk.role === 'cdrom') {
      const target = scsiCdrom
        ? `<target dev='sd${String.fromCharCode(97 + cd)}' bus='scsi'/>`
        : `<target dev='hd${String.fromCharCode(99 + cd)}' bus='ide'/>`;
      cd++;
      lines.push(`    <disk type='volume' device='cdrom'>${driver}${src}${target}<readonly/></disk>`);
    } else {
      const target = `<target dev='vd${String.fromCharCode(97 + virtio++)}' bus='virtio'/>`;
      lines.push(
        `    <disk type='volume' device='disk'>${driver}${src}${target}${disk.readonly ? '<readonly/>' : ''}</disk>`,
      );
    }
  }
  for (const nic of spec.nics) {
    const mac = `<mac address='${xmlEscape(nic.mac)}'/>`;
    const model = `<model type='virtio'/>`;
    if (nic.attachment === 'nat' && !q) lines.push(`    <interface type='user'>${mac}${model}</interface>`);
    else if (nic.attachment === 'bridged') {
      lines.push(
        `    <interface type='bridge'>${mac}<source bridge='${xmlEscape(nic.hostInterface ?? '')}'/>${model}</interface>`,
      );
    } else if (nic.attachment === 'hostOnly' || nic.attachment === 'internal') {
      lines.push(
        `    <interface type='network'>${mac}<source network='${xmlEscape(nic.network ?? '')}'/>${model}</interface>`,
      );
    }
  }
  for (const share of shares) {
    lines.push(
      `    <filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>` +
        `<source dir='${xmlEscape(share.hostPath)}'/><target dir='${xmlEscape(share.tag)}'/></filesystem>`,
    );
  }
  if (spec.consoleLog) {
    lines.push(
      `    <serial type='file'><source path='${xmlEscape(spec.consoleLog)}'/><target port='0'/></serial>`,
    );
  } else if (spec.serialLog) {
    lines.push(
      `    <serial type='pty'><log file='${xmlEscape(spec.serialLog)}' append='off'/><target port='0'/></serial>`,
    );
  } else {
    lines.push(`    <serial type='pty'><target port='0'/></serial>`);
  }
  lines.push(`    <console type='pty'><target type='serial' port='0'/></console>`);
  if (spec.lean) lines.push(`    <controller type='usb' model='none'/>`);
  else lines.push(`    <channel type='unix'><target type='virtio' name='${GUEST_AGENT_CHANNEL}'/></channel>`);
  lines.push(`    <memballoon model='none'/>`);
  lines.push('  </devices>');
  const args = q ? qemuNetArgs(spec.nics, spec.machine) : [];
  if (args.length > 0) {
    lines.push('  <qemu:commandline>');
    for (const a of args) lines.push(`    <qemu:arg value='${xmlEscape(a)}'/>`);
    lines.push('  </qemu:commandline>');
  }
  lines.push('</domain>');
  return `${lines.join('\n')}\n`;
}

/**
 * QEMU arguments for NAT NICs: user-mode networking with `hostfwd` rules (libvirt 9.0 has no
 * `<portForward>` for user networking without passt), on a fixed PCI address per slot.
 */
export function qemuNetArgs(nics: readonly BoundNic[], machine: 'pc' | 'q35'): string[] {
  const args: string[] = [];
  const bus = machine === 'q35' ? 'pcie.0' : 'pci.0';
  for (const nic of nics) {
    if (nic.attachment !== 'nat') continue;
    const id = `vmkitnet${nic.slot}`;
    const fwds = nic.portForwards.map((f) => `,hostfwd=${hostfwd(f)}`).join('');
    args.push('-netdev', `user,id=${id}${fwds}`);
    const addr = `0x${(0x10 + nic.slot).toString(16)}`;
    args.push('-device', `virtio-net-pci,netdev=${id},mac=${nic.mac},bus=${bus},addr=${addr},romfile=`);
  }
  return args;
}

function hostfwd(f: BoundPortForward): string {
  return `${f.protocol}:${f.hostIp}:${f.hostPort}-${f.guestIp ?? ''}:${f.guestPort}`;
}
