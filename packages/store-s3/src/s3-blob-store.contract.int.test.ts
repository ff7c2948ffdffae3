import { describeBlobStoreContract } from '@vmkit/core/contract';
import { startTestS3Server } from './testing/s3-test-server.js';
import { openTestStore } from './testing/test-store.js';

// The shared BlobStore contract against a real S3-compatible server (s3rver in a child process
// on 127.0.0.1): once where the server honours If-None-Match on writes (as AWS S3 does), once
// where it ignores it, where conditional puts must fail with UNSUPPORTED rather than overwrite.
describeBlobStoreContract(
  's3 (s3rver with conditional writes, prefix)',
  async () => {
    const server = await startTestS3Server({ conditionalWrites: true });
    const store = await openTestStore(server, { prefix: 'vmkit/masters/' });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await server.dispose();
      },
    };
  },
  { paginationCount: 2100, churnRounds: 100 },
);

describeBlobStoreContract(
  's3 (s3rver ignoring If-None-Match)',
  async () => {
    const server = await startTestS3Server({ conditionalWrites: false });
    const store = await openTestStore(server);
    return {
      store,
      cleanup: async () => {
        await store.close();
        await server.dispose();
      },
    };
  },
  { conditionalPut: false, paginationCount: 1100, churnRounds: 100 },
);
