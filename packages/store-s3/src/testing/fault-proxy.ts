import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault to answer with instead of forwarding. */
export interface InjectedFault {
  /** HTTP status to answer. */
  readonly status: number;
  /** S3 error code in the XML body, e.g. `SlowDown`. */
  readonly code: string;
  /** `Retry-After` header value in seconds, if any. */
  readonly retryAfter?: number;
  /** More elements of the XML error body, as AWS adds to some errors (`StringToSign`, ...). */
  readonly fields?: Readonly<Record<string, string>>;
}

/** An HTTP proxy on 127.0.0.1 in front of an S3 server that can answer with faults. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Requests received, by method and path (query included). */
  readonly requests: string[];
  /**
   * Decides per request: a fault, `'reset'` to destroy the connection at once, `'lose-answer'` to
   * forward the request, let the server answer in full, then break the connection without
   * passing the answer on (the server acted; the client never learns), `{ cutAfter }` to forward
   * but break the connection after that many body bytes, `{ flipRequestByte }` to alter one bit
   * of the request body, or `undefined` to forward.
   */
  inject: (
    req: IncomingMessage,
  ) =>
    | InjectedFault
    | 'reset'
    | 'lose-answer'
    | { readonly cutAfter: number }
    | { readonly flipRequestByte: number }
    | undefined;
  /** Rewrites the headers of a request forwarded (e.g. drops `range`); the identity by default. */
  requestHeaders: (req: IncomingMessage, headers: IncomingHttpHeaders) => IncomingHttpHeaders;
  /** Rewrites the headers of an answer passed on (e.g. its `etag`); the identity by default. */
  responseHeaders: (req: IncomingMessage, headers: IncomingHttpHeaders) => IncomingHttpHeaders;
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
    requestHeaders: (_req, headers) => headers,
    responseHeaders: (_req, headers) => headers,
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
    const shaped = typeof fault === 'object' ? fault : undefined;
    if (shaped && 'status' in shaped) {
      req.resume();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${shaped.code}</Code><Message>injected</Message>${xmlFields(shaped.fields)}</Error>`;
      res.writeHead(shaped.status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        ...(shaped.retryAfter === undefined ? {} : { 'retry-after': String(shaped.retryAfter) }),
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
        headers: proxy.requestHeaders(req, { ...req.headers }),
      },
      (up) => {
        if (fault === 'lose-answer') {
          up.resume();
          up.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(up.statusCode ?? 502, proxy.responseHeaders(req, { ...up.headers }));
        if (!shaped || !('cutAfter' in shaped)) {
          up.pipe(res);
          return;
        }
        let left = shaped.cutAfter;
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
    if (shaped && 'flipRequestByte' in shaped) {
      // Silent corruption on the way: one bit of the request body changes, its length does not.
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        const at = shaped.flipRequestByte - seen;
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

function xmlFields(fields: Readonly<Record<string, string>> = {}): string {
  const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return Object.entries(fields)
    .map(([name, value]) => `<${name}>${xmlText(value)}</${name}>`)
    .join('');
}
