import { readFileSync, writeFileSync } from 'node:fs';
import { writeIso9660 } from '@vmkit/imaging';

/**
 * Writes a BIOS-bootable isolinux ISO with vmkit's own writer: Debian's `isolinux.bin` and
 * `ldlinux.c32`, `isolinux/isolinux.cfg` of `cfg` (lines), and `files` (ISO path -> host file).
 */
export async function writeIsolinuxIso(
  path: string,
  volumeId: string,
  cfg: readonly string[],
  files: Readonly<Record<string, string>>,
): Promise<void> {
  const image = await writeIso9660(
    [
      { path: 'isolinux/isolinux.bin', content: readFileSync('/usr/lib/ISOLINUX/isolinux.bin') },
      { path: 'isolinux/ldlinux.c32', content: readFileSync('/usr/lib/syslinux/modules/bios/ldlinux.c32') },
      { path: 'isolinux/isolinux.cfg', content: `${cfg.join('\n')}\n` },
      ...Object.entries(files).map(([at, from]) => ({ path: at, content: readFileSync(from) })),
    ],
    {
      volumeId,
      boot: { images: [{ platform: 'bios', image: 'isolinux/isolinux.bin', bootInfoTable: true }] },
    },
  );
  writeFileSync(path, image);
}
