import type { MasterSpec } from '@vmkit/core';
import { type MasterRef, VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { checkVboxMasterRef, isInsideFolder } from './master-ref-check.js';

const options = { namePrefix: 'vmkit-', machineFolder: '/home/u/.vmkit/virtualbox' };
const machine = 'vmkit-m-vmkit-web-0123abcd-9f9f';
const os = { family: 'debian', version: '12', arch: 'x86_64' };
const isoSpec: MasterSpec = { id: 'web', os, source: { type: 'iso', path: '/isos/installer.iso' } };
const diskSpec: MasterSpec = { id: 'web', os, source: { type: 'disk', path: '/disks/base.vdi' } };
const bootSpec: MasterSpec = { id: 'web', os, source: { type: 'bootIso', path: '/isos/live.iso' } };

const diskRef = (data: Record<string, unknown> = {}, id = machine): MasterRef => ({
  id,
  data: {
    machine,
    snapshot: 'vmkit-base',
    disk: `${options.machineFolder}/${machine}.vdi`,
    ownsDisk: true,
    ramMiB: 512,
    cores: 1,
    ...data,
  },
});
const bootRef = (data: Record<string, unknown> = {}): MasterRef => ({
  id: machine,
  data: {
    machine,
    snapshot: '',
    disk: '',
    ownsDisk: false,
    bootIso: '/isos/live.iso',
    ownsIso: false,
    ...data,
  },
});

/** The field a refused reference is refused for. */
function refusal(ref: MasterRef, spec: MasterSpec | undefined): string | undefined {
  try {
    checkVboxMasterRef(options, ref, spec);
    return undefined;
  } catch (error) {
    expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
    return String((error as VmkitError).details.field);
  }
}

describe('checkVboxMasterRef: what vmkit itself would have made passes', () => {
  it.each([
    ['an ISO-installed master', diskRef(), isoSpec],
    ['a retired master (no spec)', diskRef(), undefined],
    ['a downloaded disk', diskRef({ disk: `${options.machineFolder}/${machine}.img` }), diskSpec],
    ['the user’s disk opened as it is', diskRef({ disk: '/disks/base.vdi', ownsDisk: false }), diskSpec],
    ['the user’s boot ISO as it is', bootRef(), bootSpec],
    [
      'a remastered boot ISO',
      bootRef({ bootIso: `${options.machineFolder}/${machine}-boot.iso`, ownsIso: true }),
      { ...bootSpec, source: { ...bootSpec.source, kernelParams: 'console=ttyS0' } } as MasterSpec,
    ],
    ['a retired boot ISO master of the user’s ISO', bootRef({ bootIso: '/elsewhere/old.iso' }), undefined],
  ])('%s', (_what, ref, spec) => {
    expect(refusal(ref, spec)).toBeUndefined();
  });
});

describe('checkVboxMasterRef: what a writer of the store may plant is refused, naming the field', () => {
  it.each([
    [
      'a machine without the prefix',
      diskRef({ machine: 'prod-db' }, 'prod-db'),
      isoSpec,
      'master.data.machine',
    ],
    ['…also without a spec', diskRef({ machine: 'prod-db' }, 'prod-db'), undefined, 'master.data.machine'],
    ['a field vmkit never writes', diskRef({ kernelPath: '/etc/shadow' }), isoSpec, 'master.data.kernelPath'],
    [
      'a node (prefix, not a master)',
      diskRef({ machine: 'vmkit-web-1a2b' }, 'vmkit-web-1a2b'),
      undefined,
      'master.data.machine',
    ],
    [
      'another image’s master',
      diskRef({ machine: 'vmkit-m-vmkit-db-0123abcd-9f9f' }, 'vmkit-m-vmkit-db-0123abcd-9f9f'),
      isoSpec,
      'master.data.machine',
    ],
    ['an id that is not the machine', diskRef({}, 'prod-db'), isoSpec, 'master.id'],
    ['no data', { id: machine }, isoSpec, 'master.data'],
    ['another snapshot', diskRef({ snapshot: 'prod' }), isoSpec, 'master.data.snapshot'],
    ['an owned disk outside the folder', diskRef({ disk: '/var/lib/db.vdi' }), isoSpec, 'master.data.disk'],
    [
      'an owned disk named for another machine',
      diskRef({ disk: `${options.machineFolder}/other.vdi` }),
      undefined,
      'master.data.disk',
    ],
    [
      'a path that climbs out',
      diskRef({ disk: `${options.machineFolder}/../${machine}.vdi` }),
      undefined,
      'master.data.disk',
    ],
    ['a relative disk', diskRef({ disk: `${machine}.vdi` }), undefined, 'master.data.disk'],
    [
      'a user disk that is not the spec’s',
      diskRef({ disk: '/var/lib/db.vdi', ownsDisk: false }),
      diskSpec,
      'master.data.disk',
    ],
    ['ownsDisk that is not a boolean', diskRef({ ownsDisk: 'yes' }), undefined, 'master.data.ownsDisk'],
    ['odd hardware', diskRef({ ramMiB: -1 }), undefined, 'master.data.ramMiB'],
    [
      'an owned ISO outside the folder',
      bootRef({ bootIso: '/etc/important.iso', ownsIso: true }),
      bootSpec,
      'master.data.bootIso',
    ],
    [
      '…also without a spec',
      bootRef({ bootIso: '/etc/important.iso', ownsIso: true }),
      undefined,
      'master.data.bootIso',
    ],
    ['an ISO the spec does not name', bootRef({ bootIso: '/etc/shadow' }), bootSpec, 'master.data.bootIso'],
    ['an ISO for a spec that is no bootIso', bootRef(), isoSpec, 'master.data.bootIso'],
    ['a disk for a bootIso spec', diskRef(), bootSpec, 'master.data.bootIso'],
    ['a bootIso master with a disk', bootRef({ disk: '/var/lib/db.vdi' }), undefined, 'master.data.disk'],
  ])('%s', (_what, ref, spec, field) => {
    expect(refusal(ref as MasterRef, spec)).toBe(field);
  });

  it('names the rule in the message', () => {
    expect(() => checkVboxMasterRef(options, diskRef({ machine: 'prod-db' }, 'prod-db'), undefined)).toThrow(
      /^master\.data\.machine: must be a master name with the prefix \(vmkit-m-…\)$/,
    );
  });
});

describe('isInsideFolder', () => {
  it.each([
    ['/f/a.iso', true],
    ['/f/sub/a.vdi', true],
    ['/f', false],
    ['/f/../etc/passwd', false],
    ['/fx/a.iso', false],
    ['f/a.iso', false],
  ])('%s → %s', (path, inside) => {
    expect(isInsideFolder('/f', path)).toBe(inside);
  });
});
