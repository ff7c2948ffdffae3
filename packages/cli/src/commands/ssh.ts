import { Command } from 'commander';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction } from '../runtime/define-action.js';

/** `vmkit ssh NODE [-- CMD]`: an interactive SSH session with the key vmkit stored for the node. */
export function sshCommand(io: CliIo): Command {
  const command = new Command('ssh')
    .description(
      "open SSH to a running node (by id or name) with the key vmkit stored for it, through its forward of port 22 or its address: interactive, or one command run by the guest's shell; vmkit exits with ssh's exit code",
    )
    .argument('<node>', 'node id or name')
    .argument('[command...]', 'a command for the guest shell, after -- (none: a login shell)')
    .addHelpText(
      'after',
      "\nExample:\n  vmkit ssh web-1a2b && vmkit ssh web-1a2b -- 'journalctl -u app | tail'\n\nThe key is written to a 0600 file that is removed when ssh ends; host keys are accepted on first\ncontact into vmkit's own known_hosts (beside the store) and checked after.\n",
    );
  return defineAction(command, io, async (ctx, node: string, words: string[]) => {
    const [{ findNode }, { sshEndpoint }, { runSsh }, { knownHostsFile }] = await Promise.all([
      import('../runtime/find-node.js'),
      import('../runtime/ssh-endpoint.js'),
      import('../runtime/ssh-session.js'),
      import('../runtime/known-hosts-file.js'),
    ]);
    const session = await ctx.withService(
      async (service) => {
        const found = await findNode(service, node, { running: true });
        const endpoint = sshEndpoint(found);
        const login = await service.getNodeCredentials(found.id);
        if (login?.privateKey === undefined)
          ctx.note(`vmkit ssh: vmkit stored no key for node ${found.name}: ssh uses your own keys`);
        const user = login?.user ?? found.login?.user;
        return {
          nodeId: found.id,
          endpoint,
          ...(user !== undefined ? { user } : {}),
          ...(login?.privateKey !== undefined ? { privateKey: login.privateKey } : {}),
        };
      },
      { readOnly: true },
    );
    // The service is closed: the session may last hours.
    const knownHosts = knownHostsFile(await ctx.settings(), io.env);
    process.exitCode = await runSsh({ ...session, knownHosts, command: words }, io);
  });
}
