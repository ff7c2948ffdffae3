// One owner process of the ephemeral-node reaper test, on the built packages: a compute service
// on a libvirt pool and a filesystem store creates VMKIT_EPHEMERAL ephemeral nodes and
// VMKIT_ORDINARY ordinary ones (each with a forwarded port), prints them as one JSON line, and
// then lives (renewing its owner lease) until the parent kills it.
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const service = await createComputeService({
  provider: libvirtProvider({
    uri: env('VMKIT_URI'),
    pool: env('VMKIT_POOL'),
    namePrefix: env('VMKIT_PREFIX'),
  }),
  store: fileSystemBlobStore({ root: env('VMKIT_STORE') }),
  images: JSON.parse(env('VMKIT_IMAGES')),
  ports: { leaseDir: env('VMKIT_LEASES'), probe: false },
  ephemeralNodes: { lease: { ttlMs: Number(env('VMKIT_LEASE_TTL_MS')) } },
});
const options = { inboundPorts: [80], hardware: { ramMiB: 128 } };
const ephemeral = await service.createNodesInGroup('eph', Number(env('VMKIT_EPHEMERAL')), {
  ...options,
  ephemeral: true,
});
const count = Number(process.env.VMKIT_ORDINARY ?? '0');
const ordinary = count > 0 ? await service.createNodesInGroup('keep', count, options) : [];
const names = (nodes) => nodes.map((n) => n.id);
process.stdout.write(
  `${JSON.stringify({ done: { ephemeral: names(ephemeral), ordinary: names(ordinary) } })}\n`,
);
setInterval(() => {}, 60_000); // alive until killed
