import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';

/** What the master-transfer checks of the provider contract read from the running suite. */
export interface MasterTransferSubject {
  readonly provider: HypervisorProvider;
  readonly masterSpec: MasterSpec;
  /** A master built by the suite. */
  readonly master: MasterRef;
  /** The run's unique name prefix. */
  readonly run: string;
  /** Masters to delete after the suite. */
  readonly masters: MasterRef[];
  /** Whether to run the checks (default: the provider has both methods). */
  readonly enabled?: boolean;
}

/**
 * Registers the contract's checks of the optional `exportMasterDisk` and `importMasterDisk`, for
 * providers that have both (the pair behind `shareMasters`): a master exported compressed imports
 * back as a master that exists; a file whose header is not the claimed format is refused and
 * leaves no master. For a provider with neither, or a subject that turns them off, the check is
 * reported as skipped (vitest's `skip` with the reason); a provider with only one of them fails.
 */
export function itTransfersMasterDisks(get: () => MasterTransferSubject): void {
  it('exports a master disk that imports back as a master, and refuses a disk that is not what it claims', async (ctx) => {
    const s = get();
    const p = s.provider;
    const has = [p.exportMasterDisk, p.importMasterDisk].filter((f) => f !== undefined).length;
    if (has === 1) throw new Error('exportMasterDisk and importMasterDisk go together: the provider has one');
    // Not applicable: shown as skipped (with the reason), never as passed.
    if (s.enabled === false) ctx.skip('the subject declares masterTransfer: false');
    if (has === 0 && s.enabled === undefined)
      ctx.skip('the provider has neither exportMasterDisk nor importMasterDisk');
    if (!p.exportMasterDisk || !p.importMasterDisk)
      throw new Error('exportMasterDisk and importMasterDisk are both needed');
    const dir = await mkdtemp(join(tmpdir(), 'vmkit-contract-transfer-'));
    try {
      const file = join(dir, 'disk');
      const exported = await p.exportMasterDisk(s.master, file, { compress: true });
      expect(exported.bytes).toBe((await stat(file)).size);
      expect(exported.bytes).toBeGreaterThan(0);
      expect(['qcow2', 'raw']).toContain(exported.format);
      const name = `${s.run}-imported`;
      const ref = await p.importMasterDisk(name, file, {
        format: exported.format as 'qcow2' | 'raw',
        spec: s.masterSpec,
      });
      s.masters.push(ref);
      expect(await p.mastersExist([ref])).toEqual([true]);
      const bogus = join(dir, 'bogus');
      await writeFile(bogus, new Uint8Array(1024 * 1024));
      const error = await p
        .importMasterDisk(`${s.run}-bogus`, bogus, { format: 'qcow2', spec: s.masterSpec })
        .catch((e: unknown) => e);
      expect(VmkitError.is(error, 'CORRUPT') || VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect(await p.mastersExist([{ id: `${s.run}-bogus` }])).toEqual([false]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
