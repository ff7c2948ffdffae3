// One "process" of the cross-process build tests, on the built packages: a compute service over
// a filesystem store and the fake hypervisor shared through a file asks for one image. Every
// progress event is printed as a JSON line (so the parent can wait for a phase and kill it), then
// one line with what it built.
import { createComputeService, fileSystemBlobStore } from '@vmkit/core';
import { memoryProvider } from '@vmkit/core/testing';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const provider = memoryProvider({
  statePath: env('VMKIT_STATE'),
  faults: { buildDelayMs: Number(env('VMKIT_BUILD_DELAY_MS')) },
});
const images = JSON.parse(env('VMKIT_IMAGES'));
const service = await createComputeService({
  provider,
  store: fileSystemBlobStore({ root: env('VMKIT_STORE'), durable: false }),
  images,
  ports: { leaseDir: env('VMKIT_LEASES'), probe: false },
  buildLease: { ttlMs: Number(env('VMKIT_LEASE_TTL_MS')), renewMs: 250 },
});
const started = Date.now();
const image = await service.ensureImage(images[0].id, {
  onProgress: (event) => process.stdout.write(`${JSON.stringify({ event, at: Date.now() - started })}\n`),
});
process.stdout.write(
  `${JSON.stringify({ done: { pid: process.pid, builds: provider.stats.builds, builtAt: image.builtAt, ms: Date.now() - started } })}\n`,
);
await service.close();
