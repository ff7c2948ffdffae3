// A real S3 round trip in a process of its own, on the built packages, for the test that the
// AWS SDK's NodeVersionSupportWarning does not reach users while other warnings still do.
import { s3BlobStore } from '@vmkit/store-s3';

const FLAG = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
const store = s3BlobStore({
  bucket: process.env.VMKIT_BUCKET,
  endpoint: process.env.VMKIT_ENDPOINT,
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
try {
  await store.createContainer('round-trip');
  await store.putBlob('round-trip', 'hello.txt', 'hello from a child process');
  const text = await (await store.getBlob('round-trip', 'hello.txt'))?.text();
  // Someone else's warning must still be printed.
  process.emitWarning('a warning vmkit must not hide', 'VmkitCanaryWarning');
  process.stdout.write(`${JSON.stringify({ text, flag: process.env[FLAG] ?? null })}\n`);
} finally {
  await store.close();
}
