/**
 * Where vmkit keeps the secrets it makes (the key pair of a group, the host keys it pinned):
 * a directory of 0600 files by default, or a store the caller passes. Keys are short names of
 * `[A-Za-z0-9._/-]`; values are opaque UTF-8 text, never logged.
 */
export interface CredentialStore {
  /** The value under `key`, or `undefined`. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key`, replacing any. */
  put(key: string, value: string): Promise<void>;
  /** Removes `key`; absent is not an error. */
  delete(key: string): Promise<void>;
}
