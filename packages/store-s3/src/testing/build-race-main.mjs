// One "process" of the cross-process build tests over S3: core's build-race process (the same
// compute service and fake hypervisor, or one fleet host with VMKIT_FLEET) over a bucket of the
// S3 test server.
import { s3BlobStore } from '@vmkit/store-s3';
import { env, fleetHost, raceForImage } from '../../../core/src/compute/build-race-main.fixture.mjs';

const store = s3BlobStore({
  bucket: env('VMKIT_BUCKET'),
  endpoint: env('VMKIT_ENDPOINT'),
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
try {
  await (process.env.VMKIT_FLEET ? fleetHost(store) : raceForImage(store));
} finally {
  await store.close();
}
