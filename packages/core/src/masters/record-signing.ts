import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import { canonicalJson } from '../util/canonical-json.js';

/**
 * Record signing (`recordSigning` of `createComputeService`): an HMAC-SHA256 key the fleet shares.
 * Every master record, catalogue snapshot entry and shared-master record is written with a
 * signature, and one read back without a valid signature is not trusted.
 */
export interface RecordSigningOptions {
  /** The fleet's key: at least 32 bytes (a string counts as its UTF-8 bytes). */
  readonly key: string | Uint8Array;
  /**
   * Keys still accepted when reading (not used to write), while a fleet moves to a new `key`:
   * records signed with any of them stay trusted until they are written again.
   */
  readonly previousKeys?: readonly (string | Uint8Array)[];
}

/** The field of a signed record holding its signature. */
export const SIGNATURE_FIELD = 'signature';
const SCHEME = 'hmac-sha256:';
const MIN_KEY_BYTES = 32;

/** A record as written: any JSON object, perhaps with a {@link SIGNATURE_FIELD}. */
type RecordObject = { readonly [SIGNATURE_FIELD]?: unknown };

/**
 * Signs and verifies records with the fleet's key. The signature covers the canonical JSON of the
 * record exactly as written, minus its `signature` field, so whatever a record holds is covered.
 */
export class RecordSigner {
  readonly #key: Buffer;
  readonly #keys: readonly Buffer[];

  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    this.#key = key;
    this.#keys = [key, ...previous];
  }

  /** `record` without any old signature, with one made with the fleet's key. */
  sign<T extends object>(record: T): T & { readonly signature: string } {
    const unsigned = withoutSignature(record);
    return { ...unsigned, [SIGNATURE_FIELD]: mac(this.#key, unsigned) } as T & { signature: string };
  }

  /** Throws `CORRUPT` ("`what`: not signed with the fleet's key") unless `json` carries a valid signature. */
  verify(json: unknown, what: string): void {
    const signature = (json as RecordObject | null)?.[SIGNATURE_FIELD];
    if (typeof json === 'object' && json !== null && typeof signature === 'string') {
      const given = Buffer.from(signature);
      const unsigned = withoutSignature(json);
      for (const key of this.#keys) {
        const expected = Buffer.from(mac(key, unsigned));
        if (expected.length === given.length && timingSafeEqual(expected, given)) return;
      }
    }
    throw new VmkitError('CORRUPT', `${what}: not signed with the fleet's key`, {
      details: { field: SIGNATURE_FIELD, rule: 'signed-with-fleet-key' },
    });
  }
}

/** A record without its signature field (a copy; the record itself is not changed). */
export function withoutSignature<T extends object>(record: T): T {
  if (!(SIGNATURE_FIELD in record)) return record;
  const { [SIGNATURE_FIELD]: _, ...rest } = record as T & RecordObject;
  return rest as T;
}

function mac(key: Buffer, unsigned: unknown): string {
  return `${SCHEME}${createHmac('sha256', key).update(canonicalJson(unsigned)).digest('hex')}`;
}

/** Checks `recordSigning` (naming the bad field) and returns its signer; `undefined` when not set. */
export function resolveRecordSigning(options: RecordSigningOptions | undefined): RecordSigner | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('recordSigning', 'must be an object with a key');
  const key = keyBytes('recordSigning.key', options.key);
  const previous = options.previousKeys ?? [];
  if (!Array.isArray(previous))
    throw invalidArgument('recordSigning.previousKeys', 'must be an array of keys');
  return new RecordSigner(
    key,
    previous.map((k, i) => keyBytes(`recordSigning.previousKeys[${i}]`, k)),
  );
}

function keyBytes(field: string, key: unknown): Buffer {
  const bytes =
    typeof key === 'string'
      ? Buffer.from(key, 'utf8')
      : key instanceof Uint8Array
        ? Buffer.from(key)
        : undefined;
  if (!bytes) throw invalidArgument(field, 'must be a string or a Uint8Array');
  if (bytes.length < MIN_KEY_BYTES)
    throw invalidArgument(field, `must be at least ${MIN_KEY_BYTES} bytes (got ${bytes.length})`);
  return bytes;
}
