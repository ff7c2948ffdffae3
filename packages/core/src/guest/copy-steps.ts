import { createHash, randomBytes } from 'node:crypto';
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

/**
 * The guest's program for the end-to-end check of a copy: `md5sum`. The check guards against
 * bytes lost or changed between the host and the guest's disk, not against an adversary (the
 * guest computes it itself, and copies travel an authenticated channel), and under emulation
 * MD5 costs a guest a fraction of SHA-256: 100 MiB in 0.38 s against 2.2 s on the Debian test
 * guest under TCG, which made the check most of a copy's time beside `scp`. What callers get
 * back is still the SHA-256 of the bytes, computed on the host.
 */
export const GUEST_CHECK_PROGRAM = 'md5sum';

/** What a copy's bytes hash to: SHA-256 (reported) and the guest's check ({@link GUEST_CHECK_PROGRAM}). */
export interface CopyDigest {
  /** Bytes hashed. */
  readonly bytes: number;
  /** SHA-256, hex: what the copy's result reports. */
  readonly sha256: string;
  /** MD5, hex: what the guest's check must print. */
  readonly check: string;
}

/** Hashes the bytes of one copy as they pass, both ways at once. */
export class CopyHasher {
  readonly #sha256 = createHash('sha256');
  readonly #check = createHash('md5');
  #bytes = 0;

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds a chunk. */
  update(chunk: Uint8Array): void {
    this.#sha256.update(chunk);
    this.#check.update(chunk);
    this.#bytes += chunk.byteLength;
  }

  /** The digests (once: the hashes are finished). */
  digest(): CopyDigest {
    return { bytes: this.#bytes, sha256: this.#sha256.digest('hex'), check: this.#check.digest('hex') };
  }
}

/** The check digest at the start of a line `md5sum` printed, or `undefined`. */
export function guestCheckOf(line: string): string | undefined {
  return /^([0-9a-f]{32})(\s|$)/.exec(line)?.[1];
}

/**
 * Shell text that exits 0 when the guest's check ({@link GUEST_CHECK_PROGRAM}) of `path` is `check`
 * (hex, from {@link CopyHasher}), non-zero otherwise.
 */
export function sameHashText(path: string, check: string): string {
  return `h=$(${GUEST_CHECK_PROGRAM} <${shellQuote(path)}) && [ "\${h%% *}" = ${check} ]`;
}

/**
 * Shell text (run as root) that finishes a copy written to `temp`: it checks the guest's
 * {@link GUEST_CHECK_PROGRAM} against `check`, applies `mode` and `owner`, refuses a `guestPath` that is a
 * directory, and renames `temp` into place; on any failure it removes `temp` and exits with a code
 * {@link copyFinishError} explains. Every transport finishes its copies with it.
 */
export function copyFinishText(
  temp: string,
  guestPath: string,
  check: string,
  options: { readonly mode: number; readonly owner?: string },
): string {
  const t = shellQuote(temp);
  const p = shellQuote(guestPath);
  return [
    `fail() { rm -f ${t}; exit $1; }`,
    `h=$(${GUEST_CHECK_PROGRAM} <${t}) || fail ${EXIT.hashFailed}`,
    `[ "\${h%% *}" = ${check} ] || fail ${EXIT.mismatch}`,
    `chmod ${options.mode.toString(8)} ${t} || fail ${EXIT.chmod}`,
    ...(options.owner ? [`chown ${shellQuote(options.owner)} ${t} || fail ${EXIT.chown}`] : []),
    `[ -d ${p} ] && fail ${EXIT.isDirectory}`,
    `mv -f ${t} ${p} || fail ${EXIT.rename}`,
  ].join('\n');
}

/**
 * The error for a non-zero exit `code` of {@link copyFinishText}: `CORRUPT` (the guest's check
 * differs), `INVALID_ARGUMENT` naming `owner` (unknown in the guest) or `guestPath` (a directory),
 * else `PROVIDER` saying which step failed.
 */
export function copyFinishError(code: number, guestPath: string, owner: string | undefined): VmkitError {
  switch (code) {
    case EXIT.mismatch:
      return new VmkitError(
        'CORRUPT',
        `copy to ${guestPath}: the guest's checksum (${GUEST_CHECK_PROGRAM}) differs from what was sent`,
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
  if (code === EXIT.hashFailed) return `compute the checksum (${GUEST_CHECK_PROGRAM})`;
  if (code === EXIT.chmod) return 'set the mode';
  if (code === EXIT.rename) return 'rename the file into place';
  return 'finish the copy';
}
