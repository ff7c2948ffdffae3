/**
 * The exit code of every `vmkit` command, by the kind of failure (`VmkitError.code`). Scripts can
 * branch on them; they are listed in `vmkit --help` and docs/cli.md.
 */
export const EXIT_CODES = Object.freeze({
  OK: 0,
  /** A failure that is not a VmkitError (a bug): the message and stack go to stderr. */
  INTERNAL: 1,
  /** Bad flags, arguments or configuration (and `INVALID_ARGUMENT`). */
  INVALID_ARGUMENT: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  PROVIDER: 5,
  STORE: 6,
  TIMEOUT: 7,
  UNSUPPORTED: 8,
  CORRUPT: 9,
  /** Interrupted (Ctrl-C or SIGTERM) and rolled back: 128 + SIGINT, as shells report it. */
  ABORTED: 130,
});

/** The exit code for a thrown value. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  const isVmkit =
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[Symbol.for('vmkit.error')] === true;
  if (isVmkit && typeof code === 'string' && code in EXIT_CODES)
    return EXIT_CODES[code as keyof typeof EXIT_CODES];
  return EXIT_CODES.INTERNAL;
}
