import type { ProviderHost } from '@vmkit/core/spi';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { parseXml } from '../xml/xml-text.js';

/** Who the provider is talking to: its provider id, and the host behind the connection. */
export interface LibvirtIdentity {
  /** `libvirt:<host>:<driver URI>`, e.g. `libvirt:6f80a6ea-…:qemu:///system`. */
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

/** The provider id of earlier versions, which named the URI only: read to migrate catalogues. */
export function legacyLibvirtId(uri: string): string {
  return `libvirt:${uri}`;
}

/**
 * Names the host behind a connection: the daemon's host UUID from its capabilities (or, when it
 * reports none, its hostname), plus the driver URI the daemon opened, so `qemu:///system` and
 * `qemu:///session` of one host differ while two hosts' `qemu:///system` differ too. The host is
 * local when the connection is a unix socket of this machine; `+tcp` and `+ssh` connections are
 * remote, even to a loopback address (the daemon may be a tunnel's far end).
 */
export async function readLibvirtIdentity(client: LibvirtClient, capsXml: string): Promise<LibvirtIdentity> {
  const hostId = readHostUuid(capsXml) ?? `hostname=${await client.getHostname()}`;
  return {
    id: `libvirt:${hostId}:${client.target.remoteName}`,
    host: { id: hostId, local: client.target.transport === 'unix' },
  };
}
