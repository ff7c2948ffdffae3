import { createHash, type Hash } from 'node:crypto';

/**
 * Computes, in one pass over a body, the two ETags S3 servers give objects without KMS or
 * customer-key encryption: the MD5 of the whole body (single PUT, and multipart uploads on some
 * servers) and the multipart form `md5(md5(part1) || md5(part2) ...)-N` for a fixed part size.
 */
export class EtagDigest {
  readonly #whole = createHash('md5');
  readonly #partSize: number | undefined;
  readonly #partDigests: Buffer[] = [];
  #part: Hash | undefined;
  #inPart = 0;
  #size = 0;

  /** `partSize`: the multipart part size, when the composite form is wanted. */
  constructor(partSize?: number) {
    this.#partSize = partSize;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** Adds the next bytes of the body. */
  update(chunk: Uint8Array): void {
    this.#whole.update(chunk);
    this.#size += chunk.byteLength;
    const partSize = this.#partSize;
    if (partSize === undefined) return;
    let offset = 0;
    while (offset < chunk.byteLength) {
      this.#part ??= createHash('md5');
      const take = Math.min(partSize - this.#inPart, chunk.byteLength - offset);
      this.#part.update(chunk.subarray(offset, offset + take));
      this.#inPart += take;
      offset += take;
      if (this.#inPart === partSize) this.#closePart();
    }
  }

  /**
   * Adds one whole multipart part (at most `partSize` bytes, starting on a part boundary) and
   * returns its MD5 digest, the part's own ETag and `Content-MD5`, computed once for both uses.
   */
  updatePart(part: Uint8Array): Buffer {
    const partSize = this.#partSize;
    if (partSize === undefined || this.#inPart !== 0 || part.byteLength > partSize) {
      throw new RangeError('EtagDigest.updatePart: a part must start on a part boundary and fit in partSize');
    }
    this.#whole.update(part);
    this.#size += part.byteLength;
    const digest = createHash('md5').update(part).digest();
    this.#partDigests.push(digest);
    return digest;
  }

  /** The ETags the body may have, without quotes: `[wholeMd5, composite?]`. */
  finish(): { md5: string; composite?: string } {
    const md5 = this.#whole.digest('hex');
    if (this.#partSize === undefined) return { md5 };
    if (this.#inPart > 0) this.#closePart();
    const parts = this.#partDigests;
    const composite = `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}`;
    return { md5, composite };
  }

  #closePart(): void {
    this.#partDigests.push((this.#part as Hash).digest());
    this.#part = undefined;
    this.#inPart = 0;
  }
}

/** What comparing an ETag with a body's digests says. */
export type EtagVerdict = 'match' | 'mismatch' | 'unverifiable';

/**
 * Compares a server's ETag with a body's digests. ETags of KMS- or customer-key-encrypted
 * objects, of multipart objects whose part size is unknown, or of unknown shape are not MD5
 * based: `'unverifiable'`.
 */
export function compareEtag(
  etag: string | undefined,
  digest: { md5: string; composite?: string },
  encryption?: { serverSideEncryption?: string; customerAlgorithm?: string },
): EtagVerdict {
  if (etag === undefined) return 'unverifiable';
  if (encryption?.customerAlgorithm || encryption?.serverSideEncryption?.startsWith('aws:kms')) {
    return 'unverifiable';
  }
  const bare = etag.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  if (/^[0-9a-f]{32}$/.test(bare)) return bare === digest.md5 ? 'match' : 'mismatch';
  if (/^[0-9a-f]{32}-\d+$/.test(bare)) {
    if (digest.composite === undefined) return 'unverifiable';
    return bare === digest.composite ? 'match' : 'mismatch';
  }
  return 'unverifiable';
}
