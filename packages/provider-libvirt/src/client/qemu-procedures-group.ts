import { STRING_MAX } from '../rpc/protocol.js';
import { QemuProcedure } from '../rpc/qemu-procedures.js';
import { QEMU_RPC_PROGRAM } from '../rpc/rpc-program.js';
import { type DomainHandle, writeDomain } from './handles.js';
import type { RpcCaller } from './rpc-caller.js';

/**
 * Special timeouts of {@link QemuProcedures.agentCommand} (`virDomainQemuAgentCommandTimeoutValues`);
 * any other value is a number of seconds.
 */
export const QemuAgentTimeout = Object.freeze({ BLOCK: -2, DEFAULT: -1, NOWAIT: 0 } as const);

/** Procedures of libvirt's QEMU program (`qemu_protocol.x`), one method per procedure. */
export class QemuProcedures {
  readonly #rpc: RpcCaller;

  constructor(rpc: RpcCaller) {
    this.#rpc = rpc;
  }

  /**
   * `QEMU_DOMAIN_AGENT_COMMAND` (`virsh qemu-agent-command`): sends one QEMU guest agent command
   * (a JSON object, `{"execute": …}`) to the domain's agent and returns the agent's JSON answer
   * (or `undefined` for a command that answers nothing). `timeoutSeconds` bounds libvirt's wait for
   * the agent (or a {@link QemuAgentTimeout}); `signal` ends this client's wait. An agent that is
   * not connected fails at once with libvirt's `AGENT_UNRESPONSIVE` (86).
   */
  async agentCommand(
    dom: DomainHandle,
    command: string,
    timeoutSeconds: number,
    flags = 0,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const r = await this.#rpc.call(
      QemuProcedure.DOMAIN_AGENT_COMMAND,
      (w) => {
        writeDomain(w, dom);
        w.string(command, STRING_MAX).int(timeoutSeconds).uint(flags);
      },
      signal,
      QEMU_RPC_PROGRAM,
    );
    return r.optional((x) => x.string(STRING_MAX));
  }
}
