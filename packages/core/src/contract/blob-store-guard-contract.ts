import { expect, it } from 'vitest';
import {
  checkBlobName,
  checkContainerName,
  checkListOptions,
  checkMetadata,
} from '../blobstore/blob-names.js';
import type { BlobStore } from '../blobstore/blob-store.js';
import type { ClosableBlobStore } from '../blobstore/guard-blob-store.js';
import { isClosedError, VmkitError } from '../errors/vmkit-error.js';

/** The message the shared check gives for `value`, to compare every store's refusal with. */
function refusal(check: () => unknown): string {
  try {
    check();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the check accepted a value the contract calls bad');
}

async function expectRefusal(call: Promise<unknown>, message: string): Promise<void> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(VmkitError.is(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`).toBe(
    true,
  );
  expect((error as Error).message).toBe(message);
}

const BAD_NAMES = ['../x', '/abs', 'a//b', '', 'nul\u0000', 'back\\slash', 'a/./b', 'x'.repeat(1025)];
const BAD_CONTAINERS = ['..', 'UPPER', '../etc', 'a/b', '', '-dash', 'a'.repeat(64)];

/**
 * The part of the blob store contract that the guard (`guardBlobStore`) provides: bad names and
 * options refused with the very same errors by every store, even for a container that does not
 * exist, and one closed error after `close()`. Registered by `describeBlobStoreContract`.
 */
export function describeGuardContract(
  store: () => BlobStore,
  fresh: () => Promise<string>,
  another: () => Promise<{ store: BlobStore; cleanup?(): Promise<void> }>,
): void {
  it('refuses bad names and options with the same error as every other store, before any lookup', async () => {
    const s = store();
    const c = await fresh();
    const missing = `missing-${Date.now().toString(36)}`;
    for (const bad of BAD_NAMES) {
      const message = refusal(() => checkBlobName(bad));
      await expectRefusal(s.putBlob(c, bad, 'x'), message);
      await expectRefusal(s.putBlob(missing, bad, 'x'), message);
      await expectRefusal(s.getBlob(c, bad), message);
      await expectRefusal(s.blobExists(c, bad), message);
      await expectRefusal(s.removeBlob(missing, bad), message);
    }
    for (const bad of BAD_CONTAINERS) {
      const message = refusal(() => checkContainerName(bad));
      await expectRefusal(s.createContainer(bad), message);
      await expectRefusal(s.containerExists(bad), message);
      await expectRefusal(s.deleteContainer(bad), message);
      await expectRefusal(s.getBlob(bad, 'a'), message);
      await expectRefusal(s.list(bad), message);
    }
    const metadata = { 'Bad Key': 'v' };
    await expectRefusal(
      s.putBlob(c, 'm', 'x', { metadata }),
      refusal(() => checkMetadata(metadata)),
    );
    for (const maxKeys of [0, 1001, 1.5]) {
      await expectRefusal(
        s.list(c, { maxKeys }),
        refusal(() => checkListOptions({ maxKeys })),
      );
    }
    const ifNoneMatch = 'etag' as '*';
    await expectRefusal(s.putBlob(c, 'i', 'x', { ifNoneMatch }), `ifNoneMatch: must be '*' (got "etag")`);
    await expectRefusal(s.list(c, { prefix: 7 as unknown as string }), 'prefix: must be a string');
    expect(await s.blobExists(c, 'm')).toBe(false);
  });

  it('refuses every call after close() with the one closed error, and closes once', async () => {
    const subject = await another();
    try {
      const s = subject.store as Partial<ClosableBlobStore> & BlobStore;
      expect(typeof s.close, 'the store has close()').toBe('function');
      const close = s.close as () => Promise<void>;
      const c = `contract-closed-${process.pid}-${Date.now().toString(36)}`;
      await s.createContainer(c);
      await s.putBlob(c, 'a', 'x');
      await Promise.all([close(), close()]);
      await close();
      const calls: Array<() => Promise<unknown>> = [
        () => s.createContainer(c),
        () => s.containerExists(c),
        () => s.deleteContainer(c),
        () => s.putBlob(c, 'b', 'y'),
        () => s.getBlob(c, 'a'),
        () => s.blobExists(c, 'a'),
        () => s.removeBlob(c, 'a'),
        () => s.list(c),
      ];
      for (const call of calls) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isClosedError(error), `expected the closed error, got ${String(error)}`).toBe(true);
        expect(error).toMatchObject({
          code: 'CONFLICT',
          details: { reason: 'closed' },
          retryable: false,
          fault: 'caller',
          message: expect.stringMatching(/ is closed$/),
        });
      }
    } finally {
      await subject.cleanup?.();
    }
  });
}
