import type { ProviderHost } from '@vmkit/core/spi';

/**
 * The host a VirtualBox web service runs on, as its URL names it: VirtualBox's web service reports
 * no host name or UUID (`IHost` has a DNS `domainName` only), so the URL's host is the identity.
 * A loopback URL is this machine (its NAT port forwards bind here and are probed here); any other
 * is remote, and core keeps its port leases apart and does not probe them locally.
 */
export function vboxHostOf(url: string): ProviderHost {
  const hostname = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const local = hostname === 'localhost' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);
  return { id: hostname, local };
}
