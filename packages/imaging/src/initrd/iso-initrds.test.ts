import { describe, expect, it } from 'vitest';
import { writeIso9660 } from '../iso9660/iso-writer.js';
import { initrdsOfConfig, isoInitrdPaths } from './iso-initrds.js';

describe('isoInitrdPaths', () => {
  it('reads isolinux append lines and GRUB initrd lines, keeping only files the ISO holds', async () => {
    const iso = await writeIso9660(
      [
        {
          path: 'isolinux/isolinux.cfg',
          content: 'label a\n  kernel /install/vmlinuz\n  append initrd=/install/initrd.gz,/extra.gz quiet\n',
        },
        {
          path: 'boot/grub/grub.cfg',
          content:
            'menuentry x {\n  linux /install/vmlinuz\n  initrd /install/gtk/initrd.gz /missing.gz\n}\n',
        },
        { path: 'install/initrd.gz', content: 'a' },
        { path: 'install/gtk/initrd.gz', content: 'b' },
        { path: 'extra.gz', content: 'c' },
      ],
      { volumeId: 'INITRDS' },
    );
    expect(await isoInitrdPaths(iso)).toEqual(['extra.gz', 'install/gtk/initrd.gz', 'install/initrd.gz']);
  });

  it('parses initrd16, initrdefi and GRUB device prefixes', () => {
    expect(initrdsOfConfig('  initrd16 /a.img\n  initrdefi (cd0)/b.img\nINITRD /c.img\n')).toEqual([
      '/a.img',
      '(cd0)/b.img',
      '/c.img',
    ]);
  });
});
