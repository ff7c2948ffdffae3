/** Output kept per stream up to a bound; the rest is counted, not kept. */
export class KeptOutput {
  readonly #max: number;
  readonly #chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  readonly #kept = { stdout: 0, stderr: 0 };
  #truncated = false;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** Keeps what fits of `chunk`. */
  add(stream: 'stdout' | 'stderr', chunk: Uint8Array): void {
    const room = this.#max - this.#kept[stream];
    if (chunk.length > room) this.#truncated = true;
    if (room <= 0) return;
    const part = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(room, chunk.length));
    this.#chunks[stream].push(Buffer.from(part));
    this.#kept[stream] += part.length;
  }

  /** What was kept, as UTF-8, and whether some was not. */
  result(): { stdout: string; stderr: string; truncated: boolean } {
    return {
      stdout: Buffer.concat(this.#chunks.stdout).toString('utf8'),
      stderr: Buffer.concat(this.#chunks.stderr).toString('utf8'),
      truncated: this.#truncated,
    };
  }
}
