import type { ClientChannel } from 'ssh2';
import type { SshSession } from './ssh-session.js';

/** Text a small command may print that is kept (the rest is dropped). */
const MAX_SMALL_OUTPUT = 64 * 1024;

/** What a small command printed, and its exit code (`null` when a signal ended it). */
export interface SmallExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Collects a channel's (small) output and waits for it to close. */
export function collectSmall(
  channel: ClientChannel,
  stdout?: (data: Buffer) => void,
): Promise<SmallExecResult> {
  let out = '';
  let err = '';
  let code: number | null = null;
  const keep = (text: string, data: Buffer) =>
    text.length < MAX_SMALL_OUTPUT ? text + data.toString('utf8', 0, MAX_SMALL_OUTPUT - text.length) : text;
  channel.on('data', (data: Buffer) => {
    if (stdout) stdout(data);
    else out = keep(out, data);
  });
  channel.stderr.on('data', (data: Buffer) => {
    err = keep(err, data);
  });
  channel.on('exit', (c: number | null) => {
    code = c;
  });
  return new Promise((resolve) => channel.on('close', () => resolve({ code, stdout: out, stderr: err })));
}

/** Runs a command with no input and returns what it printed. */
export async function smallExec(session: SshSession, command: string): Promise<SmallExecResult> {
  const channel = await session.exec(command);
  channel.end();
  return collectSmall(channel);
}
