import { describe, expect, it } from 'vitest';
import { buildMediaTree } from '../media-tree.js';
import { jolietIdentifiers, primaryIdentifiers } from './iso-names.js';

function children(names: string[]) {
  const entries = names.map((path) => ({ path, content: 'x' }));
  return buildMediaTree(entries, { defaultMtime: new Date(0), maxFileSize: 1024 }).children;
}

describe('ISO 9660 name collisions', () => {
  it('numbers similar level-1 names in order, skipping names taken by other entries', () => {
    // 'REPORT_5.txt' sorts first and keeps REPORT_5; the generated tails step over it.
    const names = [
      'REPORT_5.txt',
      ...Array.from({ length: 120 }, (_, i) => `report-${String(i).padStart(3, '0')}.txt`),
    ];
    const recorded = primaryIdentifiers(children(names), 1).map((id) => id.recorded);
    expect(new Set(recorded).size).toBe(121);
    const byNode = new Map(primaryIdentifiers(children(names), 1).map((id) => [id.node.name, id.recorded]));
    expect(byNode.get('REPORT_5.txt')).toBe('REPORT_5.TXT;1');
    expect(byNode.get('report-000.txt')).toBe('REPORT_0.TXT;1');
    expect(byNode.get('report-004.txt')).toBe('REPORT_4.TXT;1');
    expect(byNode.get('report-005.txt')).toBe('REPORT_6.TXT;1');
    expect(byNode.get('report-008.txt')).toBe('REPORT_9.TXT;1');
    expect(byNode.get('report-009.txt')).toBe('REPORT10.TXT;1');
    expect(byNode.get('report-098.txt')).toBe('REPORT99.TXT;1');
    expect(byNode.get('report-099.txt')).toBe('REPOR100.TXT;1');
    expect(byNode.get('report-119.txt')).toBe('REPOR120.TXT;1');
  });

  it('keeps separate counters for different extensions and bases', () => {
    const names = [
      'aaaaaaaa1.txt',
      'aaaaaaaa2.txt',
      'aaaaaaaa1.log',
      'aaaaaaaa2.log',
      'bbbbbbbb1.txt',
      'bbbbbbbb2.txt',
    ];
    const byNode = new Map(primaryIdentifiers(children(names), 1).map((id) => [id.node.name, id.recorded]));
    expect([...byNode.entries()].sort()).toEqual([
      ['aaaaaaaa1.log', 'AAAAAAAA.LOG;1'],
      ['aaaaaaaa1.txt', 'AAAAAAAA.TXT;1'],
      ['aaaaaaaa2.log', 'AAAAAAA1.LOG;1'],
      ['aaaaaaaa2.txt', 'AAAAAAA1.TXT;1'],
      ['bbbbbbbb1.txt', 'BBBBBBBB.TXT;1'],
      ['bbbbbbbb2.txt', 'BBBBBBB1.TXT;1'],
    ]);
  });

  it('numbers long Joliet names that share their first 64 characters', () => {
    const stem = 'x'.repeat(70);
    const names = Array.from({ length: 12 }, (_, i) => `${stem}${i}.txt`);
    const ids = jolietIdentifiers(children(names));
    const byNode = new Map(ids.map((id) => [id.node.name, id.recorded]));
    expect(new Set(ids.map((id) => id.recorded)).size).toBe(12);
    expect(byNode.get(`${stem}0.txt`)).toBe(`${'x'.repeat(60)}.txt;1`);
    expect(byNode.get(`${stem}1.txt`)).toBe(`${'x'.repeat(58)}~1.txt;1`);
    expect(byNode.get(`${stem}10.txt`)).toBe(`${'x'.repeat(58)}~2.txt;1`);
    expect(byNode.get(`${stem}9.txt`)).toBe(`${'x'.repeat(57)}~11.txt;1`);
    for (const id of ids) expect(id.recorded.length).toBeLessThanOrEqual(64 + 2);
  });
});
