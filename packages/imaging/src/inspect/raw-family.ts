import type { FormatProbe } from './format-probe.js';
import { ascii, view } from './probe-context.js';

const ISO_PVD = 16 * 2048;

/** ISO 9660: `CD001` in the volume descriptor at sector 16. Its disk is the file itself, as for raw. */
export const isoProbe: FormatProbe = {
  format: 'iso',
  matches: (ctx) => ctx.head.length >= ISO_PVD + 6 && ascii(ctx.head, ISO_PVD + 1, 5) === 'CD001',
  async inspect(ctx) {
    const details: Record<string, unknown> = {};
    if (ctx.head.length >= ISO_PVD + 2048 && ctx.head[ISO_PVD] === 1) {
      const dv = view(ctx.head);
      details.volumeId = ascii(ctx.head, ISO_PVD + 40, 32).trim();
      details.volumeBytes = dv.getUint32(ISO_PVD + 80, true) * dv.getUint16(ISO_PVD + 128, true);
    }
    if (hasMbrSignature(ctx.head)) details.partitionTable = gptAt(ctx.head) ? 'gpt' : 'mbr';
    return { virtualSize: ctx.size, details, issues: [] };
  },
};

/** A GPT disk: `EFI PART` at LBA 1 (512- or 4096-byte sectors). Its disk is the file itself, as for raw. */
export const gptProbe: FormatProbe = {
  format: 'gpt',
  matches: (ctx) => gptAt(ctx.head) !== undefined,
  async inspect(ctx) {
    const sector = gptAt(ctx.head)!;
    const dv = view(ctx.head);
    return {
      virtualSize: ctx.size,
      details: {
        sectorSize: sector,
        partitionEntries: dv.getUint32(sector + 80, true),
        protectiveMbr: hasMbrSignature(ctx.head),
      },
      issues: [],
    };
  },
};

/** The sector size at which a GPT header lies, if any. */
function gptAt(head: Uint8Array): number | undefined {
  for (const sector of [512, 4096]) {
    if (head.length >= sector + 92 && ascii(head, sector, 8) === 'EFI PART') return sector;
  }
  return undefined;
}

/** True when the boot sector ends in the 0x55AA signature. */
export function hasMbrSignature(head: Uint8Array): boolean {
  return head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa;
}
