import { Writable } from 'node:stream';
import { main } from '../src/main.js';
import type { CliIo } from '../src/runtime/cli-io.js';

/** What an in-process run of the command line printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

function sink(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
}

/**
 * Runs `vmkit ARGS` in this process with captured streams (no TTY), from `cwd` with `env`, and
 * `stdin` as standard input when given (none otherwise).
 */
export async function runCli(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  stdin?: CliIo['stdin'],
): Promise<CliRun> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    const io = { stdout: sink(out), stderr: sink(err), env, cwd };
    const code = await main(args, stdin ? { ...io, stdin } : io);
    const stdoutBytes = Buffer.concat(out);
    return {
      code,
      stdout: stdoutBytes.toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      stdoutBytes,
    };
  } finally {
    process.exitCode = saved;
  }
}
