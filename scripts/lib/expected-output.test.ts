import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compareOutput, expectedLines, lineMatches } from './expected-output.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('expected output comments', () => {
  it('reads the comment of each console.log statement line, in order, and nothing else', () => {
    const source = [
      'console.log(1 + 1); // 2',
      'const x = 3; // not output',
      "  console.log('a', x);   //   a 3  ",
      "console.log('no comment');",
      'items.forEach((i) => console.log(i)); // a loop is not one line',
    ].join('\n');
    expect(expectedLines(source)).toEqual(['2', '  a 3']);
  });

  it('matches lines exactly, with … as the only wildcard', () => {
    expect(lineMatches('port 80', 'port 80')).toBe(true);
    expect(lineMatches('port 80', 'port 8080')).toBe(false);
    expect(lineMatches('port …', 'port 8080')).toBe(true);
    expect(lineMatches('[ 1.5 ]', '[ 1x5 ]')).toBe(false);
    expect(lineMatches('id i-… up', 'id i-0abc up')).toBe(true);
  });

  it('finds the expected lines in order among the output lines, and names the one missing', () => {
    expect(compareOutput(['a', 'c'], 'a\nb\nc\n')).toBeUndefined();
    expect(compareOutput(['c', 'a'], 'a\nb\nc\n')).toMatch(/expected the output line\n {2}a\n/);
    expect(compareOutput(['1: running'], '1\n')).toMatch(/1: running/);
  });
});

describe('scripts/check-docs.ts', () => {
  const root = mkdtempSync(join(tmpdir(), 'vmkit-check-docs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const check = (doc: string) => {
    mkdirSync(join(root, 'docs'), { recursive: true });
    mkdirSync(join(root, 'examples'), { recursive: true });
    writeFileSync(join(root, 'docs', 'guide.md'), doc);
    return spawnSync(
      join(repo, 'node_modules', '.bin', 'tsx'),
      [join(repo, 'scripts', 'check-docs.ts'), '--root', root],
      {
        encoding: 'utf8',
      },
    );
  };

  it('passes a block whose output is what its comments say', () => {
    const run = check(
      "# Guide\n\n```ts\nconsole.log([1, 2]); // [ 1, 2 ]\nconsole.log('id-' + Date.now()); // id-…\n```\n",
    );
    expect(run.stdout).toMatch(/ok {3}docs\/guide\.md block 1/);
    expect(run.status).toBe(0);
  });

  it('fails a block that exits 0 but prints something else than its comment', () => {
    const run = check('# Guide\n\n```ts\nconsole.log(1 + 1); // 3\n```\n');
    expect(run.stdout).toMatch(/FAIL docs\/guide\.md block 1 \(output differs from its comments\)/);
    expect(run.stdout).toMatch(/expected the output line\n {2}3\n/);
    expect(run.status).toBe(1);
  });
});
