import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { memoryMasterDisk } from '../testing/memory-master-export.js';
import { provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

describe('exportImageDisk', () => {
  it("builds the master if needed and writes its disk through the provider's exportMasterDisk", async () => {
    const p = provider();
    const service = await s.service(p);
    const to = join(s.dir, 'out.raw');
    const result = await service.exportImageDisk('debian-12', to);
    expect(p.stats.builds).toBe(1);
    const [master] = p.masterNames();
    expect(result).toEqual({ format: 'raw', bytes: 1024 * 1024, compression: 'none' });
    // Digests compared, not the bytes: \`toEqual\` walks 1 MiB one byte at a time (seconds, more under load).
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    expect(sha256(await readFile(to))).toBe(sha256(memoryMasterDisk(master!)));
    // The file is new: a second export to the same path is refused.
    await expect(service.exportImageDisk('debian-12', to)).rejects.toThrow(/EEXIST/);
  });

  it('is NOT_FOUND for an unknown image and UNSUPPORTED, naming the method, without exportMasterDisk', async () => {
    const p = provider();
    const service = await s.service(p);
    const missing = await service.exportImageDisk('nope', join(s.dir, 'x')).catch((e: unknown) => e);
    expect(VmkitError.is(missing, 'NOT_FOUND')).toBe(true);
    const bare = await s.service({ ...p, exportMasterDisk: undefined });
    const error = await bare.exportImageDisk('debian-12', join(s.dir, 'y')).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/exportMasterDisk/);
  });
});
