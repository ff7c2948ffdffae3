import { Readable } from 'node:stream';
import { VmkitError } from '@vmkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesPartSource,
  type Part,
  type PartSource,
  prependPart,
  streamPartSource,
} from './part-sources.js';

async function drain(source: PartSource): Promise<{ parts: Buffer[]; buffers: Set<ArrayBufferLike> }> {
  const parts: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for (let part = await source.next(); part; part = await source.next()) {
    parts.push(Buffer.from(part.bytes)); // a copy: the buffer goes back to the pool now
    buffers.add(part.bytes.buffer);
    part.release();
  }
  return { parts, buffers };
}

describe('streamPartSource', () => {
  it('cuts any chunking into exact parts, through at most `buffers` reused buffers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 10 }),
        async (bytes, partSize, cuts) => {
          const chunks: Buffer[] = [];
          for (let off = 0, i = 0; off < bytes.length; i++) {
            const n = cuts[i % cuts.length] as number;
            chunks.push(Buffer.from(bytes.subarray(off, off + n)));
            off += n;
            if (i > 10_000) break;
          }
          if (chunks.reduce((n, c) => n + c.length, 0) < bytes.length) return; // all-zero cuts
          const { parts, buffers } = await drain(
            streamPartSource(Readable.from(chunks), partSize, 2, undefined),
          );
          expect(Buffer.concat(parts).equals(Buffer.from(bytes))).toBe(true);
          expect(parts.slice(0, -1).every((p) => p.length === partSize)).toBe(true);
          expect(parts.every((p) => p.length > 0)).toBe(true);
          expect(buffers.size).toBeLessThanOrEqual(1); // each part released before the next
        },
      ),
    );
  });

  it('accepts string chunks, and says whether the stream has ended', async () => {
    const source = streamPartSource(Readable.from(['ab', 'cd', 'e'], { objectMode: true }), 4, 1, undefined);
    expect(await source.ended()).toBe(false);
    const part = (await source.next()) as Part;
    expect(Buffer.from(part.bytes).toString()).toBe('abcd');
    part.release();
    expect(await source.ended()).toBe(false);
    const last = (await source.next()) as Part;
    expect(Buffer.from(last.bytes).toString()).toBe('e');
    expect(await source.ended()).toBe(true);
    expect(await source.next()).toBeUndefined();
  });

  it('stops with ABORTED between chunks once the signal fires, and stop() destroys the stream', async () => {
    const controller = new AbortController();
    const stream = new Readable({ read() {} });
    stream.push(Buffer.alloc(10));
    const source = streamPartSource(stream, 8, 2, controller.signal);
    const first = await source.next();
    expect(first?.bytes.byteLength).toBe(8);
    controller.abort();
    await expect(source.next()).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    source.stop();
    expect(stream.destroyed).toBe(true);
  });

  it('frees the part buffers on finish', async () => {
    const source = streamPartSource(Readable.from([Buffer.alloc(12, 1)]), 8, 2, undefined);
    const part = (await source.next()) as Part;
    const kept = part.bytes;
    part.release();
    source.finish();
    expect(kept.byteLength).toBe(0);
  });
});

describe('bytesPartSource and prependPart', () => {
  it('gives views into the body without copying', async () => {
    const body = Buffer.alloc(10, 7);
    const { parts, buffers } = await drain(bytesPartSource(body, 4));
    expect(parts.map((p) => p.length)).toEqual([4, 4, 2]);
    expect([...buffers]).toEqual([body.buffer]);
  });

  it('puts a part back in front', async () => {
    const rest = bytesPartSource(Buffer.from('cdef'), 2);
    const first: Part = { bytes: Buffer.from('ab'), release: () => {} };
    const { parts } = await drain(prependPart(first, rest));
    expect(parts.map((p) => p.toString())).toEqual(['ab', 'cd', 'ef']);
  });
});
