import { expect, it } from 'vitest';
import type { MasterSpec } from '../model/master-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';

/** What the master-reference checks of the provider contract read from the running suite. */
export interface MasterRefSubject {
  readonly provider: HypervisorProvider;
  readonly masterSpec: MasterSpec;
  /** A master built by the suite. */
  readonly master: MasterRef;
  /** The run's unique name prefix. */
  readonly run: string;
}

/**
 * Registers the contract's check of `checkMasterRef`, which every provider implements (core
 * checks every stored record with it): the reference of a master it built passes with the spec it
 * was built from; the same reference with its id changed is refused with `CORRUPT`, and so is
 * one with any one of its string data fields changed to a name the provider did not make, or with
 * a field the provider never writes (both naming that field).
 */
export function itChecksMasterRefs(get: () => MasterRefSubject): void {
  it('checkMasterRef accepts the master it built and refuses tampered copies, naming the field', () => {
    const { provider, masterSpec, master, run } = get();
    const check = provider.checkMasterRef?.bind(provider);
    if (!check) throw new Error('checkMasterRef is required: core checks every stored master record with it');
    expect(() => check(master, masterSpec)).not.toThrow();
    const foreign = `${run}-foreign`;
    const refused = (ref: MasterRef, field: string) =>
      expect(() => check(ref, masterSpec), field).toThrow(
        expect.objectContaining({ code: 'CORRUPT', message: expect.stringContaining(field) }),
      );
    // A changed id no longer matches the names in its data (or is itself not a name it makes).
    refused({ ...master, id: foreign }, 'master.');
    const data = master.data ?? {};
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'string')
        refused({ ...master, data: { ...data, [key]: `${value}-${foreign}` } }, key);
    }
    refused({ ...master, data: { ...data, [`${run}Extra`]: '/etc/shadow' } }, `${run}Extra`);
  });
}
