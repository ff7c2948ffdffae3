// Child process of the large-blob test, in plain JavaScript on the built package (no loader in
// the way of the memory figure): streams a deterministic pseudo-random blob of VMKIT_SIZE bytes
// up through the S3 store and back down, and prints one JSON line with both sha256 digests, the
// timings and the peak resident memory of this process.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { s3BlobStore } from '@vmkit/store-s3';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const size = Number(env('VMKIT_SIZE'));
const optional = (name) => (process.env[name] ? Number(process.env[name]) : undefined);

/** xorshift32 bytes, 1 MiB at a time, hashed as they are made. */
function pseudoRandom(total, seed) {
  const hash = createHash('sha256');
  let state = seed;
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= total) return void this.push(null);
      const n = Math.min(1024 * 1024, total - produced);
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
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

const store = s3BlobStore({
  bucket: env('VMKIT_BUCKET'),
  endpoint: env('VMKIT_ENDPOINT'),
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  partSize: optional('VMKIT_PART_SIZE'),
  queueSize: optional('VMKIT_QUEUE_SIZE'),
});
await store.createContainer('large');
const source = pseudoRandom(size, 0x9e3779b9);
let start = performance.now();
const { etag } = await store.putBlob('large', 'blob.bin', source.stream, {
  contentType: 'application/octet-stream',
});
const upMs = performance.now() - start;
const upRssMiB = process.resourceUsage().maxRSS / 1024;
start = performance.now();
const blob = await store.getBlob('large', 'blob.bin');
if (!blob) throw new Error('blob missing after upload');
const back = createHash('sha256');
let downSize = 0;
for await (const chunk of blob.stream()) {
  back.update(chunk);
  downSize += chunk.byteLength;
}
const downMs = performance.now() - start;
await store.removeBlob('large', 'blob.bin');
await store.close();
process.stdout.write(
  `${JSON.stringify({
    size,
    etag,
    storedSize: blob.size,
    downSize,
    upSha: source.sha256(),
    downSha: back.digest('hex'),
    upMs,
    downMs,
    upRssMiB,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
