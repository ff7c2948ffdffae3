import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { isClosedError } from '@vmkit/core/spi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeConverter } from './fake-converter.fixture.js';
import { createImportService } from './import-service.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-import-close-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('import service close', () => {
  it('closes once and then refuses calls with the one closed error', async () => {
    const s = await createImportService({
      store: memoryBlobStore(),
      scratchDir: join(dir, 'scratch'),
      converter: fakeConverter(),
    });
    const first = s.close();
    expect(s.close()).toBe(first);
    await first;
    const refused = await s
      .importImage({ diskContainers: [{ format: 'raw', path: join(dir, 'a.raw') }] })
      .catch((error: unknown) => error);
    expect(isClosedError(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'CONFLICT', message: 'the import service is closed' });
  });
});
