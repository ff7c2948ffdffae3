import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { VmkitError } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { bytesPartSource } from './part-sources.js';
import { putMultipart } from './s3-multipart-upload.js';
import { UploadJanitor } from './upload-janitor.js';

interface Sent {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

/** A fake S3 client: records commands, answers parts after a tick with their MD5 as ETag. */
function fakeClient(
  behaviour: { partEtag?: (n: number) => string; failPart?: number; failAbort?: boolean } = {},
) {
  const sent: Sent[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    config: { requestChecksumCalculation: async () => 'WHEN_REQUIRED' },
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      if (name === 'CreateMultipartUploadCommand') return { UploadId: 'up-1' };
      if (name === 'AbortMultipartUploadCommand') {
        if (behaviour.failAbort)
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return {};
      }
      if (name === 'CompleteMultipartUploadCommand') return { ETag: '"done-2"' };
      if (name === 'UploadPartCommand') {
        const n = command.input.PartNumber as number;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        if (n === behaviour.failPart) {
          throw Object.assign(new Error('boom'), {
            name: 'InternalError',
            $metadata: { httpStatusCode: 500 },
          });
        }
        const md5 = createHash('md5')
          .update(command.input.Body as Uint8Array)
          .digest('hex');
        return { ETag: `"${behaviour.partEtag?.(n) ?? md5}"` };
      }
      throw new Error(`unexpected ${name}`);
    },
  };
  return { client: client as unknown as S3Client, sent, maxInFlight: () => maxInFlight };
}

const request = (client: S3Client, extra: { signal?: AbortSignal; queueSize?: number } = {}) => ({
  client,
  janitor: new UploadJanitor(client, { attempts: 1 }),
  bucket: 'b',
  key: 'k',
  partSize: 4,
  queueSize: extra.queueSize ?? 2,
  signal: extra.signal,
  ifNoneMatch: '*' as const,
});

describe('putMultipart', () => {
  it('sends parts with Content-MD5, at most queueSize at once, and completes with them in order', async () => {
    const fake = fakeClient();
    const body = Buffer.from('0123456789abcdefXY');
    const { digest } = await putMultipart(request(fake.client), bytesPartSource(body, 4));
    const parts = fake.sent.filter((s) => s.name === 'UploadPartCommand');
    expect(parts.map((p) => p.input.PartNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(parts[0]?.input.ContentMD5).toBe(createHash('md5').update('0123').digest('base64'));
    expect(fake.maxInFlight()).toBe(2);
    const complete = fake.sent.find((s) => s.name === 'CompleteMultipartUploadCommand');
    const upload = complete?.input.MultipartUpload as { Parts: Array<{ PartNumber: number }> } | undefined;
    const completed = upload?.Parts ?? [];
    expect(completed.map((p) => p.PartNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(complete?.input.IfNoneMatch).toBe('*');
    expect(digest.md5).toBe(createHash('md5').update(body).digest('hex'));
    expect(digest.composite).toMatch(/-5$/);
  });

  it('fails with CORRUPT when a part ETag is not the MD5 of what was sent, and aborts the upload', async () => {
    const fake = fakeClient({
      partEtag: (n) => (n === 2 ? 'ffffffffffffffffffffffffffffffff' : undefined) as string,
    });
    const error = await putMultipart(request(fake.client), bytesPartSource(Buffer.alloc(16, 1), 4)).catch(
      (e: unknown) => e,
    );
    expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({ partNumber: 2 });
    expect(fake.sent.some((s) => s.name === 'AbortMultipartUploadCommand')).toBe(true);
    expect(fake.sent.some((s) => s.name === 'CompleteMultipartUploadCommand')).toBe(false);
  });

  it('maps a failed part to a STORE error and leaves the abort to the janitor if the server is gone', async () => {
    const fake = fakeClient({ failPart: 3, failAbort: true });
    const req = request(fake.client);
    const error = await putMultipart(req, bytesPartSource(Buffer.alloc(40, 1), 4)).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'STORE')).toBe(true);
    expect((error as VmkitError).details).toMatchObject({ operation: 'putBlob', reason: 'server-error' });
    expect(req.janitor.pending).toBe(1);
    await req.janitor.settle();
    // The parts after the failure were not sent.
    const numbers = fake.sent.filter((s) => s.name === 'UploadPartCommand').map((s) => s.input.PartNumber);
    expect(Math.max(...(numbers as number[]))).toBeLessThanOrEqual(4);
  });

  it('stops with ABORTED when the signal fires, and aborts the upload', async () => {
    const fake = fakeClient();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 3);
    const error = await putMultipart(
      request(fake.client, { signal: controller.signal, queueSize: 1 }),
      bytesPartSource(Buffer.alloc(400, 1), 4),
    ).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    expect(fake.sent.some((s) => s.name === 'AbortMultipartUploadCommand')).toBe(true);
    expect(fake.sent.filter((s) => s.name === 'UploadPartCommand').length).toBeLessThan(100);
  });
});
