import { request } from 'node:http';
import { connect } from 'node:net';
import type { ComputeService, NodeMetadata } from '@vmkit/core';
import type { WaitFor } from '../commands/wait-flag.js';

/** How long one probe may take, and the pause between probes of a node that does not answer yet. */
const PROBE_MS = 3000;
const PAUSE_MS = 1000;
/**
 * QEMU's user networking accepts a connection on the host port before the guest does, and closes
 * it when the guest refuses: a connection still open after this long was not refused at once.
 */
const SETTLE_MS = 1500;

/** The host address and port of each TCP forward of a node. */
function tcpForwards(node: NodeMetadata): Array<{ host: string; port: number; guestPort: number }> {
  return node.network.nics.flatMap((nic) =>
    nic.portForwards
      .filter((f) => f.protocol === 'tcp')
      .map((f) => ({
        host: f.hostIp === '0.0.0.0' ? '127.0.0.1' : f.hostIp,
        port: f.hostPort,
        guestPort: f.guestPort,
      })),
  );
}

/** Whether a TCP connection to host:port opens and is not closed by the far side within SETTLE_MS. */
function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    let timer = setTimeout(() => finish(false), PROBE_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(true), SETTLE_MS);
    });
    socket.once('data', () => finish(true));
    socket.once('end', () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/**
 * Whether an SSH server answers on host:port: it sends its identification string first
 * (`SSH-2.0-…`, RFC 4253 section 4.2), which QEMU's user networking cannot fake for a guest whose
 * sshd is not up yet.
 */
function sshAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let seen = '';
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), PROBE_MS);
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (seen.length >= 4) finish(seen.startsWith('SSH-'));
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/** Whether `GET http://host:port/path` answers 2xx or 3xx. */
function httpAnswers(host: string, port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: PROBE_MS }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** Why a node cannot be waited for the way asked, or undefined when it can. */
export function unwaitable(node: NodeMetadata, wait: WaitFor): string | undefined {
  if (wait.kind === 'agent') return undefined;
  const forwards = tcpForwards(node);
  if (wait.kind === 'ssh')
    return forwards.some((f) => f.guestPort === 22)
      ? undefined
      : `node ${node.name} has no forward of guest port 22 for ssh to answer on (add -p 22)`;
  if (forwards.length === 0) return `node ${node.name} has no TCP port forward to check (add -p PORT)`;
  if (wait.kind === 'http' && forwards.length > 1)
    return `node ${node.name} forwards ${forwards.length} TCP ports; http: checks one (give one -p)`;
  return undefined;
}

/**
 * Resolves once every node answers as `wait` asks (`port`: each TCP forward accepts and keeps a
 * connection; `http`: a GET of the path through the node's TCP forward answers 2xx or 3xx; `ssh`:
 * the forward of guest port 22 greets with an SSH identification string).
 * Returns the names of the nodes that did not answer before `deadline` (epoch ms) or the signal.
 */
export async function waitForNodes(
  nodes: readonly NodeMetadata[],
  wait: WaitFor,
  deadline: number,
  signal: AbortSignal,
): Promise<string[]> {
  const answers = async (node: NodeMetadata): Promise<boolean> => {
    const forwards = tcpForwards(node).filter((f) => wait.kind !== 'ssh' || f.guestPort === 22);
    for (const f of forwards) {
      const ok =
        wait.kind === 'http'
          ? await httpAnswers(f.host, f.port, wait.path)
          : wait.kind === 'ssh'
            ? await sshAnswers(f.host, f.port)
            : await portAnswers(f.host, f.port);
      if (!ok) return false;
    }
    return true;
  };
  const pending = new Set(nodes);
  while (pending.size > 0 && Date.now() < deadline && !signal.aborted) {
    for (const node of [...pending]) if (await answers(node)) pending.delete(node);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
  return [...pending].map((n) => n.name);
}

/**
 * Resolves once every node's guest agent answers (`ComputeService.waitForNode`, `until: 'agent'`).
 * Returns the names of the nodes whose agent did not answer before `deadline` (epoch ms); any
 * other failure (no agent channel: `UNSUPPORTED`; Ctrl-C: `ABORTED`) is thrown.
 */
export async function waitForAgents(
  service: Pick<ComputeService, 'waitForNode'>,
  nodes: readonly NodeMetadata[],
  deadline: number,
  signal: AbortSignal,
): Promise<string[]> {
  const timeoutMs = Math.max(1, deadline - Date.now());
  const settled = await Promise.allSettled(
    nodes.map((n) => service.waitForNode(n.id, { until: 'agent', timeoutMs, signal })),
  );
  const late: string[] = [];
  for (const [i, outcome] of settled.entries()) {
    if (outcome.status === 'fulfilled') continue;
    const code = (outcome.reason as { code?: unknown } | null)?.code;
    if (code !== 'TIMEOUT') throw outcome.reason;
    late.push(nodes[i]?.name ?? '');
  }
  return late;
}
