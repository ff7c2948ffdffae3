import { connect, createServer } from 'node:net';
import { type AnswerSession, type BoundPortForward, sleep } from '@vmkit/core/spi';

/** How often a guest port is tried while the installer runs, in ms. */
const PORT_PROBE_EVERY_MS = 1000;
/** What a try sends: a request an HTTP server answers (an SSH server sends its banner first anyway). */
const PORT_PROBE_REQUEST = 'HEAD / HTTP/1.0\r\n\r\n';
/** How long one try may wait for the guest's bytes, in ms. */
const PORT_ANSWER_MS = 5000;

/**
 * Resolves true when a connection to `host:port` brings bytes from the guest: its banner, or its
 * answer to the {@link PORT_PROBE_REQUEST} sent (an HTTP server's status line). A connection that is only accepted
 * does not count: QEMU's forward accepts at once, then holds the connection while the guest's
 * network is not up yet, and closes it when the guest refuses.
 */
function portAnswers(host: string, port: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, signal });
    const end = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => end(false), PORT_ANSWER_MS);
    socket.once('connect', () => socket.write(PORT_PROBE_REQUEST));
    socket.once('data', () => end(true));
    socket.once('error', () => end(false));
    socket.once('close', () => end(false));
  });
}

/** A running watch for an install's "finished" signal other than the power-off (see {@link watchInstallSignal}). */
export interface InstallSignalWatch {
  /** What is awaited, for messages: `port 22 answering` or `call done`. */
  readonly what: string;
  /** True once the signal was seen. */
  readonly seen: boolean;
  /** Stops watching; idempotent. */
  stop(): void;
}

/**
 * A host port the system hands out on 127.0.0.1 for the installer's forward of the guest port an
 * `installFinished: { port }` names (QEMU binds it when the installer starts); `undefined`
 * without such a signal.
 */
export async function installPortForward(answers: AnswerSession): Promise<BoundPortForward | undefined> {
  const finished = answers.installFinished;
  if (typeof finished !== 'object' || !('port' in finished)) return undefined;
  const hostPort = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  return {
    name: 'install-finished',
    protocol: 'tcp',
    hostIp: '127.0.0.1',
    hostPort,
    guestPort: finished.port,
  };
}

/**
 * Watches for the install's signal: the `installFinished` call reaching the answer server, or
 * the guest port answering through `forward` (tried every second: a connection that brings bytes
 * from the guest, see {@link portAnswers}).
 * `undefined` when the power-off is the signal.
 */
export function watchInstallSignal(
  answers: AnswerSession,
  forward: BoundPortForward | undefined,
  signal: AbortSignal,
): InstallSignalWatch | undefined {
  const finished = answers.installFinished;
  if (finished === 'poweroff') return undefined;
  if ('call' in finished) {
    const server = answers.server;
    return {
      what: `call ${finished.call}`,
      get seen() {
        return server?.calls.includes(finished.call) ?? false;
      },
      stop() {},
    };
  }
  const stopper = new AbortController();
  const both = AbortSignal.any([signal, stopper.signal]);
  let seen = false;
  void (async () => {
    while (!both.aborted && forward) {
      if (await portAnswers(forward.hostIp, forward.hostPort, both)) {
        seen = !both.aborted;
        return;
      }
      await sleep(PORT_PROBE_EVERY_MS, both).catch(() => {});
    }
  })();
  return {
    what: `port ${finished.port} answering`,
    get seen() {
      return seen;
    },
    stop: () => stopper.abort(),
  };
}
