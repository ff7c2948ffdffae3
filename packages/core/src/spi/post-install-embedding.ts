import { invalidArgument } from '../errors/vmkit-error.js';
import type { PostInstallStep } from '../model/master-spec.js';

/** Step names that are safe to print unquoted in a shell line (core's rule for step names). */
const STEP_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Writes one post-install step into a provider's `#!/bin/sh` user-data script: checks the step
 * (its name is 1-63 of `a-z`, `0-9`, `_` and `-`, so a provider may print it unquoted in marker
 * lines; its script holds no NUL byte) and returns the lines of a quoted here-document
 * `cat >"<target>" <<'<delimiter>'` that writes the script to `target` byte for byte (a final
 * newline is added when missing), with a delimiter that is no line of the script.
 *
 * @param step The step, as in `MasterSpec.postInstall`.
 * @param index Its index there, for error messages.
 * @param target The shell word the script is written to, e.g. `"$vmkit_dir/0"` (quoted by the caller).
 * @returns The here-document's lines (the last is its delimiter), to join with `\n`.
 * @throws `INVALID_ARGUMENT` naming `postInstall[<index>].name` or `postInstall[<index>].run`.
 */
export function embedPostInstallStep(step: PostInstallStep, index: number, target: string): string[] {
  if (!STEP_NAME.test(step.name))
    throw invalidArgument(`postInstall[${index}].name`, 'must be 1-63 of a-z, 0-9, _ and -');
  if (step.run.includes('\0'))
    throw invalidArgument(`postInstall[${index}].run`, 'must not contain NUL bytes');
  const body = step.run.endsWith('\n') || step.run === '' ? step.run : `${step.run}\n`;
  const eof = hereDocumentDelimiter(body);
  return [`cat >${target} <<'${eof}'`, `${body}${eof}`];
}

/** A here-document delimiter that is no line of `body`. */
function hereDocumentDelimiter(body: string): string {
  const lines = new Set(body.split('\n'));
  let eof = 'VMKIT_STEP_EOF';
  for (let n = 1; lines.has(eof); n++) eof = `VMKIT_STEP_EOF_${n}`;
  return eof;
}
