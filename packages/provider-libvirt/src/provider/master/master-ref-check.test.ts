import type { MasterSpec } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { checkLibvirtMasterRef } from './master-ref-check.js';

const rules = { namePrefix: 'vt-', pool: 'vmkit', nodeCmdline: (c: string) => c.replace('install', 'run') };
const name = 'vmkit-img-0123abcd-beef';
const base = `vt-m-${name}`;
const kernelSpec: MasterSpec = {
  id: 'img',
  os: { family: 'linux', version: '1', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/k/vmlinuz', initrd: '/k/initrd', cmdline: 'mode=install' },
};
const diskSpec: MasterSpec = { ...kernelSpec, source: { type: 'disk', path: '/d.qcow2' } };
const isoSpec: MasterSpec = { ...kernelSpec, source: { type: 'bootIso', path: '/live.iso' } };
const disk = {
  pool: 'vmkit',
  volume: `${base}.qcow2`,
  format: 'qcow2',
  capacityBytes: 1024,
  boot: 'disk',
  volumes: [`${base}.qcow2`],
};
const kernel = {
  ...disk,
  boot: 'kernel',
  kernelVolume: `${base}.vmlinuz`,
  initrdVolume: `${base}.initrd`,
  cmdline: 'mode=run',
  volumes: [`${base}.qcow2`, `${base}.vmlinuz`, `${base}.initrd`],
};
const paths = {
  ...disk,
  boot: 'kernel',
  kernelPath: '/k/vmlinuz',
  initrdPath: '/k/initrd',
  cmdline: 'mode=run',
};
const iso = { ...disk, volume: `${base}.iso`, format: 'raw', boot: 'cdrom', volumes: [`${base}.iso`] };
const efiSpec: MasterSpec = { ...diskSpec, hardware: { firmware: 'efi' } };
const efi = { ...disk, nvramVolume: `${base}-VARS.fd`, volumes: [`${base}.qcow2`, `${base}-VARS.fd`] };
const ref = (data: Record<string, unknown>, id = data.volume as string) => ({ id, data });

describe('checkLibvirtMasterRef', () => {
  it('accepts what a build, a shared-master import and a boot ISO upload make', () => {
    expect(() => checkLibvirtMasterRef(rules, ref(disk), diskSpec)).not.toThrow();
    expect(() => checkLibvirtMasterRef(rules, ref(kernel), kernelSpec)).not.toThrow();
    expect(() => checkLibvirtMasterRef(rules, ref(paths), kernelSpec)).not.toThrow();
    expect(() => checkLibvirtMasterRef(rules, ref(iso), isoSpec)).not.toThrow();
    expect(() => checkLibvirtMasterRef(rules, ref(efi), efiSpec)).not.toThrow();
    // Retired masters are checked without a spec; uploaded boot files need none.
    expect(() => checkLibvirtMasterRef(rules, ref(kernel), undefined)).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, MasterSpec | undefined, string, RegExp]>([
    ['an id that is not a master volume name', disk, diskSpec, 'other-disk.qcow2', /^master\.id /],
    ['an id of another prefix', disk, diskSpec, `vx-m-${name}.qcow2`, /^master\.id /],
    ['an id other than the volume', disk, diskSpec, `vt-m-other.qcow2`, /^master\.data\.volume /],
    [
      'another pool',
      { ...disk, pool: 'default' },
      diskSpec,
      '',
      /^master\.data\.pool must be the configured pool vmkit/,
    ],
    [
      'a foreign volume',
      { ...disk, volume: 'victim.qcow2' },
      diskSpec,
      `${base}.qcow2`,
      /^master\.data\.volume /,
    ],
    [
      'a foreign volume in volumes',
      { ...disk, volumes: [`${base}.qcow2`, 'victim'] },
      diskSpec,
      '',
      /^master\.data\.volumes /,
    ],
    ['volumes not an array', { ...disk, volumes: 'victim' }, diskSpec, '', /^master\.data\.volumes /],
    [
      'a foreign kernel volume',
      { ...kernel, kernelVolume: 'victim' },
      kernelSpec,
      '',
      /^master\.data\.kernelVolume /,
    ],
    [
      'a foreign initrd volume',
      { ...kernel, initrdVolume: 'victim' },
      kernelSpec,
      '',
      /^master\.data\.initrdVolume /,
    ],
    [
      'a host file as initrd',
      { ...paths, initrdPath: '/etc/shadow' },
      kernelSpec,
      '',
      /^master\.data\.initrdPath /,
    ],
    [
      'a host file as kernel',
      { ...paths, kernelPath: '/etc/shadow' },
      kernelSpec,
      '',
      /^master\.data\.kernelPath /,
    ],
    ['boot-file paths without a spec', paths, undefined, '', /^master\.data\.kernelPath /],
    [
      'paths beside volumes',
      { ...kernel, initrdPath: '/k/initrd' },
      kernelSpec,
      '',
      /^master\.data\.volumes /,
    ],
    [
      'another command line',
      { ...kernel, cmdline: 'init=/bin/sh' },
      kernelSpec,
      '',
      /^master\.data\.cmdline /,
    ],
    [
      'kernel fields on a disk master',
      { ...disk, kernelPath: '/etc/shadow' },
      diskSpec,
      '',
      /^master\.data\.kernelPath /,
    ],
    [
      'an unknown field',
      { ...disk, backing: '/etc/shadow' },
      diskSpec,
      '',
      /^master\.data\.backing is not a field/,
    ],
    ['an unknown boot', { ...disk, boot: 'network' }, diskSpec, '', /^master\.data\.boot /],
    ['a boot its spec does not give', { ...disk }, kernelSpec, '', /^master\.data\.boot must be 'kernel'/],
    ['an unknown format', { ...disk, format: 'vmdk' }, diskSpec, '', /^master\.data\.format /],
    ['a boot ISO as qcow2', { ...iso, format: 'qcow2' }, isoSpec, '', /^master\.data\.format /],
    ['a negative capacity', { ...disk, capacityBytes: -1 }, diskSpec, '', /^master\.data\.capacityBytes /],
    [
      'a boot ISO under a disk volume name',
      { ...iso, volume: `${base}.qcow2` },
      isoSpec,
      `${base}.qcow2`,
      /^master\.id /,
    ],
    [
      'a foreign NVRAM volume',
      { ...efi, nvramVolume: 'victim-VARS.fd' },
      efiSpec,
      '',
      /^master\.data\.nvramVolume must be the master's own NVRAM volume/,
    ],
    [
      'an EFI master without its NVRAM volume in volumes',
      { ...efi, volumes: [`${base}.qcow2`] },
      efiSpec,
      '',
      /^master\.data\.volumes /,
    ],
    ['an NVRAM volume on a BIOS spec', efi, diskSpec, '', /^master\.data\.nvramVolume is only for/],
    ['an EFI spec without an NVRAM volume', disk, efiSpec, '', /^master\.data\.nvramVolume must be set/],
  ])('refuses %s, naming the field', (_what, data, spec, id, rule) => {
    expect(() => checkLibvirtMasterRef(rules, ref(data, id || undefined), spec)).toThrow(
      expect.objectContaining({ code: 'CORRUPT', message: expect.stringMatching(rule) }),
    );
  });

  it('refuses a reference without data', () => {
    expect(() => checkLibvirtMasterRef(rules, { id: `${base}.qcow2` }, diskSpec)).toThrow(
      /^master\.data must be an object/,
    );
  });

  it('leaves boot-file paths to the caller when asked (ref-only, as deleteMaster and cloneNode check)', () => {
    expect(() => checkLibvirtMasterRef(rules, ref(paths), undefined, { refOnly: true })).not.toThrow();
  });
});
