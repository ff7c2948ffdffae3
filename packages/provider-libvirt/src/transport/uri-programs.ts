import { invalidArgument } from '@vmkit/core/spi';
import type { LibvirtTarget } from './libvirt-uri.js';

/**
 * The URI parameters that choose a program to run, with what each one runs: `command` the local
 * program started as ssh, `netcat` the program the remote shell runs on the ssh host.
 */
export const URI_PROGRAM_PARAMS: Readonly<Record<string, string>> = Object.freeze({
  command: 'names the program run on this host as ssh',
  netcat: 'names the program run on the remote host as netcat',
});

/**
 * Refuses a target whose URI chooses a program to run (`?command=`, `?netcat=`) unless `allowed`:
 * a URI taken from a config file, a record or a user would otherwise run any program as the
 * caller. The error is `INVALID_ARGUMENT` on `uri`, naming the parameter and `option`, the option
 * that allows it (`details.parameter`, `details.allowWith`).
 */
export function checkUriPrograms(target: LibvirtTarget, allowed: boolean | undefined, option: string): void {
  if (allowed === true) return;
  for (const [param, what] of Object.entries(URI_PROGRAM_PARAMS)) {
    const value = target.params[param];
    if (value === undefined) continue;
    throw invalidArgument(
      'uri',
      `the parameter ?${param}= ${what} (${value}); refused unless allowed with ${option}: true`,
      { parameter: param, allowWith: option },
    );
  }
}
