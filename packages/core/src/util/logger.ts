/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** The logger vmkit writes to: compatible with `console` and with pino-style loggers. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => {};

/** A logger that drops everything: the default. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
