import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A handler of the test servers. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP(S) server of a test, with the requests it saw. */
export interface TestServer {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 made with openssl in `dir`: the CA file is the cert. */
export function selfSignedCert(dir: string): { key: Buffer; cert: Buffer; caFile: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert), caFile: cert };
}

/** Starts a loopback server (HTTPS when `tls` is given) answering with `handler`. */
export async function startServer(
  handler: Handler,
  tls?: { key: Buffer; cert: Buffer },
): Promise<TestServer> {
  const requests: string[] = [];
  const listener: Handler = (req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`.trim());
    handler(req, res);
  };
  const server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A handler sending `size` bytes, with a `Content-Length` header or (chunked) without one. */
export function bytesHandler(size: number, withLength: boolean): Handler {
  return (_req, res) => {
    res.writeHead(200, withLength ? { 'content-length': String(size) } : {});
    const chunk = Buffer.alloc(64 * 1024, 7);
    let left = size;
    const pump = () => {
      while (left > 0) {
        const part = chunk.subarray(0, Math.min(left, chunk.length));
        left -= part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  };
}
