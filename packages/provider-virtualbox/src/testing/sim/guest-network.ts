import type { AdapterSettings } from './sim-model.js';

/** One NIC as a simulated guest has it. */
export interface GuestNic {
  /** The guest's name for it (`eth0`, `eth1`, ... in adapter order). */
  readonly name: string;
  /** Its MAC, 12 upper-case hex digits (VirtualBox's form). */
  readonly mac: string;
  /** Its IPv4 address (a /24). */
  readonly ip: string;
}

/**
 * The NICs a guest gets at boot, one per enabled adapter: VirtualBox's NAT gives every guest
 * `10.0.2.15` on a network of its own; other attachments get a `192.168.56.x` address of their
 * own (`next` hands out the last byte).
 */
export function guestNics(adapters: readonly AdapterSettings[], next: () => number): GuestNic[] {
  return adapters
    .filter((a) => a.enabled && a.attachmentType !== 'Null')
    .map((a, n) => ({
      name: `eth${n}`,
      mac: a.mac,
      ip: a.attachmentType === 'NAT' ? '10.0.2.15' : `192.168.56.${100 + (next() % 150)}`,
    }));
}

function colonMac(mac: string): string {
  return mac.toLowerCase().replace(/(..)(?!$)/g, '$1:');
}

/**
 * Files that show a guest's NICs inside its root, as a Linux guest has them:
 * `/sys/class/net/<name>/address`, and an `ip` command (`/usr/sbin/ip`, before busybox's) whose
 * `ip -o addr` prints them (anything else exits 1).
 */
export function guestNetworkFiles(nics: readonly GuestNic[]): Record<string, string> {
  const lines = [
    '1: lo    inet 127.0.0.1/8 scope host lo',
    ...nics.map(
      (nic, i) =>
        `${i + 2}: ${nic.name}    inet ${nic.ip}/24 brd ${nic.ip.replace(/\.\d+$/, '.255')} scope global ${nic.name}`,
    ),
  ];
  const files: Record<string, string> = {
    '/sys/class/net/lo/address': '00:00:00:00:00:00\n',
    '/usr/sbin/ip': [
      '#!/bin/sh',
      '# ip of the simulated guest: `ip -o addr` prints its NICs.',
      'case "$*" in',
      `  "-o addr"|"-o addr show"|"-o a") cat <<'EOF'\n${lines.join('\n')}\nEOF\n  ;;`,
      '  *) echo "ip (simulated): only \'ip -o addr\' is simulated" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  };
  for (const nic of nics) files[`/sys/class/net/${nic.name}/address`] = `${colonMac(nic.mac)}\n`;
  return files;
}

/** The guest properties Guest Additions set for the NICs (`/VirtualBox/GuestInfo/Net/...`). */
export function guestNetworkProperties(nics: readonly GuestNic[]): Map<string, string> {
  const props = new Map<string, string>();
  nics.forEach((nic, n) => {
    const base = `/VirtualBox/GuestInfo/Net/${n}`;
    props.set(`${base}/V4/IP`, nic.ip);
    props.set(`${base}/V4/Netmask`, '255.255.255.0');
    props.set(`${base}/V4/Broadcast`, nic.ip.replace(/\.\d+$/, '.255'));
    props.set(`${base}/MAC`, nic.mac);
    props.set(`${base}/Status`, 'Up');
  });
  props.set('/VirtualBox/GuestInfo/Net/Count', String(nics.length));
  return props;
}
