import type { CliIo } from './cli-io.js';

/** Standard input handed to a guest command or copy, and its release once that is done. */
export interface PassedStdin {
  /** Its bytes, read as they are asked for (bounded memory). */
  readonly bytes: AsyncIterable<Uint8Array>;
  /** Stops reading it (a command that exited before reading all of it must not keep vmkit open). */
  release(): void;
}

/**
 * The process's standard input as bytes, or `undefined` when there is none or it is a terminal
 * (a terminal is what a person types on, not data for the guest).
 */
export function passedStdin(io: CliIo): PassedStdin | undefined {
  const stdin = io.stdin;
  if (stdin === undefined || stdin.isTTY === true) return undefined;
  let ended = false;
  stdin.once('end', () => {
    ended = true;
  });
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for await (const chunk of stdin as AsyncIterable<Buffer | string>)
      yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
  return {
    bytes: bytes(),
    release() {
      const stream = stdin as NodeJS.ReadableStream & { destroy?: () => void };
      if (!ended) stream.destroy?.();
    },
  };
}
