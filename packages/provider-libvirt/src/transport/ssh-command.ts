import type { LibvirtTarget } from './libvirt-uri.js';

/** The program and arguments that tunnel the RPC stream over ssh. */
export interface SshCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Builds the system `ssh` invocation for a `+ssh` target: a non-interactive session whose remote
 * command proxies stdin/stdout to libvirtd, through `virt-ssh-helper` (libvirt 6.8+) or `nc -U` on
 * the daemon's socket. `?proxy=native|netcat|auto` picks one (default `auto`: the helper if the
 * remote host has it), `?netcat=` names the netcat binary, `?keyfile=` an identity file, `?command=`
 * the ssh binary, `?no_verify=1` skips host key checks. (`?command=` and `?netcat=` reach here only
 * when the caller allowed them: see `checkUriPrograms`.)
 */
export function buildSshCommand(target: LibvirtTarget, sshBinary?: string): SshCommand {
  const p = target.params;
  const args: string[] = [];
  if (target.port !== undefined) args.push('-p', String(target.port));
  if (target.user) args.push('-l', target.user);
  if (p.keyfile) args.push('-i', p.keyfile);
  if (p.no_verify === '1') args.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null');
  args.push('-T', '-e', 'none', '-o', 'BatchMode=yes', '--', target.host as string);
  const netcat = p.netcat ?? 'nc';
  const mode = p.proxy ?? 'auto';
  const helper = `virt-ssh-helper ${shellQuote(target.remoteName)}`;
  const nc = `${shellQuote(netcat)} -U ${shellQuote(target.socketPath)}`;
  let remote: string;
  if (mode === 'native') remote = helper;
  else if (mode === 'netcat') remote = nc;
  else
    remote = `sh -c ${shellQuote(`if command -v virt-ssh-helper >/dev/null 2>&1; then exec ${helper}; else exec ${nc}; fi`)}`;
  args.push(remote);
  return { command: sshBinary ?? p.command ?? 'ssh', args };
}
