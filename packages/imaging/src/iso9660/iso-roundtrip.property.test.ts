import { VmkitError } from '@vmkit/core/spi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MediaEntry } from '../media-entry.js';
import { writeIso9660 } from './iso-writer.js';
import { readIso9660 } from './read/iso-reader.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: generated names must avoid what the writer refuses
const BAD = /[\u0000-\u001f\u007f/]|[\ud800-\udfff]/;
const name = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 120 }),
    fc.constantFrom(
      'user-data',
      'meta-data',
      'A',
      'a',
      'README.TXT',
      'readme.txt',
      'x.tar.gz',
      '.hidden',
      'sp ace',
    ),
  )
  .filter(
    (n) =>
      n !== '.' &&
      n !== '..' &&
      !BAD.test(n.replace(/[\ud800-\udbff][\udc00-\udfff]/g, 'x')) &&
      Buffer.byteLength(n) <= 255,
  );

const entryArb = fc.record({
  dirs: fc.array(fc.constantFrom('etc', 'Ünïcode dir', 'd1', 'a-very-long-directory-name-for-testing'), {
    maxLength: 10,
  }),
  name,
  kind: fc.constantFrom('file', 'file', 'file', 'directory', 'symlink'),
  content: fc.uint8Array({ maxLength: 3000 }),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  // Up to 4 components of 250 bytes: targets near the 1,024-byte limit, spread over SL records.
  target: fc.array(fc.constantFrom('..', '.', 'etc', 'x'.repeat(250), 'passwd'), {
    minLength: 1,
    maxLength: 4,
  }),
  absolute: fc.boolean(),
});

/** Random trees with unique paths and no file standing where a directory is needed. */
const treeArb = fc.array(entryArb, { maxLength: 25 }).map((raw) => {
  const entries: MediaEntry[] = [];
  const kinds = new Map<string, string>();
  for (const r of raw) {
    const path = [...r.dirs, r.name].join('/');
    const prefixes = r.dirs.map((_, i) => r.dirs.slice(0, i + 1).join('/'));
    if (kinds.has(path) || prefixes.some((p) => kinds.has(p) && kinds.get(p) !== 'directory')) continue;
    if (r.kind !== 'directory' && [...kinds.keys()].some((k) => k.startsWith(`${path}/`))) continue;
    for (const p of prefixes) kinds.set(p, 'directory');
    kinds.set(path, r.kind);
    if (r.kind === 'file') entries.push({ path, content: r.content, mode: r.mode });
    else if (r.kind === 'directory') entries.push({ path, type: 'directory', mode: r.mode });
    else entries.push({ path, target: (r.absolute ? '/' : '') + r.target.join('/') });
  }
  return entries;
});

describe('ISO 9660 round trip (property)', () => {
  it('reads back every path, type, mode, target and byte through Rock Ridge', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, async (entries) => {
        const image = await readIso9660(await writeIso9660(entries, { volumeId: 'PROP' }));
        expect(image.namespace).toBe('rockridge');
        const byPath = new Map(image.files.map((f) => [f.path, f]));
        for (const entry of entries) {
          const found = byPath.get(entry.path);
          expect(found, entry.path).toBeDefined();
          if (entry.target !== undefined) {
            expect(found?.type).toBe('symlink');
            expect(found?.target).toBe(entry.target);
          } else if (entry.type === 'directory') {
            expect(found?.type).toBe('directory');
            expect(found?.mode).toBe(entry.mode);
          } else {
            expect(found?.type).toBe('file');
            expect(found?.mode).toBe(entry.mode);
            expect(
              Buffer.from(await image.readFile(entry.path)).equals(Buffer.from(entry.content as Uint8Array)),
            ).toBe(true);
          }
        }
        const implied = new Set(
          entries.flatMap((e) =>
            e.path
              .split('/')
              .slice(0, -1)
              .map((_, i, a) => a.slice(0, i + 1).join('/')),
          ),
        );
        expect(image.files.length).toBe(new Set([...entries.map((e) => e.path), ...implied]).size);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps every entry under Joliet and plain names, with the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, async (entries) => {
        const iso = await writeIso9660(entries, { volumeId: 'PROP' });
        const rr = await readIso9660(iso);
        for (const namespace of ['joliet', 'plain'] as const) {
          const other = await readIso9660(iso, { namespace });
          expect(other.files.length).toBe(rr.files.length);
          expect(new Set(other.files.map((f) => f.path)).size).toBe(other.files.length);
          if (namespace === 'plain') for (const f of other.files) expect(f.path).toMatch(/^[A-Z0-9_./]+$/);
          const sizes = (files: typeof rr.files) =>
            files.map((f) => (f.type === 'directory' ? -1 : f.size)).sort((a, b) => a - b);
          expect(sizes(other.files)).toEqual(sizes(rr.files));
        }
        const joliet = await readIso9660(iso, { namespace: 'joliet' });
        const names = new Set(joliet.files.map((f) => f.path));
        for (const entry of entries) {
          const safe = entry.path
            .split('/')
            .every((c) => c.length <= 64 && !/[*:;?\\]|[\ud800-\udfff]/.test(c));
          if (safe && entry.target === undefined) expect(names.has(entry.path), entry.path).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('gives hostile names a clear INVALID_ARGUMENT or a faithful encoding, never a crash', async () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(
        '..',
        '.',
        '/',
        'a/../..',
        '\u0000',
        'a\u0000b',
        '../../etc/passwd',
        'x'.repeat(300),
        'é/'.repeat(3),
        '\ud800',
      ),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (path) => {
        let iso: Uint8Array;
        try {
          iso = await writeIso9660([{ path, content: 'x' }], { volumeId: 'H' });
        } catch (error) {
          expect(VmkitError.is(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
          return;
        }
        const image = await readIso9660(iso);
        const files = image.files.filter((f) => f.type === 'file');
        expect(files.map((f) => f.path)).toEqual([path.replace(/\/$/, '')]);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects corrupted images with a VmkitError, never another exception', async () => {
    const base = await writeIso9660(
      [
        { path: 'a/b/c.txt', content: 'hello' },
        { path: 'l', target: '../x' },
        { path: `${'n'.repeat(200)}`, content: 'y' },
      ],
      { volumeId: 'FUZZ', padding: 0 },
    );
    const mutation = fc.array(
      fc.record({
        at: fc.integer({ min: 16 * 2048, max: base.length - 1 }),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      {
        minLength: 1,
        maxLength: 12,
      },
    );
    await fc.assert(
      fc.asyncProperty(mutation, fc.constantFrom('auto', 'joliet', 'plain'), async (changes, namespace) => {
        const bytes = base.slice();
        for (const c of changes) bytes[c.at] = c.value;
        try {
          const image = await readIso9660(bytes, { namespace: namespace as 'auto' });
          for (const f of image.files) if (f.type === 'file') await image.readFile(f.path);
        } catch (error) {
          expect(VmkitError.is(error), String(error)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});
