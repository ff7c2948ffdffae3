// One "process" of the cross-process build tests over S3, on the built packages: a compute
// service over a bucket of the test server and the fake hypervisor shared through a file asks for
// one image, printing every progress event as a JSON line, then one line with what it built.
import { createComputeService } from '@vmkit/core';
import { memoryProvider } from '@vmkit/core/testing';
import { s3BlobStore } from '@vmkit/store-s3';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const provider = memoryProvider({
  statePath: env('VMKIT_STATE'),
  faults: { buildDelayMs: Number(env('VMKIT_BUILD_DELAY_MS')) },
});
const store = s3BlobStore({
  bucket: env('VMKIT_BUCKET'),
  endpoint: env('VMKIT_ENDPOINT'),
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
const images = JSON.parse(env('VMKIT_IMAGES'));
const service = await createComputeService({
  provider,
  store,
  images,
  ports: { leaseDir: env('VMKIT_LEASES'), probe: false },
  buildLease: { ttlMs: Number(env('VMKIT_LEASE_TTL_MS')), renewMs: 250 },
});
const started = Date.now();
const image = await service.ensureImage(images[0].id, {
  onProgress: (event) => process.stdout.write(`${JSON.stringify({ event, at: Date.now() - started })}\n`),
});
const done = {
  pid: process.pid,
  builds: provider.stats.builds,
  builtAt: image.builtAt,
  ms: Date.now() - started,
};
process.stdout.write(`${JSON.stringify({ done })}\n`);
await service.close();
await store.close();
