// The "other process" of the catalogue-generation test, on the built packages: saves one master
// record through a MasterRepository over the filesystem store or the S3 test server, and kills
// itself with SIGKILL at the step named by VMKIT_CRASH (or finishes when it is `none`):
// `after-marker` (before the record is written), `after-record` (before the generation token is
// replaced), `after-bump` (before its change marker is removed).
import { silentLogger } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { MasterRepository } from '@vmkit/core/internal';
import { s3BlobStore } from '@vmkit/store-s3';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const crash = env('VMKIT_CRASH');
const inner =
  env('VMKIT_STORE') === 'fs'
    ? fileSystemBlobStore({ root: env('VMKIT_ROOT') })
    : s3BlobStore({
        bucket: env('VMKIT_BUCKET'),
        prefix: env('VMKIT_PREFIX'),
        endpoint: env('VMKIT_ENDPOINT'),
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
const die = () => process.kill(process.pid, 'SIGKILL');
const store = {
  createContainer: (c) => inner.createContainer(c),
  containerExists: (c) => inner.containerExists(c),
  deleteContainer: (c) => inner.deleteContainer(c),
  getBlob: (c, n, o) => inner.getBlob(c, n, o),
  blobExists: (c, n) => inner.blobExists(c, n),
  list: (c, o) => inner.list(c, o),
  async putBlob(container, name, body, options) {
    if (crash === 'after-marker' && container === 'vmkit-images') die();
    if (crash === 'after-record' && name.endsWith('/generation')) die();
    return inner.putBlob(container, name, body, options);
  },
  async removeBlob(container, name) {
    if (crash === 'after-bump' && name.includes('/changes/')) die();
    return inner.removeBlob(container, name);
  },
};
const repository = new MasterRepository(store, {
  container: 'vmkit-images',
  providerId: env('VMKIT_PROVIDER_ID'),
  logger: silentLogger,
});
await repository.save(JSON.parse(env('VMKIT_RECORD')));
process.stdout.write('saved\n');
await inner.close?.();
