import type { FormatProbe } from './format-probe.js';
import { ascii, ProbeFailure, u64, view } from './probe-context.js';

const MAGIC = 'LUKS\xba\xbe';
const SECTOR = 512;
/** Largest LUKS2 JSON area read (cryptsetup's default is 12 KiB). */
const MAX_JSON = 256 * 1024;

/** LUKS 1 and 2: the virtual size is the payload after the encrypted data's offset. */
export const luksProbe: FormatProbe = {
  format: 'luks',
  matches: (ctx) => ctx.head.length >= 6 && ascii(ctx.head, 0, 6) === MAGIC,
  async inspect(ctx) {
    const dv = view(ctx.need(SECTOR, 'LUKS header'));
    const version = dv.getUint16(6);
    let payloadOffset: number;
    if (version === 1) {
      payloadOffset = dv.getUint32(104) * SECTOR;
    } else if (version === 2) {
      const hdrSize = u64(dv, 8, false, 'LUKS2 header size');
      if (hdrSize < 4096 || hdrSize - 4096 > MAX_JSON)
        throw new ProbeFailure(
          'malformed',
          `LUKS2 header size ${hdrSize} is outside 4 KiB..${MAX_JSON + 4096}`,
        );
      const json = await ctx.read(4096, hdrSize - 4096, 'LUKS2 JSON area');
      const nul = json.indexOf(0);
      payloadOffset = segmentOffset(ascii(json, 0, nul < 0 ? json.length : nul));
    } else {
      throw new ProbeFailure('malformed', `LUKS version ${version} is neither 1 nor 2`);
    }
    if (payloadOffset > ctx.size)
      throw new ProbeFailure('truncated', `the LUKS payload offset ${payloadOffset} lies beyond the end`);
    return {
      virtualSize: ctx.size - payloadOffset,
      details: {
        version,
        cipher: version === 1 ? ascii(ctx.head, 8, 32).replace(/\0.*$/s, '') : undefined,
        payloadOffset,
      },
      issues: [],
    };
  },
};

function segmentOffset(text: string): number {
  let parsed: { segments?: Record<string, { offset?: string }> };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProbeFailure('malformed', 'the LUKS2 JSON area is not JSON');
  }
  const offsets = Object.values(parsed.segments ?? {}).map((s) => Number(s.offset));
  const first = Math.min(...offsets);
  if (!Number.isSafeInteger(first) || first < 0)
    throw new ProbeFailure('malformed', 'the LUKS2 header has no segment');
  return first;
}
