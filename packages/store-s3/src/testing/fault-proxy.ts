import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault to answer with instead of forwarding. */
export interface InjectedFault {
  /** HTTP status to answer. */
  readonly status: number;
  /** S3 error code in the XML body, e.g. `SlowDown`. */
  readonly code: string;
  /** `Retry-After` header value in seconds, if any. */
  readonly retryAfter?: number;
}

/** An HTTP proxy on 127.0.0.1 in front of an S3 server that can answer with faults. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Requests received, by method and path (query included). */
  readonly requests: string[];
  /**
   * Decides per request: a fault, `'reset'` to destroy the connection at once, `{ cutAfter }` to
   * forward but break the connection after that many body bytes, or `undefined` to forward.
   */
  inject: (
    req: IncomingMessage,
  ) =>
    | InjectedFault
    | 'reset'
    | { readonly cutAfter: number }
    | { readonly flipRequestByte: number }
    | undefined;
  /** Stops the proxy. */
  close(): Promise<void>;
}

/** Starts a {@link FaultProxy} forwarding to `target` (`http://127.0.0.1:PORT`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  const proxy: FaultProxy = {
    endpoint: '',
    requests,
    inject: () => undefined,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const fault = proxy.inject(req);
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault && 'status' in fault) {
      req.resume();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected</Message></Error>`;
      res.writeHead(fault.status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        ...(fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) }),
      });
      res.end(body);
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!fault || !('cutAfter' in fault)) {
          up.pipe(res);
          return;
        }
        let left = fault.cutAfter;
        up.on('data', (chunk: Buffer) => {
          if (left <= 0) return;
          res.write(chunk.subarray(0, left));
          left -= chunk.byteLength;
          if (left <= 0) {
            up.destroy();
            res.socket?.destroy();
          }
        });
      },
    );
    forward.on('error', () => res.destroy());
    if (fault && 'flipRequestByte' in fault) {
      // Silent corruption on the way: one bit of the request body changes, its length does not.
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        const at = fault.flipRequestByte - seen;
        if (at >= 0 && at < chunk.byteLength) chunk[at] = (chunk[at] as number) ^ 1;
        seen += chunk.byteLength;
        forward.write(chunk);
      });
      req.on('end', () => forward.end());
      return;
    }
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(proxy, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return proxy;
}
