import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import {
  copyFromNode,
  copyToNode,
  type GuestOperationParts,
  runScriptOnNode,
} from '../compute/guest-operations.js';
import { waitForNode } from '../compute/wait-for-node.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { nicAddressesFromGuest } from '../guest/nic-addresses-from-guest.js';
import type { NicAddresses } from '../model/nic-addresses.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { GuestInterface } from '../spi/guest-agent.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import { silentLogger } from '../util/logger.js';

/** What the exec/copy/address checks of the provider contract read from the running suite. */
export interface GuestExecSubject {
  readonly provider: HypervisorProvider;
  /** The run's unique name prefix. */
  readonly run: string;
  /** A clone spec for a node of this name. */
  readonly cloneSpec: (name: string) => CloneSpec;
  /** Records a node for the suite's cleanup. */
  readonly made: string[];
  /** How long a started node may take until its agent answers (ms). */
  readonly agentTimeoutMs: number;
}

/** Prints the guest's interfaces: `mac NAME MAC` lines, then `ip -o addr` (iproute2 and busybox alike). */
export const GUEST_INTERFACES_SCRIPT =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'for i in /sys/class/net/*; do echo "mac ${i##*/} $(cat "$i/address")"; done; ip -o addr';

/** The interfaces the guest prints with {@link GUEST_INTERFACES_SCRIPT}. */
export function parseGuestInterfaces(text: string): GuestInterface[] {
  const byName = new Map<
    string,
    { name: string; mac?: string; addresses: GuestInterface['addresses'][number][] }
  >();
  const entry = (name: string) => {
    const found = byName.get(name) ?? { name, addresses: [] };
    byName.set(name, found);
    return found;
  };
  for (const line of text.split('\n')) {
    const mac = /^mac (\S+) ([0-9a-f:]{17})$/i.exec(line.trim());
    if (mac) {
      entry(mac[1] as string).mac = (mac[2] as string).toLowerCase();
      continue;
    }
    const addr = /^\d+:\s+([^\s@]+)(?:@\S+)?\s+(inet6?)\s+([0-9a-fA-F.:]+)\/(\d+)/.exec(line);
    if (addr)
      entry(addr[1] as string).addresses.push({
        family: addr[2] === 'inet' ? 'ipv4' : 'ipv6',
        address: addr[3] as string,
        prefix: Number(addr[4]),
      });
  }
  return [...byName.values()];
}

/** NIC addresses in a form that compares equal regardless of order and source. */
function comparable(
  nics: readonly NicAddresses[] | undefined,
): Array<{ slot: number; mac: string; addresses: string[] }> {
  return (nics ?? [])
    .map((n) => ({ slot: n.slot, mac: n.mac.toLowerCase(), addresses: [...(n.addresses ?? [])].sort() }))
    .sort((a, b) => a.slot - b.slot);
}

/** What core's guest operations need, over the provider alone (the contract has no service). */
export function contractGuestParts(provider: HypervisorProvider): GuestOperationParts {
  return {
    provider,
    logger: silentLogger,
    getNode: async (id) => {
      const node = await provider.getNode(id);
      return node && ({ ...node, hostPorts: {} } as NodeMetadata);
    },
    background: () => undefined,
  };
}

/**
 * Registers the contract's checks inside running nodes, through core's own guest layer (the code
 * behind `runScriptOnNode`, `copyToNode`, `copyFromNode`, `waitForNode`): a provider whose
 * capabilities say `guestAgent` runs a script (exit code, stdout and stderr apart), takes a small
 * file in and gives it back equal, and reports for each NIC the addresses the guest's own `ip -o
 * addr` prints (matched by MAC); a provider without it is refused `UNSUPPORTED`.
 */
export function itReachesInsideNodes(get: () => GuestExecSubject): void {
  it('runs scripts, copies files and reports the guest addresses through the guest agent, or refuses UNSUPPORTED', async () => {
    const { provider, run, cloneSpec, made, agentTimeoutMs } = get();
    const parts = contractGuestParts(provider);
    const node = await provider.cloneNode(cloneSpec(`${run}-x`));
    made.push(node.id);
    await provider.startNode(node.id);
    const caps = await provider.capabilities();
    if (!caps.guestAgent) {
      const error = await runScriptOnNode(parts, node.id, 'true').catch((e: unknown) => e);
      expect(VmkitError.is(error, 'UNSUPPORTED'), `expected UNSUPPORTED, got ${String(error)}`).toBe(true);
      await provider.destroyNode(node.id);
      return;
    }
    await waitForNode(parts, node.id, { until: 'agent', timeoutMs: agentTimeoutMs });

    const r = await runScriptOnNode(parts, node.id, 'echo out; echo err >&2; exit 3', { transport: 'agent' });
    expect(r).toMatchObject({
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n',
      truncated: false,
      transport: 'agent',
    });

    const data = randomBytes(100_000);
    const guestPath = `/tmp/${run}-contract.bin`;
    const into = await copyToNode(parts, node.id, data, guestPath, { transport: 'agent' });
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const back = await copyFromNode(parts, node.id, guestPath, sink, { transport: 'agent' });
    expect(back.sha256).toBe(into.sha256);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    await runScriptOnNode(parts, node.id, ['rm', '-f', guestPath], { transport: 'agent' });

    // The provider's addresses per NIC equal what the guest prints. Both may lag a DHCP lease: wait
    // (up to 20 s) for every NIC to have one, then (up to agentTimeoutMs) for the two to agree.
    const start = Date.now();
    const patience = start + Math.min(agentTimeoutMs, 20_000);
    let expected: ReturnType<typeof comparable> = [];
    let reported: ReturnType<typeof comparable> = [];
    for (;;) {
      const printed = await runScriptOnNode(parts, node.id, GUEST_INTERFACES_SCRIPT, { transport: 'agent' });
      expected = comparable(nicAddressesFromGuest(node.network, parseGuestInterfaces(printed.stdout)));
      const now = await provider.getNode(node.id);
      expect(now?.nicAddresses, 'a provider with guestAgent reports nicAddresses').toBeDefined();
      reported = comparable(now?.nicAddresses);
      const agreed = JSON.stringify(reported) === JSON.stringify(expected);
      const complete = expected.every((n) => n.addresses.length > 0);
      if ((agreed && (complete || Date.now() > patience)) || Date.now() > start + agentTimeoutMs) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(reported).toEqual(expected);
    await provider.destroyNode(node.id);
  });
}
