import { VmkitError } from '@vmkit/core/spi';

/**
 * Malformed XDR data: truncated input, a length beyond its limit or beyond the bytes left, a bad
 * boolean or union discriminant. Code `CORRUPT`; `details.offset` is where decoding stopped.
 */
export class XdrError extends VmkitError {
  constructor(message: string, offset: number) {
    super('CORRUPT', `XDR: ${message} (at byte ${offset})`, { details: { offset } });
    this.name = 'XdrError';
  }
}
