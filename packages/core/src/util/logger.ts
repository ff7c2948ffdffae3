/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** The logger vmkit writes to: compatible with `console` and with pino-style loggers. */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, fields?: LogFields): void;
  /** Normal progress: builds, clones. */
  info(message: string, fields?: LogFields): void;
  /** Something odd that vmkit worked around (a quarantined blob, a vanished master). */
  warn(message: string, fields?: LogFields): void;
  /** A failure vmkit could not work around. */
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => {};

/** A logger that drops everything: the default. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
