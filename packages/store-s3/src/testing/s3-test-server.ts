import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Options of {@link startTestS3Server}. */
export interface TestS3ServerOptions {
  /** Where the server keeps its objects (default: a new temp directory, removed by `dispose`). */
  readonly directory?: string;
  /** Port on 127.0.0.1 (default: any free one). */
  readonly port?: number;
  /** Honour `If-None-Match: *` on writes, as AWS S3 does (default true). */
  readonly conditionalWrites?: boolean;
}

/** A running S3-compatible server (s3rver) in a child process on loopback. */
export interface TestS3Server {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** The port it listens on. */
  readonly port: number;
  /** Its data directory. */
  readonly directory: string;
  /** Access key and secret s3rver accepts. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The server's process id. */
  readonly pid: number;
  /** Stops it: `SIGTERM` closes cleanly, `SIGKILL` kills it at once (mid-request). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** Stops it and removes a directory it created. */
  dispose(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./s3-server-main.ts', import.meta.url));

/** Starts the test S3 server in a child process and waits until it listens. */
export async function startTestS3Server(options: TestS3ServerOptions = {}): Promise<TestS3Server> {
  const ownDir = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'vmkit-s3-')));
  const conditional = options.conditionalWrites ?? true;
  let child: ChildProcess | undefined;
  let port = options.port ?? 0;

  const launch = async (): Promise<void> => {
    // s3rver encrypts continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
    const proc = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', MAIN], {
      env: {
        ...process.env,
        VMKIT_S3_DIR: directory,
        VMKIT_S3_PORT: String(port),
        VMKIT_S3_CONDITIONAL: conditional ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`S3 server did not start in 30 s: ${stderr}`)), 30_000);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`S3 server exited with ${code} before listening: ${stderr}`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      });
    });
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    directory,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      if (ownDir) await rm(directory, { recursive: true, force: true });
    },
  };
}
