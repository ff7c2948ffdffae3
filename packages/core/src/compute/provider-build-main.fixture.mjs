// One builder process of a provider's lease tests (lease takeover, crash recovery), on the built
// packages: a compute service on the provider a module names and a filesystem store asks for one
// image, printing every progress event as a JSON line (the parent waits for a phase or an observed
// state, then may SIGKILL it), then one line with what it built.
//
// VMKIT_PROVIDER_MODULE and VMKIT_PROVIDER_FACTORY name the provider's package and its factory
// (`@vmkit/provider-libvirt`, `libvirtProvider`), called with the JSON of VMKIT_PROVIDER_OPTIONS;
// the store is VMKIT_STORE, the port leases VMKIT_LEASES, the images VMKIT_IMAGES (JSON; the
// first is built) and the build lease TTL VMKIT_LEASE_TTL_MS.
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const factory = (await import(env('VMKIT_PROVIDER_MODULE')))[env('VMKIT_PROVIDER_FACTORY')];
const images = JSON.parse(env('VMKIT_IMAGES'));
const service = await createComputeService({
  provider: factory(JSON.parse(env('VMKIT_PROVIDER_OPTIONS'))),
  store: fileSystemBlobStore({ root: env('VMKIT_STORE') }),
  images,
  ports: { leaseDir: env('VMKIT_LEASES'), probe: false },
  buildLease: { ttlMs: Number(env('VMKIT_LEASE_TTL_MS')) },
});
const started = Date.now();
const image = await service.ensureImage(images[0].id, {
  onProgress: (event) => process.stdout.write(`${JSON.stringify({ event, at: Date.now() - started })}\n`),
});
const done = { pid: process.pid, builtAt: image.builtAt, ms: Date.now() - started };
process.stdout.write(`${JSON.stringify({ done })}\n`);
await service.close();
