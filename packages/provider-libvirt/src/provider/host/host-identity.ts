import type { ProviderHost } from '@vmkit/core/spi';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { parseXml } from '../xml/xml-text.js';

/** Who the provider is talking to: its provider id, and the host behind the connection. */
export interface LibvirtIdentity {
  /** `libvirt:<host>:<driver URI>`, e.g. `libvirt:6f80a6ea-…:qemu:///system` or `libvirt:hostname=vm:qemu:///system`. */
  readonly id: string;
  /** The host's identity and whether it is this machine. */
  readonly host: ProviderHost;
}

/** The host UUID in libvirt's capabilities XML (`<host><uuid>`), when it reports one. */
export function readHostUuid(capsXml: string): string | undefined {
  const doc = parseXml(capsXml) as { capabilities?: { host?: { uuid?: unknown } } };
  const uuid = doc.capabilities?.host?.uuid;
  return typeof uuid === 'string' && /^[0-9a-f-]{32,36}$/i.test(uuid.trim())
    ? uuid.trim().toLowerCase()
    : undefined;
}

/** The SMBIOS system UUID in libvirt's sysinfo XML (`<system><entry name='uuid'>`), when present. */
export function readSysinfoUuid(sysinfoXml: string): string | undefined {
  const match = /<system>[\s\S]*?<entry name=['"]uuid['"]>\s*([0-9a-fA-F-]{32,36})\s*<\/entry>/.exec(
    sysinfoXml,
  );
  return match?.[1]?.toLowerCase();
}

/** The provider id of earlier versions, which named the URI only: read to migrate catalogues. */
export function legacyLibvirtId(uri: string): string {
  return `libvirt:${uri}`;
}

/**
 * Names the host behind a connection, plus the driver URI the daemon opened (so `qemu:///system`
 * and `qemu:///session` of one host differ while two hosts' `qemu:///system` differ too). The
 * host is, in order: the `hostId` the caller configured; the daemon's host UUID when the host's
 * SMBIOS data confirms it (libvirt makes up a random UUID at each start where the machine has no
 * SMBIOS, which would move the catalogue at every daemon restart); else the daemon's hostname.
 * The host is local when the connection is a unix socket of this machine; `+tcp` and `+ssh`
 * connections are remote, even to a loopback address (the daemon may be a tunnel's far end).
 */
export async function readLibvirtIdentity(
  client: LibvirtClient,
  capsXml: string,
  configured?: string,
): Promise<LibvirtIdentity> {
  const hostId =
    configured ?? (await stableHostUuid(client, capsXml)) ?? `hostname=${await client.getHostname()}`;
  return {
    id: `libvirt:${hostId}:${client.target.remoteName}`,
    host: { id: hostId, local: client.target.transport === 'unix' },
  };
}

async function stableHostUuid(client: LibvirtClient, capsXml: string): Promise<string | undefined> {
  const uuid = readHostUuid(capsXml);
  if (!uuid) return undefined;
  const smbios = await client.getSysinfo().then(readSysinfoUuid, () => undefined);
  return smbios === uuid ? uuid : undefined;
}
