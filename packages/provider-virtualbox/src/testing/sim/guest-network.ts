import type { AdapterSettings } from './sim-model.js';

/** One NIC as a simulated guest has it. */
export interface GuestNic {
  /** The guest's name for it (`eth0`, `eth1`, ... in adapter order). */
  readonly name: string;
  /** Its MAC, 12 upper-case hex digits (VirtualBox's form). */
  readonly mac: string;
  /** Its IPv4 address. */
  readonly ip: string;
  /** Its prefix length (default 24). */
  readonly prefix?: number;
}

/**
 * The NICs after cloud-init applied a NoCloud `network-config` version 2 as vmkit writes it
 * (flow YAML, one `key: JSON` line per top-level key): an `ethernets` entry that matches a NIC by
 * MAC and lists an IPv4 `addresses` entry gives it that address and prefix instead of its DHCP
 * one. Anything else (other YAML, version 1) leaves the NICs as they are.
 */
export function withNetworkConfig(nics: readonly GuestNic[], networkConfig: string): GuestNic[] {
  const line = /^ethernets:[ \t]*(\{.*\})[ \t]*$/m.exec(networkConfig)?.[1];
  let ethernets: Record<string, { match?: { macaddress?: string }; addresses?: string[] }> = {};
  try {
    if (line !== undefined && /^version:[ \t]*2[ \t]*$/m.test(networkConfig)) ethernets = JSON.parse(line);
  } catch {
    return [...nics];
  }
  return nics.map((nic) => {
    const entry = Object.values(ethernets).find(
      (e) => e.match?.macaddress?.toLowerCase() === colonMac(nic.mac),
    );
    const cidr = entry?.addresses?.find((a) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(a));
    if (!cidr) return nic;
    const [ip, prefix] = cidr.split('/');
    return { ...nic, ip: ip as string, prefix: Number(prefix) };
  });
}

function netmaskOf(prefix: number): string {
  const n = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function broadcastOf(ip: string, prefix: number): string {
  const n = ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
  const b = (n | (prefix === 32 ? 0 : 0xffffffff >>> prefix)) >>> 0;
  return [b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255].join('.');
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
        `${i + 2}: ${nic.name}    inet ${nic.ip}/${nic.prefix ?? 24} brd ${broadcastOf(nic.ip, nic.prefix ?? 24)} scope global ${nic.name}`,
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
    props.set(`${base}/V4/Netmask`, netmaskOf(nic.prefix ?? 24));
    props.set(`${base}/V4/Broadcast`, broadcastOf(nic.ip, nic.prefix ?? 24));
    props.set(`${base}/MAC`, nic.mac);
    props.set(`${base}/Status`, 'Up');
  });
  props.set('/VirtualBox/GuestInfo/Net/Count', String(nics.length));
  return props;
}
