// One "process" of the libvirt build-lease and crash-recovery tests, on the built packages: a
// compute service on a libvirt pool and a filesystem store asks for one image, printing every
// progress event as a JSON line (the parent waits for a phase, then may SIGKILL it), then one
// line with what it built.
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const provider = libvirtProvider({
  uri: env('VMKIT_URI'),
  pool: env('VMKIT_POOL'),
  namePrefix: env('VMKIT_PREFIX'),
});
const images = JSON.parse(env('VMKIT_IMAGES'));
const service = await createComputeService({
  provider,
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
