import { invalidArgument } from '@vmkit/core/spi';

/** One kernel parameter as written: `key`, `key=value` or `key="quoted value"`. */
export interface KernelParam {
  /** The part before `=`. */
  readonly key: string;
  /** The whole parameter, as it goes on the command line. */
  readonly text: string;
}

/** Longest parameter string accepted (the x86 kernel's command line holds 2048 bytes in all). */
export const MAX_KERNEL_PARAMS_LENGTH = 1024;

const KEY = /^[A-Za-z0-9_.-]+$/;

/** Splits a command line into whitespace-separated words; double quotes keep spaces. */
export function splitWords(text: string): { words: string[]; balanced: boolean } {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  let inWord = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === ' ' || ch === '\t')) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    word += ch;
    inWord = true;
  }
  if (inWord) words.push(word);
  return { words, balanced: !quoted };
}

/**
 * Parses and validates the parameters to add: keys of letters, digits, `_`, `-` and `.`; values
 * may be double-quoted to hold spaces; no control characters (newline, NUL...), no unbalanced
 * quote, no standalone `--` (what follows it goes to init). `INVALID_ARGUMENT` names the parameter.
 */
export function parseKernelParams(input: unknown, field = 'kernelParams'): KernelParam[] {
  if (typeof input !== 'string') throw invalidArgument(field, 'must be a string of kernel parameters');
  if (input.length > MAX_KERNEL_PARAMS_LENGTH)
    throw invalidArgument(field, `must be at most ${MAX_KERNEL_PARAMS_LENGTH} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  const control = /[\u0000-\u001f\u007f]/.exec(input);
  if (control) {
    const name =
      control[0] === '\n' ? 'a newline' : control[0] === '\u0000' ? 'a NUL' : 'a control character';
    const before = input.slice(0, control.index).split(/\s/).pop() ?? '';
    throw invalidArgument(
      field,
      `parameter '${before}' contains ${name}; parameters may hold printable characters only`,
    );
  }
  const { words, balanced } = splitWords(input);
  if (!balanced) {
    const open = words[words.length - 1] ?? input;
    throw invalidArgument(field, `parameter '${open}' has an unbalanced double quote`);
  }
  if (words.length === 0) throw invalidArgument(field, 'must hold at least one parameter');
  return words.map((text) => {
    if (text === '--' || text === '---')
      throw invalidArgument(
        field,
        `'${text}' is not a parameter: what follows it goes to init, not the kernel`,
      );
    const eq = text.indexOf('=');
    const key = eq < 0 ? text : text.slice(0, eq);
    if (!KEY.test(key))
      throw invalidArgument(field, `parameter '${text}': keys are letters, digits, '_', '-' and '.'`);
    const value = eq < 0 ? '' : text.slice(eq + 1);
    if (value.includes('"') && !/^"[^"]*"$/.test(value))
      throw invalidArgument(field, `parameter '${text}': only a whole value may be double-quoted`);
    return Object.freeze({ key, text });
  });
}

/** Validates the keys of parameters to remove. */
export function parseRemoveParams(input: unknown, field = 'removeParams'): string[] {
  if (input === undefined) return [];
  if (!Array.isArray(input)) throw invalidArgument(field, 'must be an array of parameter keys');
  return input.map((key, i) => {
    if (typeof key !== 'string' || !KEY.test(key))
      throw invalidArgument(`${field}[${i}]`, "must be a key of letters, digits, '_', '-' and '.'");
    return key;
  });
}

/**
 * Adds `add` to a kernel argument string before a standalone `--` or `---` (what follows goes to
 * init), dropping parameters whose key is in `remove` and parameters already present verbatim.
 */
export function patchKernelArgs(
  args: string,
  add: readonly KernelParam[],
  remove: ReadonlySet<string>,
): string {
  const { words } = splitWords(args);
  let split = words.findIndex((w) => w === '--' || w === '---');
  if (split < 0) split = words.length;
  const head = words.slice(0, split);
  const tail = words.slice(split);
  const keyOf = (w: string) => (w.includes('=') ? w.slice(0, w.indexOf('=')) : w);
  const adding = new Set(add.map((p) => p.text));
  const kept = head.filter((w) => !remove.has(keyOf(w)) && !adding.has(w));
  return [...kept, ...add.map((p) => p.text), ...tail].join(' ');
}
