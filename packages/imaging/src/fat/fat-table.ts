import { u16le, u32le } from '../util/bytes.js';
import { MEDIA_FIXED } from './fat-boot-sector.js';
import { FAT_SECTOR, type FatGeometry } from './fat-geometry.js';

/** End-of-chain marks. */
const EOC = { 12: 0xfff, 16: 0xffff, 32: 0x0fffffff } as const;

/** A run of consecutive clusters holding one directory or file. */
export interface ClusterRun {
  /** First cluster. */
  readonly first: number;
  /** Number of clusters. */
  readonly count: number;
}

/** Encodes one FAT (all copies are identical) for contiguous cluster runs. */
export function encodeFat(g: FatGeometry, runs: readonly ClusterRun[]): Uint8Array {
  const out = new Uint8Array(g.fatSectors * FAT_SECTOR);
  const set = (n: number, v: number) => {
    if (g.fatType === 32) u32le(out, n * 4, v);
    else if (g.fatType === 16) u16le(out, n * 2, v);
    else {
      const o = Math.floor((n * 3) / 2);
      if (n % 2 === 0) {
        out[o] = v & 0xff;
        out[o + 1] = ((out[o + 1] ?? 0) & 0xf0) | ((v >>> 8) & 0x0f);
      } else {
        out[o] = ((out[o] ?? 0) & 0x0f) | ((v & 0x0f) << 4);
        out[o + 1] = (v >>> 4) & 0xff;
      }
    }
  };
  const eoc = EOC[g.fatType];
  set(0, (eoc & ~0xff) | MEDIA_FIXED);
  set(1, eoc);
  for (const run of runs) {
    for (let i = 0; i < run.count - 1; i++) set(run.first + i, run.first + i + 1);
    set(run.first + run.count - 1, eoc);
  }
  return out;
}
