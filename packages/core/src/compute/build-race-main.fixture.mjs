// One "process" of the cross-process build tests, on the built packages: a compute service over
// a blob store and the fake hypervisor shared through a file asks for one image. Every progress
// event is printed as a JSON line (so the parent can wait for a phase and kill it), then one line
// with what it built. Run directly it uses a filesystem store (VMKIT_STORE); store-s3's variant
// imports `raceForImage` and passes a bucket of its test server.
import { createComputeService, fileSystemBlobStore } from '@vmkit/core';
import { memoryProvider } from '@vmkit/core/testing';

/** The value of a required environment variable. */
export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

/** Asks for the first image of VMKIT_IMAGES over `store`, printing progress and the outcome. */
export async function raceForImage(store) {
  const provider = memoryProvider({
    statePath: env('VMKIT_STATE'),
    faults: { buildDelayMs: Number(env('VMKIT_BUILD_DELAY_MS')) },
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
}

if (process.env.VMKIT_STORE) {
  await raceForImage(fileSystemBlobStore({ root: env('VMKIT_STORE'), durable: false }));
}
