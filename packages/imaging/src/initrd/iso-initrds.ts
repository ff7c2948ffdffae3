import { readIso9660 } from '../iso9660/read/iso-reader.js';

/** Boot configuration files whose kernel lines name initrds. */
const CONFIG = /\.cfg$/i;

/** Initrd paths named by one boot configuration's text, as written (`/install/initrd.gz`). */
export function initrdsOfConfig(text: string): string[] {
  const found: string[] = [];
  // isolinux/syslinux: `append initrd=/a.gz,/b.gz ...`, or an `initrd /a.gz` line.
  for (const m of text.matchAll(/(?:^|\s)initrd=(\S+)/gim)) found.push(...(m[1] as string).split(','));
  // GRUB (`initrd`, `initrd16`, `initrdefi`) and syslinux `INITRD` lines: each path given.
  for (const m of text.matchAll(/^\s*initrd(?:16|efi)?\s+([^\n#]+)/gim))
    found.push(...(m[1] as string).trim().split(/\s+/));
  return found;
}

/**
 * The initrds an installer ISO's boot configurations (isolinux/syslinux and GRUB `.cfg` files)
 * load, as paths in the ISO without a leading `/`, each once, only those the ISO holds: where an
 * installer's answers go for the `initrd` delivery of an ISO source.
 */
export async function isoInitrdPaths(iso: string | Uint8Array): Promise<string[]> {
  const reader = await readIso9660(iso);
  const files = new Set(reader.files.filter((f) => f.type === 'file').map((f) => f.path));
  const found = new Set<string>();
  for (const path of files) {
    if (!CONFIG.test(path)) continue;
    const text = Buffer.from(await reader.readFile(path)).toString('latin1');
    for (const named of initrdsOfConfig(text)) {
      const clean = named.replace(/^\(\S*?\)/, '').replace(/^\/+/, '');
      if (files.has(clean)) found.add(clean);
    }
  }
  return [...found].sort();
}
