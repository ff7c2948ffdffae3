// The "second host" of the shared-catalogue test, in its own process on the built packages: a
// ComputeService over the same bucket (and the same fake hypervisor, shared through a file)
// prints what it sees at start-up, clones a node, and reports how many masters it built.
import { createComputeService } from '@vmkit/core';
import { memoryProvider } from '@vmkit/core/testing';
import { s3BlobStore } from '@vmkit/store-s3';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const provider = memoryProvider({ statePath: env('VMKIT_STATE') });
const store = s3BlobStore({
  bucket: env('VMKIT_BUCKET'),
  prefix: env('VMKIT_PREFIX'),
  endpoint: env('VMKIT_ENDPOINT'),
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
const service = await createComputeService({
  provider,
  store,
  images: JSON.parse(env('VMKIT_IMAGES')),
  ports: { leaseDir: env('VMKIT_LEASES'), probe: false },
});
const images = (await service.listImages()).map((i) => ({ id: i.id, status: i.status }));
const nodes = await service.createNodesInGroup('second', 1);
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, images, nodes: nodes.length, builds: provider.stats.builds })}\n`,
);
await service.close();
await store.close();
