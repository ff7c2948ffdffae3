import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/logger.js';

/** Options of {@link startAnswerServer}. */
export interface AnswerServerOptions {
  /** The files served, by name. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Address bound on the host (default `127.0.0.1`: QEMU's user networking reaches it as 10.0.2.2). */
  readonly bindAddress?: string;
  /** The host's address as the guest sees it (default `10.0.2.2`, QEMU's user-networking gateway). */
  readonly guestAddress?: string;
  /** Where each answer is logged (by name and size, never its content). */
  readonly logger: Logger;
  /** What the log lines name (the master). */
  readonly label: string;
  /**
   * Names the guest may call (`GET`, `HEAD` or `POST` of `/<prefix>/<name>`, answered 204) to say
   * something happened, such as an install that finished (see `InstallFinished`); recorded in
   * {@link AnswerServer.calls}.
   */
  readonly calls?: readonly string[];
}

/** A running {@link startAnswerServer}. */
export interface AnswerServer {
  /** The base URL as the guest sees it, with the build's unguessable path: `http://10.0.2.2:PORT/<random>`. */
  readonly url: string;
  /** The port bound on the host. */
  readonly port: number;
  /** Names of the files fetched so far, in order. */
  readonly served: readonly string[];
  /** Names of the calls made so far, in order (see {@link AnswerServerOptions.calls}). */
  readonly calls: readonly string[];
  /** Stops answering and closes every connection; idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a build's answer files over HTTP for the length of the build: on a port the system
 * hands out when it binds (held by this process until {@link AnswerServer.close}), only `GET` and
 * `HEAD` of `/<prefix>/<name>` where the prefix is 24 random bytes made for this server, and the
 * {@link AnswerServerOptions.calls} under the same prefix; anything else answers 404 with nothing
 * about what exists. Each answer is logged by name and size, each call by name.
 */
export async function startAnswerServer(options: AnswerServerOptions): Promise<AnswerServer> {
  const prefix = `/${randomBytes(24).toString('base64url')}`;
  const served: string[] = [];
  const calls: string[] = [];
  const { logger, label, files } = options;
  const callable = new Set(options.calls ?? []);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const name = path.startsWith(`${prefix}/`) ? decodedName(path.slice(prefix.length + 1)) : undefined;
    if (name !== undefined && callable.has(name) && ['GET', 'HEAD', 'POST'].includes(req.method ?? '')) {
      // Each call is kept (and logged) once: a guest repeating it grows nothing.
      if (!calls.includes(name)) {
        calls.push(name);
        logger.info('answer server: called', { master: label, call: name });
      }
      req.resume();
      res.writeHead(204).end();
      return;
    }
    const body = name === undefined ? undefined : files.get(name);
    if (name === undefined || body === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      logger.warn('answer server: refused a request', { master: label, method: req.method });
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    served.push(name);
    logger.info('answer server: served', { master: label, file: name, bytes: body.byteLength });
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.byteLength });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.bindAddress ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.guestAddress ?? '10.0.2.2'}:${port}${prefix}`,
    port,
    served,
    calls,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A path segment decoded; `undefined` for a malformed escape (a guest's request never throws here). */
function decodedName(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
