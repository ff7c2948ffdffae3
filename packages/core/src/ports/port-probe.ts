import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** What binding a port showed: free, in use, or an address this host does not have. */
export type BindProbe = 'free' | 'in-use' | 'no-such-address';

/** Tries to bind `port` on `host` and releases it at once. */
export function probeBind(protocol: 'tcp' | 'udp', host: string, port: number): Promise<BindProbe> {
  const outcome = (error: NodeJS.ErrnoException): BindProbe =>
    error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT' ? 'no-such-address' : 'in-use';
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const server = createServer();
      server.once('error', (error) => resolve(outcome(error)));
      server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('free')));
    } else {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', (error) => {
        socket.close();
        resolve(outcome(error));
      });
      socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve('free')));
    }
  });
}

/** Whether `port` can be bound on `host` right now. */
export async function canBind(protocol: 'tcp' | 'udp', host: string, port: number): Promise<boolean> {
  return (await probeBind(protocol, host, port)) === 'free';
}
