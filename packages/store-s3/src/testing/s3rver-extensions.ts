import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The part of a Koa context the middleware uses. */
export interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  status: number;
  body: unknown;
  type: string;
}

/** A Koa middleware. */
export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/**
 * Adds AWS S3's conditional writes (`If-None-Match: *` on PutObject and CompleteMultipartUpload,
 * answered with 412 PreconditionFailed when the key exists) to s3rver, which ignores the header.
 * Writes to one key are serialised while a conditional write is checked and carried out, so two
 * racing creators cannot both win.
 */
export function conditionalWritesMiddleware(store: {
  existsObject(bucket: string, key: string): Promise<boolean>;
}): KoaMiddleware {
  const locks = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    // The SDK adds `x-id=PutObject`; any other query parameter makes it a part, ACL, tagging... write.
    const isPut = ctx.method === 'PUT' && Object.keys(ctx.query).every((q) => q === 'x-id');
    const isComplete = ctx.method === 'POST' && 'uploadId' in ctx.query;
    if (!(isPut || isComplete) || ctx.req.headers['if-none-match'] !== '*') return next();
    const [, bucket = '', ...rest] = ctx.path.split('/');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const lockKey = `${bucket}/${key}`;
    while (locks.has(lockKey)) await locks.get(lockKey);
    let release = () => {};
    locks.set(
      lockKey,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    try {
      if (await store.existsObject(decodeURIComponent(bucket), key)) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
          '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
          '<Condition>If-None-Match</Condition></Error>';
        ctx.req.resume();
        return;
      }
      await next();
    } finally {
      locks.delete(lockKey);
      release();
    }
  };
}

/**
 * Adds AbortMultipartUpload (`DELETE /bucket/key?uploadId=ID`), which s3rver answers with
 * 405: the upload's parts (kept under `<directory>/<bucket>/._S3rver_uploads/<ID>`) are removed;
 * 204 when done, 404 NoSuchUpload when there is no such upload.
 */
export function abortMultipartMiddleware(directory: string): KoaMiddleware {
  return async (ctx, next) => {
    if (ctx.method !== 'DELETE' || !('uploadId' in ctx.query)) return next();
    const [, bucket = ''] = ctx.path.split('/');
    const uploadId = String(ctx.query.uploadId);
    const dir = join(directory, decodeURIComponent(bucket), '._S3rver_uploads', uploadId);
    const exists =
      /^[A-Za-z0-9_-]+$/.test(uploadId) && !bucket.includes('..') && (await stat(dir).catch(() => undefined));
    if (!exists) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
        '<Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
  };
}

/**
 * Adds AWS S3's conditional DeleteObject (`If-Match: "etag"`), which s3rver ignores: 412
 * PreconditionFailed when the object's ETag differs, 404 NoSuchKey when there is no object.
 */
export function conditionalDeleteMiddleware(store: {
  getMetadata(bucket: string, key: string): Promise<{ etag?: string }>;
}): KoaMiddleware {
  return async (ctx, next) => {
    const ifMatch = ctx.req.headers['if-match'];
    if (ctx.method !== 'DELETE' || 'uploadId' in ctx.query || typeof ifMatch !== 'string') return next();
    const [, bucket = '', ...rest] = ctx.path.split('/');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const metadata = await store.getMetadata(decodeURIComponent(bucket), key).catch(() => undefined);
    const answer = (status: number, code: string, message: string) => {
      ctx.status = status;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    };
    const bare = (etag: string) => etag.replace(/"/g, '');
    if (!metadata) return answer(404, 'NoSuchKey', 'The specified key does not exist.');
    if (ifMatch !== '*' && bare(ifMatch) !== bare(metadata.etag ?? ''))
      return answer(
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
      );
    return next();
  };
}

/**
 * Makes s3rver's object operations atomic, as S3's are. s3rver reads and writes an object as two
 * files (content, then metadata) and prunes the folders a removal empties, so a read racing a
 * write could see a partial object and a write racing a removal could lose its file. Here writes
 * (any method but GET and HEAD) run one at a time and reads together, writers first when both
 * wait, each while s3rver handles it; a read's content streams on after that from the file it
 * opened, which {@link atomicObjectContent} never changes in place. Multipart parts, kept apart
 * from objects, are not held, so a stalled part upload holds up nobody.
 */
export function atomicObjectsMiddleware(): KoaMiddleware {
  let readers = 0;
  let writing = false;
  let writersWaiting = 0;
  const waiting: Array<() => void> = [];
  const wait = () => new Promise<void>((resolve) => waiting.push(resolve));
  return async (ctx, next) => {
    const q = ctx.query;
    if ('partNumber' in q || 'uploads' in q || (ctx.method === 'DELETE' && 'uploadId' in q)) return next();
    const write = ctx.method !== 'GET' && ctx.method !== 'HEAD';
    if (write) writersWaiting++;
    while (writing || (write ? readers > 0 : writersWaiting > 0)) await wait();
    if (write) {
      writersWaiting--;
      writing = true;
    } else readers++;
    try {
      await next();
    } finally {
      if (write) writing = false;
      else readers--;
      for (const wake of waiting.splice(0)) wake();
    }
  };
}

/** The part of s3rver's filesystem store that writes an object's content. */
export interface ObjectContentWriter {
  putContent(path: string, content: Readable | Buffer): Promise<[number, string]>;
}

/**
 * Makes s3rver write an object's content to a temp file renamed over the object once complete
 * (s3rver truncates the object file and writes it in place, and answers a buffered write before
 * its bytes are on disk). Temp names do not end as s3rver's object files do: never listed.
 */
export function atomicObjectContent(store: ObjectContentWriter): void {
  store.putContent = async (path, content) => {
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.byteLength;
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        Buffer.isBuffer(content) ? Readable.from([content]) : content,
        count,
        createWriteStream(tmp),
      );
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    return [size, md5.digest('hex')];
  };
}
