import { describe, expect, it } from 'vitest';
import { buildMediaTree } from '../media-tree.js';
import { fatNames } from './fat-names.js';

function shortNames(names: string[]): Map<string, string> {
  const entries = names.map((path) => ({ path, content: 'x' }));
  const nodes = buildMediaTree(entries, { defaultMtime: new Date(0), maxFileSize: 1024 }).children;
  const out = new Map<string, string>();
  for (const [node, name] of fatNames(nodes, (n) => n.path)) {
    const text = String.fromCharCode(...name.short);
    out.set(node.name, `${text.slice(0, 8).trimEnd()}.${text.slice(8).trimEnd()}`);
  }
  return out;
}

describe('FAT short-name aliases', () => {
  it('numbers similar long names in order, around names already taken', () => {
    const names = [
      'REPORT~3.TXT',
      ...Array.from({ length: 120 }, (_, i) => `report-${String(i).padStart(3, '0')}.txt`),
    ];
    const short = shortNames(names);
    expect(new Set(short.values()).size).toBe(121);
    expect(short.get('REPORT~3.TXT')).toBe('REPORT~3.TXT');
    expect(short.get('report-000.txt')).toBe('REPORT~1.TXT');
    expect(short.get('report-001.txt')).toBe('REPORT~2.TXT');
    expect(short.get('report-002.txt')).toBe('REPORT~4.TXT');
    expect(short.get('report-007.txt')).toBe('REPORT~9.TXT');
    expect(short.get('report-008.txt')).toBe('REPOR~10.TXT');
    expect(short.get('report-098.txt')).toBe('REPO~100.TXT');
    expect(short.get('report-119.txt')).toBe('REPO~121.TXT');
  });

  it('keeps separate counters per base and extension', () => {
    const short = shortNames(['long name a.txt', 'long name b.txt', 'long name c.md', 'other name.txt']);
    expect([...short.entries()].sort()).toEqual([
      ['long name a.txt', 'LONGNA~1.TXT'],
      ['long name b.txt', 'LONGNA~2.TXT'],
      ['long name c.md', 'LONGNA~1.MD'],
      ['other name.txt', 'OTHERN~1.TXT'],
    ]);
  });
});
