import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { fromStream } from './media-entry.js';
import { buildMediaTree, walkTree } from './media-tree.js';

const opts = { defaultMtime: new Date(Date.UTC(2000, 0, 1)), maxFileSize: 1000 };

function invalid(fn: () => unknown, field: string, rule: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as VmkitError).details.field).toBe(field);
    expect((error as Error).message).toMatch(rule);
    return;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('buildMediaTree', () => {
  it('creates implied parents, sorts children and infers types', () => {
    const root = buildMediaTree(
      [
        { path: 'b/c.txt', content: 'x' },
        { path: 'a', type: 'directory', mode: 0o700 },
        { path: 'b/link', target: '../a' },
      ],
      opts,
    );
    const nodes = [...walkTree(root)].map((n) => [n.path, n.kind, n.mode.toString(8), n.size]);
    expect(nodes).toEqual([
      ['a', 'directory', '700', 0],
      ['b', 'directory', '755', 0],
      ['b/c.txt', 'file', '644', 1],
      ['b/link', 'symlink', '777', 0],
    ]);
  });

  it('lets an explicit directory entry set the mode of an implied one', () => {
    const root = buildMediaTree([{ path: 'd/f' }, { path: 'd', type: 'directory', mode: 0o711 }], opts);
    expect(root.children[0]?.mode).toBe(0o711);
  });

  it.each([
    ['../etc/passwd', /escape/],
    ['a/../../b', /escape/],
    ['./a', /escape/],
    ['/abs', /relative/],
    ['a//b', /empty components/],
    ['', /non-empty/],
    ['a\u0000b', /control/],
    ['a\nb', /control/],
    ['x\ud800y', /Unicode/],
    [`${'n'.repeat(256)}`, /255/],
  ])('refuses the path %j', (path, rule) => {
    invalid(() => buildMediaTree([{ path }], opts), 'entries[0].path', rule);
  });

  it('refuses duplicates and files used as directories', () => {
    invalid(
      () => buildMediaTree([{ path: 'a' }, { path: 'a' }], opts),
      'entries[1].path',
      /already used by entries\[0\]/,
    );
    invalid(
      () => buildMediaTree([{ path: 'a' }, { path: 'a/b' }], opts),
      'entries[1].path',
      /not a directory/,
    );
  });

  it('checks types, targets, modes, times and sizes', () => {
    invalid(
      () => buildMediaTree([{ path: 'd', type: 'directory', content: 'x' }], opts),
      'entries[0].content',
      /no content/,
    );
    invalid(
      () => buildMediaTree([{ path: 'l', type: 'symlink' }], opts),
      'entries[0].target',
      /non-empty target/,
    );
    invalid(
      () => buildMediaTree([{ path: 'f', target: 'x', type: 'file' }], opts),
      'entries[0].target',
      /only symlinks/,
    );
    invalid(() => buildMediaTree([{ path: 'f', mode: 0o10000 }], opts), 'entries[0].mode', /0o7777/);
    invalid(() => buildMediaTree([{ path: 'f', mtime: Number.NaN }], opts), 'entries[0].mtime', /valid Date/);
    invalid(
      () => buildMediaTree([{ path: 'f', content: new Uint8Array(1001) }], opts),
      'entries[0].content',
      /at most 1000/,
    );
    const big = fromStream(5000, async function* () {});
    invalid(() => buildMediaTree([{ path: 'f', content: big }], opts), 'entries[0].content', /at most 1000/);
    invalid(
      () => buildMediaTree([{ path: 'f', content: 42 as unknown as string }], opts),
      'entries[0].content',
      /Uint8Array/,
    );
    invalid(() => buildMediaTree([{ path: 'f', type: 'fifo' as 'file' }], opts), 'entries[0].type', /'file'/);
  });

  it('accepts names with spaces, dots inside and any Unicode', () => {
    const root = buildMediaTree(
      [{ path: 'ünï cødé/名前.tar.gz' }, { path: '.hidden' }, { path: 'emoji-😀' }],
      opts,
    );
    expect([...walkTree(root)].map((n) => n.path)).toEqual([
      '.hidden',
      'emoji-😀',
      'ünï cødé',
      'ünï cødé/名前.tar.gz',
    ]);
  });
});
