import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { AgentRunDirs } from '../guest/agent-run-dir.js';
import { AgentTransport } from '../guest/agent-transport.js';
import type { GuestTransport, NodeCredentialSource, SshTransportFactory } from '../guest/guest-transport.js';
import type { GuestTransportKind } from '../model/guest-exec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';

/** What the compute service reaches inside nodes with (internal). */
export interface GuestAccessParts {
  readonly provider: HypervisorProvider;
  readonly sshTransport?: SshTransportFactory | undefined;
  readonly nodeCredentials?: NodeCredentialSource | undefined;
  /** The run directories kept in nodes across calls (a service's own); else one per transport. */
  readonly runDirs?: AgentRunDirs | undefined;
}

const KINDS: readonly GuestTransportKind[] = ['agent', 'ssh', 'auto'];

/** Checks a `transport` option (default `auto`). */
export function transportKind(value: unknown): GuestTransportKind {
  if (value === undefined) return 'auto';
  if (!KINDS.includes(value as GuestTransportKind))
    throw invalidArgument('transport', `must be one of ${KINDS.join(', ')}`, { transport: String(value) });
  return value as GuestTransportKind;
}

/** Why the provider gives no agent, or `undefined` when it does. */
async function noAgentReason(provider: HypervisorProvider): Promise<string | undefined> {
  const caps = await provider.capabilities();
  if (caps.guestAgent && provider.guestAgent) return undefined;
  return `provider ${provider.name} has no guest agent access (capability guestAgent)`;
}

/** An agent session for `node`, with the node's stored login (VirtualBox Guest Control needs it). */
async function openAgent(
  parts: GuestAccessParts,
  node: NodeMetadata,
  signal?: AbortSignal,
): Promise<GuestAgent> {
  const credentials = await parts.nodeCredentials?.forNode(node);
  const open = parts.provider.guestAgent as NonNullable<HypervisorProvider['guestAgent']>;
  return open.call(parts.provider, node.id, {
    ...(credentials ? { credentials } : {}),
    ...(signal ? { signal } : {}),
  });
}

/** Opens an agent and pings it: the agent when it answers; closes it and rethrows otherwise. */
export async function answeringAgent(
  parts: GuestAccessParts,
  node: NodeMetadata,
  signal?: AbortSignal,
): Promise<GuestAgent> {
  const agent = await openAgent(parts, node, signal);
  try {
    await agent.ping(signal ? { signal } : {});
    return agent;
  } catch (error) {
    await agent.close?.().catch(() => undefined);
    throw error;
  }
}

/** The agent transport to `node`, with the run directory the service keeps there. */
function agentTransport(parts: GuestAccessParts, node: NodeMetadata, agent: GuestAgent): AgentTransport {
  return new AgentTransport(agent, parts.runDirs ? { runDir: parts.runDirs.forNode(node.id) } : {});
}

/**
 * Removes the run directories the service kept in its nodes (best effort, within `timeoutMs`: a
 * node gone or not answering is passed over), as the service closes.
 */
export async function removeRunDirs(
  parts: GuestAccessParts,
  getNode: (id: string) => Promise<NodeMetadata | undefined>,
  timeoutMs: number,
): Promise<void> {
  await parts.runDirs?.removeAll(async (id, signal) => {
    const node = await getNode(id);
    if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`);
    return openAgent(parts, node, signal);
  }, timeoutMs);
}

/**
 * The transport to reach inside a running node: `agent` (`UNSUPPORTED` when the provider has no
 * agent access), `ssh` (`UNSUPPORTED` when no SSH transport is configured), or `auto`: the agent when
 * the provider has agent access and the agent answers a ping, else SSH; `UNSUPPORTED` naming why
 * neither is available.
 */
export async function openGuestTransport(
  parts: GuestAccessParts,
  node: NodeMetadata,
  kind: GuestTransportKind,
  signal?: AbortSignal,
): Promise<GuestTransport> {
  const noAgent = kind === 'ssh' ? 'not asked for' : await noAgentReason(parts.provider);
  const noSsh = parts.sshTransport ? undefined : 'no SSH transport is configured';
  if (kind === 'agent') {
    if (noAgent) throw unsupported(node, [noAgent]);
    return agentTransport(parts, node, await openAgent(parts, node, signal));
  }
  if (kind === 'auto' && !noAgent) {
    try {
      return agentTransport(parts, node, await answeringAgent(parts, node, signal));
    } catch (error) {
      if (!VmkitError.is(error, 'UNSUPPORTED')) throw error;
      if (noSsh)
        throw unsupported(node, [`its guest agent does not answer (${error.message})`, noSsh], error);
    }
  }
  if (noSsh) throw unsupported(node, kind === 'auto' ? [noAgent as string, noSsh] : [noSsh]);
  const open = parts.sshTransport as SshTransportFactory;
  if (kind !== 'auto') return open(node, signal ? { signal } : {});
  try {
    return await open(node, signal ? { signal } : {});
  } catch (error) {
    // SSH cannot reach this node either (no port 22, no stored login): both reasons, said once.
    if (!VmkitError.is(error, 'UNSUPPORTED')) throw error;
    throw unsupported(node, [noAgent ?? 'its guest agent does not answer', error.message], error);
  }
}

function unsupported(node: NodeMetadata, reasons: readonly string[], cause?: unknown): VmkitError {
  return new VmkitError('UNSUPPORTED', `cannot reach inside node ${node.name}: ${reasons.join('; ')}`, {
    details: { node: node.name, reasons: [...reasons] },
    ...(cause === undefined ? {} : { cause }),
  });
}
