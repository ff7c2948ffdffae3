import { request } from 'node:http';
import { connect } from 'node:net';
import { invalidArgument, isAbortError, VmkitError } from '../errors/vmkit-error.js';
import { requireRunning } from '../guest/require-running.js';
import type { NodeReadiness, WaitForNodeOptions } from '../model/guest-exec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import { abortedError, sleep } from '../util/abort.js';
import { checkInteger } from '../util/integer-option.js';
import { emitProgress } from '../util/progress.js';
import { answeringAgent, type GuestAccessParts } from './guest-access.js';

/** Default of `WaitForNodeOptions.timeoutMs`: 5 minutes. */
export const DEFAULT_WAIT_TIMEOUT_MS = 5 * 60_000;
/** How long one probe may take. */
const PROBE_TIMEOUT_MS = 5_000;
/** A forwarded connection that stays open this long reached a listener in the guest. */
const PORT_SETTLE_MS = 250;

/** What {@link waitForNode} needs besides the guest access (internal). */
export interface WaitParts extends GuestAccessParts {
  /** The node as it stands now, or `undefined` when it is gone. */
  readonly getNode: (id: string) => Promise<NodeMetadata | undefined>;
}

/** Checks `until`; returns a short description for messages. */
export function checkReadiness(until: unknown): string {
  if (until === 'agent' || until === 'ssh') return until;
  if (typeof until === 'object' && until !== null) {
    const u = until as { port?: unknown; http?: unknown };
    if (u.http !== undefined) {
      if (typeof u.http !== 'string' || !u.http.startsWith('/'))
        throw invalidArgument('until.http', 'must be a path starting with /');
      const port = u.port === undefined ? 80 : checkInteger('until.port', u.port, { max: 65535 });
      return `http ${port}${u.http}`;
    }
    if (u.port !== undefined) return `port ${checkInteger('until.port', u.port, { max: 65535 })}`;
  }
  throw invalidArgument('until', "must be 'agent', 'ssh', { port } or { http: path, port? }");
}

/** Where the host reaches guest TCP `port`: its forwarded host port, else each private address. */
function endpoints(node: NodeMetadata, port: number): Array<{ host: string; port: number }> {
  const forwards = node.network.nics.flatMap((n) =>
    n.portForwards.filter((f) => f.protocol === 'tcp' && f.guestPort === port),
  );
  if (forwards.length > 0)
    return forwards.map((f) => ({ host: f.hostIp === '0.0.0.0' ? '127.0.0.1' : f.hostIp, port: f.hostPort }));
  return node.privateAddresses.map((host) => ({ host, port }));
}

/**
 * Resolves when a TCP connection to `host:port` opens and is not closed at once (a forwarding
 * proxy accepts before it knows whether the guest listens; it closes when it does not).
 */
function probePort(host: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, signal });
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`${host}:${port} ${why}`));
    };
    const timer = setTimeout(() => fail('did not answer'), PROBE_TIMEOUT_MS);
    socket.once('error', (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      fail('closed the connection');
    });
    socket.once('connect', () => {
      const settled = () => {
        clearTimeout(timer);
        socket.removeAllListeners('close');
        socket.destroy();
        resolve();
      };
      socket.once('data', settled);
      setTimeout(() => {
        if (!socket.destroyed) settled();
      }, PORT_SETTLE_MS);
    });
  });
}

/** Resolves when `GET path` answers with a status below 400. */
function probeHttp(host: string, port: number, path: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', signal, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 400) resolve();
      else reject(new Error(`GET ${path} on ${host}:${port} answered ${status}`));
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${path} on ${host}:${port} timed out`)));
    req.once('error', reject);
    req.end();
  });
}

async function firstOf(probes: Array<() => Promise<void>>, what: string): Promise<void> {
  if (probes.length === 0) throw new Error(`no forwarded port or known address for ${what} yet`);
  await Promise.any(probes.map((p) => p())).catch((e: AggregateError) => {
    throw e.errors[0] instanceof Error ? e.errors[0] : new Error(String(e.errors[0]));
  });
}

/** One readiness check of a running node; throws why it is not ready. */
async function probe(
  parts: WaitParts,
  node: NodeMetadata,
  until: NodeReadiness,
  signal: AbortSignal,
): Promise<void> {
  if (until === 'agent') {
    const agent = await answeringAgent(parts, node, signal);
    await agent.close?.();
  } else if (until === 'ssh') {
    const transport = await (parts.sshTransport as NonNullable<WaitParts['sshTransport']>)(node, { signal });
    await transport.close();
  } else if ('http' in until) {
    const port = until.port ?? 80;
    await firstOf(
      endpoints(node, port).map((e) => () => probeHttp(e.host, e.port, until.http, signal)),
      `port ${port}`,
    );
  } else {
    await firstOf(
      endpoints(node, until.port).map((e) => () => probePort(e.host, e.port, signal)),
      `port ${until.port}`,
    );
  }
}

/**
 * Waits until node `id` is ready as `until` says, checking again with growing pauses (250 ms to
 * 2 s): `NOT_FOUND` when the node is gone, `CONFLICT` when it stopped or failed, `UNSUPPORTED` when
 * the wait cannot succeed (no agent access, no SSH transport), `TIMEOUT` naming the last reason
 * after `timeoutMs`, `ABORTED` when the signal fires. Emits `wait` progress events.
 */
export async function waitForNode(
  parts: WaitParts,
  id: string,
  options: WaitForNodeOptions,
): Promise<NodeMetadata> {
  const what = checkReadiness(options?.until);
  const timeoutMs =
    options.timeoutMs === undefined ? DEFAULT_WAIT_TIMEOUT_MS : checkInteger('timeoutMs', options.timeoutMs);
  const until = options.until;
  if (until === 'agent') {
    const caps = await parts.provider.capabilities();
    if (!caps.guestAgent || !parts.provider.guestAgent)
      throw new VmkitError(
        'UNSUPPORTED',
        `provider ${parts.provider.name} has no guest agent access (capability guestAgent)`,
        {
          details: { node: id },
        },
      );
  }
  if (until === 'ssh' && !parts.sshTransport)
    throw new VmkitError('UNSUPPORTED', 'no SSH transport is configured', { details: { node: id } });
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let pause = 250;
  let attempt = 0;
  let last = 'not checked yet';
  for (;;) {
    attempt++;
    const node = await parts.getNode(id);
    if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
    if (node.status === 'running') {
      try {
        await probe(parts, node, until, signal);
        emitProgress(options.onProgress, {
          phase: 'wait',
          node: node.name,
          fraction: 1,
          message: `node ${node.name}: ${what} ready`,
        });
        return node;
      } catch (error) {
        if (!signal.aborted && VmkitError.is(error) && !error.retryable && error.code !== 'UNSUPPORTED')
          throw error;
        last = error instanceof Error ? error.message : String(error);
      }
    } else if (node.status === 'pending' || node.status === 'unknown') {
      last = `node is ${node.status}`;
    } else {
      requireRunning(id, node);
    }
    emitProgress(options.onProgress, {
      phase: 'wait',
      node: node.name,
      message: `node ${node.name}: waiting for ${what} (attempt ${attempt}: ${last})`,
    });
    try {
      await sleep(pause, signal);
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(options.signal, `waitForNode ${id}`);
      if (!isAbortError(error)) throw error;
    }
    if (deadline.aborted)
      throw new VmkitError(
        'TIMEOUT',
        `node ${node.name}: ${what} not ready after ${timeoutMs} ms (${last})`,
        {
          details: { node: node.name, until: what, timeoutMs, last },
        },
      );
    pause = Math.min(pause * 2, 2000);
  }
}
