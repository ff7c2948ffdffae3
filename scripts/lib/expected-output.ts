// The `// expected output` convention of docs/*.md blocks and examples/*.ts scripts, as
// scripts/check-docs.ts checks it: a line that is a `console.log(...);` statement followed by a
// `// <text>` comment expects <text> as one line of the program's standard output. Lines are
// compared exactly (trailing spaces ignored), in the order of the source; `…` in the comment
// matches any run of characters within the line (for ids, times, ports, hashes). Output lines
// without a comment (a log in a loop, an uncommented log) are skipped, so the expected lines must
// appear in order among the output lines. Words about the output go on a line of their own.

/** A `console.log(...);` statement line ending with a comment: the comment is its output. */
const LOG_WITH_COMMENT = /^\s*console\.log\(.*\);\s*\/\/ ?(.*)$/;

/** The output lines a program's source expects, in source order. */
export function expectedLines(source: string): string[] {
  return source.split('\n').flatMap((line) => {
    const m = LOG_WITH_COMMENT.exec(line);
    return m ? [(m[1] ?? '').trimEnd()] : [];
  });
}

/** Whether an output line matches an expected line (`…` matches any characters). */
export function lineMatches(expected: string, actual: string): boolean {
  const pattern = expected
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(actual.trimEnd());
}

/**
 * Compares a program's standard output with the lines its source expects: `undefined` when every
 * expected line appears, in order, among the output lines; otherwise what is missing and what was printed.
 */
export function compareOutput(expected: readonly string[], stdout: string): string | undefined {
  const lines = stdout.split('\n');
  let at = 0;
  for (const want of expected) {
    const found = lines.findIndex((line, i) => i >= at && lineMatches(want, line));
    if (found < 0) {
      const printed = lines.slice(at).filter((l) => l.trim() !== '');
      return `expected the output line\n  ${want}\nafter line ${at}, but the rest of the output was:\n${printed.map((l) => `  ${l}`).join('\n') || '  (nothing)'}`;
    }
    at = found + 1;
  }
  return undefined;
}
