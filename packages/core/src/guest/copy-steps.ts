import { randomBytes } from 'node:crypto';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import { checkGuestPath, shellQuote } from './shell-command.js';

/** Owners `chown` is given: `user` or `user:group`. */
const OWNER = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}\$?(:[A-Za-z0-9._][A-Za-z0-9._-]{0,31}\$?)?$/;

/** Exit codes of {@link copyFinishText}. */
const EXIT = { hashFailed: 3, mismatch: 4, chmod: 5, chown: 6, isDirectory: 7, rename: 8 } as const;

/**
 * Checks a copy into a guest: `guestPath` absolute and naming a file (`INVALID_ARGUMENT` naming
 * `guestPath`), `mode` from 0 to 0o7777, `owner` `user` or `user:group`.
 */
export function checkCopyInOptions(
  guestPath: string,
  options: { readonly mode?: number; readonly owner?: string },
): void {
  checkGuestPath('guestPath', guestPath);
  if (guestPath.endsWith('/')) throw invalidArgument('guestPath', 'must name a file, not a directory');
  const { mode, owner } = options;
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777))
    throw invalidArgument('mode', 'must be a file mode from 0 to 0o7777', { mode });
  if (owner !== undefined && (typeof owner !== 'string' || !OWNER.test(owner)))
    throw invalidArgument('owner', 'must be `user` or `user:group` of the guest', { owner: String(owner) });
}

/** A fresh temporary name beside `guestPath` (hidden, same directory) for a copy to write first. */
export function tempBeside(guestPath: string): string {
  const slash = guestPath.lastIndexOf('/');
  return `${guestPath.slice(0, slash + 1)}.${guestPath.slice(slash + 1)}.vmkit-${randomBytes(6).toString('hex')}`;
}

/** Shell text that exits 0 when the guest's `sha256sum` of `path` is `sha256` (hex), non-zero otherwise. */
export function sameHashText(path: string, sha256: string): string {
  return `h=$(sha256sum <${shellQuote(path)}) && [ "\${h%% *}" = ${sha256} ]`;
}

/**
 * Shell text (run as root) that finishes a copy written to `temp`: it checks the guest's
 * `sha256sum` against `sha256`, applies `mode` and `owner`, refuses a `guestPath` that is a
 * directory, and renames `temp` into place; on any failure it removes `temp` and exits with a code
 * {@link copyFinishError} explains. Every transport finishes its copies with it.
 */
export function copyFinishText(
  temp: string,
  guestPath: string,
  sha256: string,
  options: { readonly mode: number; readonly owner?: string },
): string {
  const t = shellQuote(temp);
  const p = shellQuote(guestPath);
  return [
    `fail() { rm -f ${t}; exit $1; }`,
    `h=$(sha256sum <${t}) || fail ${EXIT.hashFailed}`,
    `[ "\${h%% *}" = ${sha256} ] || fail ${EXIT.mismatch}`,
    `chmod ${options.mode.toString(8)} ${t} || fail ${EXIT.chmod}`,
    ...(options.owner ? [`chown ${shellQuote(options.owner)} ${t} || fail ${EXIT.chown}`] : []),
    `[ -d ${p} ] && fail ${EXIT.isDirectory}`,
    `mv -f ${t} ${p} || fail ${EXIT.rename}`,
  ].join('\n');
}

/**
 * The error for a non-zero exit `code` of {@link copyFinishText}: `CORRUPT` (the guest's SHA-256
 * differs), `INVALID_ARGUMENT` naming `owner` (unknown in the guest) or `guestPath` (a directory),
 * else `PROVIDER` saying which step failed.
 */
export function copyFinishError(code: number, guestPath: string, owner: string | undefined): VmkitError {
  switch (code) {
    case EXIT.mismatch:
      return new VmkitError(
        'CORRUPT',
        `copy to ${guestPath}: the guest's SHA-256 differs from what was sent`,
        {
          details: { guestPath },
        },
      );
    case EXIT.chown:
      return invalidArgument('owner', 'no such user or group in the guest', { owner });
    case EXIT.isDirectory:
      return invalidArgument('guestPath', 'is a directory in the guest', { guestPath });
    default:
      return new VmkitError(
        'PROVIDER',
        `copy to ${guestPath}: the guest could not ${finishStep(code)} (exit ${code})`,
        {
          details: { guestPath, exitCode: code },
        },
      );
  }
}

function finishStep(code: number): string {
  if (code === EXIT.hashFailed) return 'compute the SHA-256 (sha256sum)';
  if (code === EXIT.chmod) return 'set the mode';
  if (code === EXIT.rename) return 'rename the file into place';
  return 'finish the copy';
}
