import { existsSync } from 'node:fs';

/** Where Debian's `debian-installer-12-netboot-amd64` package puts the text installer's kernel and initrd. */
const DIR = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';

/**
 * The real Debian 12 installer's `linux` and `initrd.gz` (the package is installed by
 * scripts/setup.sh, see scripts/lib/common.sh); throws when they are missing.
 */
export function debianInstaller(): { kernel: string; initrd: string } {
  const kernel = `${DIR}/linux`;
  const initrd = `${DIR}/initrd.gz`;
  if (!existsSync(kernel) || !existsSync(initrd))
    throw new Error(`Debian's installer is not in ${DIR}: apt-get install debian-installer-12-netboot-amd64`);
  return { kernel, initrd };
}
