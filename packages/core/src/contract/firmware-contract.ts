import { expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { newMasterName } from '../masters/build-and-record.js';
import { runMasterBuild } from '../masters/master-build-pipeline.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import { specHash } from '../util/canonical-json.js';

/** What the firmware checks of the provider contract read from the running suite. */
export interface FirmwareSubject {
  readonly provider: HypervisorProvider;
  /** The suite's master spec; the checks build an `efi` variant of it. */
  readonly masterSpec: MasterSpec;
  /** The run's unique name prefix. */
  readonly run: string;
  /** Masters to delete after the suite. */
  readonly masters: MasterRef[];
  /** Nodes to destroy after the suite. */
  readonly made: string[];
  /** The suite's clone spec with overrides. */
  cloneSpec(name: string, overrides?: Partial<CloneSpec>): CloneSpec;
  /** The hypervisor's real objects, to compare before and after. */
  listReal(): Promise<string[]>;
}

/**
 * Registers the contract's check of `hardware.firmware`: a provider whose capabilities list `efi`
 * builds an EFI master, clones a node that keeps `firmware: 'efi'` in its record, and removes both
 * without a trace (libvirt: the NVRAM files too); any other provider gets the build refused before
 * anything is made (`UNSUPPORTED` naming `hardware.firmware`).
 */
export function itHandlesFirmware(get: () => FirmwareSubject): void {
  it("builds and clones hardware.firmware 'efi' where capabilities list it, and refuses it early elsewhere", async () => {
    const s = get();
    const caps = await s.provider.capabilities();
    const spec: MasterSpec = {
      ...s.masterSpec,
      id: `${s.masterSpec.id}-efi`,
      hardware: { ...s.masterSpec.hardware, firmware: 'efi' },
    };
    const masterName = newMasterName(spec, specHash(spec));
    const before = await s.listReal();
    if (!caps.firmware?.includes('efi')) {
      const error = await runMasterBuild(s.provider, spec, masterName).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
      expect((error as VmkitError).details.field).toBe('hardware.firmware');
      expect(await s.listReal()).toEqual(before);
      return;
    }
    expect(caps.firmware).toContain('bios');
    const master = await runMasterBuild(s.provider, spec, masterName);
    s.masters.push(master);
    // The reference passes the provider's own check of stored records, with its spec.
    expect(() => s.provider.checkMasterRef?.(master, spec)).not.toThrow();
    const node = await s.provider.cloneNode(
      s.cloneSpec(`${s.run}-efi`, {
        master,
        imageId: spec.id,
        hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1, firmware: 'efi' },
      }),
    );
    s.made.push(node.id);
    expect(node.hardware.firmware).toBe('efi');
    expect((await s.provider.getNode(node.id))?.hardware.firmware).toBe('efi');
    await s.provider.destroyNode(node.id);
    await s.provider.deleteMaster(master);
    expect(await s.listReal()).toEqual(before);
  });
}
