import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * A deterministic pseudo-random byte stream (xorshift32) of `size` bytes, made a chunk at a
 * time so nothing large is held in memory; `sha256()` gives the digest of what was produced.
 */
export function pseudoRandomStream(
  size: number,
  seed = 0x9e3779b9,
  chunkSize = 1024 * 1024,
  onChunk?: (produced: number) => void,
): { stream: Readable; sha256(): string } {
  const hash = createHash('sha256');
  let state = seed >>> 0 || 1;
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(chunkSize, size - produced);
      const words = new Uint32Array(Math.ceil(n / 4));
      // A local, not the captured `state`: a number stored in a closure is boxed on the heap each
      // time in Node 20, which would make this generator churn the JS heap it is measuring.
      let x = state;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x;
      }
      state = x >>> 0;
      const chunk = Buffer.from(words.buffer, 0, n);
      hash.update(chunk);
      produced += n;
      onChunk?.(produced);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}
