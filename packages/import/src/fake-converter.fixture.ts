// A strict fake of qemu-img for unit tests: writes a real qcow2 header of the input's size,
// reports progress, and can be held at a gate until released or aborted.
import { stat, writeFile } from 'node:fs/promises';
import type { ConvertRequest, DiskConverter } from '@vmkit/imaging';

/** A qcow2 v3 header (64 KiB clusters) of `size` bytes, padded to 64 KiB. */
export function qcow2Header(size: number): Uint8Array {
  const b = new Uint8Array(65_536);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x514649fb);
  dv.setUint32(4, 3);
  dv.setUint32(20, 16);
  dv.setBigUint64(24, BigInt(size));
  dv.setUint32(100, 104);
  return b;
}

/** The fake and what it saw. */
export interface FakeConverter extends DiskConverter {
  readonly calls: ConvertRequest[];
  /** Lets every held conversion finish. */
  release(): void;
}

/** A fake converter; with `hold`, conversions wait at 50% until {@link FakeConverter.release}. */
export function fakeConverter(opts: { hold?: boolean } = {}): FakeConverter {
  const calls: ConvertRequest[] = [];
  let open: () => void = () => {};
  let gate = opts.hold ? new Promise<void>((r) => (open = r)) : Promise.resolve();
  return {
    calls,
    release() {
      open();
      gate = Promise.resolve();
    },
    async convert(req) {
      calls.push(req);
      req.signal?.throwIfAborted();
      req.onSpawn?.(0);
      const size = (await stat(req.input)).size;
      req.onProgress?.(0.5);
      await new Promise<void>((resolve, reject) => {
        req.signal?.addEventListener('abort', () => reject(req.signal?.reason), { once: true });
        void gate.then(resolve);
      });
      await writeFile(req.output, qcow2Header(size));
      req.onProgress?.(1);
    },
  };
}
