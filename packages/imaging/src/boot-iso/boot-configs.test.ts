import { describe, expect, it } from 'vitest';
import { bootConfigKind, patchBootConfig, patchBootConfigBytes } from './boot-configs.js';
import { parseKernelParams } from './kernel-params.js';

const add = parseKernelParams('vmkit.m=1');

describe('bootConfigKind', () => {
  it.each([
    ['boot/grub/grub.cfg', 'grub'],
    ['EFI/BOOT/GRUB.CFG', 'grub'],
    ['boot/grub/loopback.cfg', 'grub'],
    ['isolinux/isolinux.cfg', 'syslinux'],
    ['isolinux/txt.cfg', 'syslinux'],
    ['syslinux.cfg', 'syslinux'],
    ['boot/isolinux/menu/adtxt.cfg', 'syslinux'],
    ['preseed.cfg', undefined],
    ['boot/grub/theme.txt', undefined],
  ])('%s is %s', (path, kind) => expect(bootConfigKind(path)).toBe(kind));
});

describe('patchBootConfig', () => {
  it('patches linux, linuxefi and linux16 lines of GRUB, before --', () => {
    const text = [
      'menuentry "a" {',
      '\tlinux\t/vmlinuz root=x -- single',
      '  linuxefi /v quiet\r',
      'linux16 /v',
      '  initrd /initrd.gz',
      '# linux /commented',
      '}',
    ].join('\n');
    const out = patchBootConfig(text, 'grub', add, new Set(['quiet']));
    expect(out.kernelLines).toBe(3);
    expect(out.text.split('\n')).toEqual([
      'menuentry "a" {',
      '\tlinux\t/vmlinuz root=x vmkit.m=1 -- single',
      '  linuxefi /v vmkit.m=1\r',
      'linux16 /v vmkit.m=1',
      '  initrd /initrd.gz',
      '# linux /commented',
      '}',
    ]);
  });

  it('patches syslinux append lines of kernel entries, not of COM32 modules or local boots', () => {
    const text = [
      'default vesamenu.c32',
      'label live',
      '  kernel /live/vmlinuz',
      '  APPEND initrd=/live/initrd.gz boot=live --- quiet',
      'label hd',
      '  com32 chain.c32',
      '  append hd0 0',
      'label menu',
      '  kernel vesamenu.c32',
      '  append sub.cfg',
      'label other',
      '  linux /install/vmlinuz',
      '  append vga=788',
    ].join('\n');
    const out = patchBootConfig(text, 'syslinux', add, new Set());
    expect(out.kernelLines).toBe(2);
    const lines = out.text.split('\n');
    expect(lines[3]).toBe('  APPEND initrd=/live/initrd.gz boot=live vmkit.m=1 --- quiet');
    expect(lines[6]).toBe('  append hd0 0');
    expect(lines[9]).toBe('  append sub.cfg');
    expect(lines[12]).toBe('  append vga=788 vmkit.m=1');
  });

  it('leaves a configuration without kernel lines unchanged', () => {
    const text = 'set timeout=5\nconfigfile /boot/grub/x.cfg\n';
    expect(patchBootConfig(text, 'grub', add, new Set())).toEqual({ text, kernelLines: 0 });
  });
});

describe('patchBootConfigBytes', () => {
  it('keeps bytes that are not UTF-8 and writes the parameters as UTF-8', () => {
    const content = Uint8Array.from([...Buffer.from('# caf'), 0xe9, ...Buffer.from('\nlinux /v ro\n')]);
    const out = patchBootConfigBytes(content, 'grub', parseKernelParams('m="é"'), new Set());
    expect(out.kernelLines).toBe(1);
    expect(Buffer.from(out.bytes as Uint8Array)).toEqual(
      Buffer.concat([
        Buffer.from('# caf'),
        Buffer.from([0xe9]),
        Buffer.from('\nlinux /v ro m="é"\n', 'utf8'),
      ]),
    );
    expect(
      patchBootConfigBytes(Buffer.from('set a=1\n'), 'grub', parseKernelParams('m=1'), new Set()),
    ).toEqual({
      kernelLines: 0,
    });
  });
});
