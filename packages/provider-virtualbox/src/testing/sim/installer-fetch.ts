import { readIso9660 } from '@vmkit/imaging';
import type { SimMachine } from './sim-model.js';

/** The address of the host as a NAT guest sees it. */
const NAT_HOST = '10.0.2.2';
const BODY_LIMIT = 64 * 1024;

/** The first `url=` (or `preseed/url=`) kernel parameter of an ISO's isolinux and GRUB configurations. */
export async function bootLineUrl(iso: string): Promise<string | undefined> {
  let reader: Awaited<ReturnType<typeof readIso9660>>;
  try {
    reader = await readIso9660(iso);
  } catch {
    return undefined; // Not an ISO the guest's firmware could read a configuration from.
  }
  const configs = reader.files
    .filter((f) => f.type === 'file' && /\.cfg$/i.test(f.path))
    .map((f) => f.path)
    .sort();
  for (const path of configs) {
    const text = Buffer.from(await reader.readFile(path)).toString('latin1');
    const m = /(?:^|\s)(?:preseed\/)?url=(?:"([^"]*)"|(\S+))/m.exec(text);
    if (m) return m[1] ?? m[2];
  }
  return undefined;
}

/**
 * What a simulated installer does with the `url=` on its boot line (the configuration of the DVD
 * it boots): fetches it through its NAT adapter. VirtualBox's NAT engine is the host's network
 * stack as the guest sees it: 10.0.2.2 is the host, and traffic to it reaches the host's loopback
 * only when `INATEngine::localhostReachable` is set (the SDK reference's words); the simulator
 * fetches `http://127.0.0.1:<port><path>` then, and nothing otherwise. Each attempt is recorded
 * on the machine. Resolves whether the installer got its answers (or needed none).
 */
export async function installerFetch(machine: SimMachine): Promise<boolean> {
  const dvd = machine.settings.attachments
    .filter((a) => a.type === 'DVD' && a.medium && !a.medium.virtual)
    .sort((a, b) => a.port - b.port || a.device - b.device)[0];
  if (!dvd?.medium) return true;
  const url = await bootLineUrl(dvd.medium.location);
  if (url === undefined) return true;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    machine.installerFetches.push({ url, status: 0, body: '' });
    return false;
  }
  const reaches = machine.settings.adapters.some(
    (a) => a.enabled && a.attachmentType === 'NAT' && a.localhostReachable,
  );
  if (target.protocol !== 'http:' || target.hostname !== NAT_HOST || !reaches) {
    machine.installerFetches.push({ url, status: 0, body: '' });
    return false;
  }
  const hostUrl = `http://127.0.0.1:${target.port || '80'}${target.pathname}${target.search}`;
  try {
    const response = await fetch(hostUrl, { signal: AbortSignal.timeout(5_000) });
    const body = Buffer.from(await response.arrayBuffer())
      .subarray(0, BODY_LIMIT)
      .toString('utf8');
    machine.installerFetches.push({ url, hostUrl, status: response.status, body });
    return response.ok;
  } catch {
    machine.installerFetches.push({ url, hostUrl, status: 0, body: '' });
    return false;
  }
}
