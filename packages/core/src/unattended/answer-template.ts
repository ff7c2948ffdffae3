import { invalidArgument } from '../errors/vmkit-error.js';

/** The placeholders answer files, `kernelParams` and `cmdline` may hold (see `UnattendedAnswers`). */
export const ANSWER_PLACEHOLDERS = ['http', 'hostname', 'user', 'publicKey', 'passwordHash'] as const;

/** A placeholder name of {@link ANSWER_PLACEHOLDERS}. */
export type AnswerPlaceholder = (typeof ANSWER_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The `{{name}}` placeholders of `text` that vmkit does not know, each once, in order. */
export function unknownPlaceholders(text: string): string[] {
  const known = new Set<string>(ANSWER_PLACEHOLDERS);
  const unknown = new Set<string>();
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!known.has(name)) unknown.add(name);
  }
  return [...unknown];
}

/** Whether `text` uses the `{{name}}` placeholder. */
export function usesPlaceholder(text: string, name: AnswerPlaceholder): boolean {
  for (const match of text.matchAll(PLACEHOLDER)) if (match[1] === name) return true;
  return false;
}

/**
 * Replaces each known `{{name}}` of `text` with its value; a placeholder without a value (a known
 * one whose value the build has not, such as `{{http}}` without the `http` delivery) throws
 * `INVALID_ARGUMENT` naming `field`, as does an unknown one (specs are checked before: this guards files read from paths).
 */
export function renderAnswerTemplate(
  text: string,
  values: Partial<Record<AnswerPlaceholder, string>>,
  field: string,
): string {
  return text.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = (values as Record<string, string | undefined>)[name];
    if (value === undefined) throw invalidArgument(field, `{{${name}}} has no value in this build`);
    return value;
  });
}
