/**
 * Child-process entry of the test S3 server: s3rver on 127.0.0.1, plus S3 features it lacks
 * (see `s3rver-extensions.ts`): AbortMultipartUpload, `If-Match` on DeleteObject,
 * `If-None-Match: *` on object writes, and atomic object operations. Configured through the environment
 * (`VMKIT_S3_DIR`, `VMKIT_S3_PORT`, `VMKIT_S3_CONDITIONAL`); prints `{"port":N}` on stdout once
 * it listens, and stops on SIGTERM.
 */

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import {
  abortMultipartMiddleware,
  atomicObjectContent,
  atomicObjectsMiddleware,
  conditionalDeleteMiddleware,
  conditionalWritesMiddleware,
  type KoaMiddleware,
  type ObjectContentWriter,
} from './s3rver-extensions.js';

interface S3rverInstance {
  middleware: KoaMiddleware[];
  store: ObjectContentWriter & {
    existsObject(bucket: string, key: string): Promise<boolean>;
    getMetadata(bucket: string, key: string): Promise<{ etag?: string }>;
  };
  run(): Promise<{ port: number }>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverConstructor;

const directory = process.env.VMKIT_S3_DIR;
if (!directory) throw new Error('VMKIT_S3_DIR is required');
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(process.env.VMKIT_S3_PORT ?? 0),
  directory,
  silent: true,
  resetOnClose: false,
  // s3rver canonicalises bucket-level paths without the trailing slash the SDK signs ('/b/'),
  // so signatures of bucket operations never match. Access keys are still checked.
  allowMismatchedSignatures: true,
});
// These run first, before s3rver's router (Koa composes the array when it starts listening).
server.middleware.unshift(abortMultipartMiddleware(directory));
server.middleware.unshift(conditionalDeleteMiddleware(server.store));
if (process.env.VMKIT_S3_CONDITIONAL === '1')
  server.middleware.unshift(conditionalWritesMiddleware(server.store));
server.middleware.unshift(atomicObjectsMiddleware());
atomicObjectContent(server.store);
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
const stop = () => {
  server.httpServer?.closeAllConnections();
  server.httpServer?.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
