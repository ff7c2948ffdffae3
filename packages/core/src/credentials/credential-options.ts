import { join } from 'node:path';
import { invalidArgument } from '../errors/vmkit-error.js';
import type { CredentialStore } from '../model/credential-store.js';
import { userStateHome } from '../util/private-dir.js';
import { fileCredentialStore } from './file-credential-store.js';

/** Where vmkit keeps credentials: a store of the caller's, or a folder for the file store. */
export type CredentialsOption = CredentialStore | { readonly directory: string };

/** The default folder of the file credential store: `vmkit/credentials` under the user's state folder. */
export function defaultCredentialsDirectory(): string {
  return join(userStateHome(), 'vmkit', 'credentials');
}

/**
 * The credential store `option` names: the store itself, the file store in `directory`, or by
 * default the file store in {@link defaultCredentialsDirectory} (`$XDG_STATE_HOME/vmkit/credentials`,
 * else `~/.local/state/vmkit/credentials`). Folders are made and checked on first use.
 */
export function resolveCredentials(option: CredentialsOption | undefined): CredentialStore {
  if (option === undefined)
    return fileCredentialStore({
      directory: defaultCredentialsDirectory(),
      base: userStateHome(),
      field: 'credentials',
    });
  if (typeof option !== 'object' || option === null)
    throw invalidArgument('credentials', 'must be a credential store or { directory }');
  if ('directory' in option) {
    if (typeof option.directory !== 'string' || option.directory.length === 0)
      throw invalidArgument('credentials.directory', 'must be a non-empty path');
    return fileCredentialStore({ directory: option.directory });
  }
  for (const method of ['get', 'put', 'delete'] as const) {
    if (typeof (option as Partial<CredentialStore>)[method] !== 'function')
      throw invalidArgument(`credentials.${method}`, 'must be a function');
  }
  return option;
}
