import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from './testing/s3-test-server.js';
import { createTestBucket } from './testing/test-store.js';

describe("the AWS SDK's NodeVersionSupportWarning", () => {
  let server: TestS3Server;
  beforeAll(async () => {
    server = await startTestS3Server();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('is not printed by a real S3 round trip in a fresh process; other warnings still are', async () => {
    const bucket = await createTestBucket(server);
    const env: NodeJS.ProcessEnv = { ...process.env, VMKIT_BUCKET: bucket, VMKIT_ENDPOINT: server.endpoint };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    delete env.NODE_NO_WARNINGS;
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./testing/round-trip-main.mjs', import.meta.url))],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    expect(JSON.parse(out.trim())).toEqual({ text: 'hello from a child process', flag: null });
    expect(err).not.toMatch(/NodeVersionSupportWarning/);
    expect(err).toMatch(/VmkitCanaryWarning: a warning vmkit must not hide/);
  });
});
