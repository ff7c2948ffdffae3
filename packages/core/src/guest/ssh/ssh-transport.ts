import type { Writable } from 'node:stream';
import type { CopyResult, NodeScript, RunScriptOptions, ScriptResult } from '../../model/guest-exec.js';
import type { OperationOptions } from '../../util/progress.js';
import type { GuestTransport, TransportCopyInOptions } from '../guest-transport.js';
import { copyInOverSsh, copyOutOverSsh } from './ssh-copy.js';
import { runOverSsh } from './ssh-run.js';
import type { SshSession } from './ssh-session.js';

/** A {@link GuestTransport} over one SSH connection to a node. */
export class SshTransport implements GuestTransport {
  readonly kind = 'ssh' as const;
  readonly #context: { session: SshSession; loginUser: string; node: string };

  constructor(session: SshSession, loginUser: string, node: string) {
    this.#context = { session, loginUser, node };
  }

  run(script: NodeScript, options: RunScriptOptions): Promise<ScriptResult> {
    return runOverSsh(this.#context, script, options);
  }

  copyIn(
    source: AsyncIterable<Uint8Array>,
    guestPath: string,
    options: TransportCopyInOptions,
  ): Promise<CopyResult> {
    return copyInOverSsh(this.#context, source, guestPath, options);
  }

  copyOut(guestPath: string, sink: Writable, options: OperationOptions): Promise<CopyResult> {
    return copyOutOverSsh(this.#context, guestPath, sink, options);
  }

  async close(): Promise<void> {
    this.#context.session.close();
    await this.#context.session.closed;
  }
}
