import { afterAll, beforeAll } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { startTestS3Server, type TestS3Server } from './s3-test-server.js';
import { createTestBucket } from './test-store.js';

/** A test server with a fault proxy in front of it and a fresh bucket, for one test file. */
export interface ProxiedS3Server {
  /** The s3rver child process. */
  readonly server: TestS3Server;
  /** The loopback proxy that injects faults and rewrites headers. */
  readonly proxy: FaultProxy;
  /** A bucket made for this file. */
  readonly bucket: string;
}

/**
 * Starts the server, the proxy and a bucket before the file's tests and stops them after; the
 * fields can be read once the tests run.
 */
export function useProxiedS3Server(): ProxiedS3Server {
  let started: ProxiedS3Server | undefined;
  beforeAll(async () => {
    const server = await startTestS3Server();
    const proxy = await startFaultProxy(server.endpoint);
    started = { server, proxy, bucket: await createTestBucket(server) };
  });
  afterAll(async () => {
    await started?.proxy.close();
    await started?.server.dispose();
  });
  const get = (): ProxiedS3Server => {
    if (!started) throw new Error('the S3 test server is not started yet (read it inside a test)');
    return started;
  };
  return {
    get server() {
      return get().server;
    },
    get proxy() {
      return get().proxy;
    },
    get bucket() {
      return get().bucket;
    },
  };
}
