import { InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../output/format.js';

/** The rule `--env` states in its errors. */
const ENV_RULE = 'must be NAME=VALUE with a NAME of letters, digits and _, not starting with a digit';

/** Parses one `--env NAME=VALUE` (repeatable): the pairs so far with this one added. */
export function parseEnvFlag(text: string, previous: ReadonlyArray<readonly [string, string]> = []) {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InvalidArgumentError(ENV_RULE);
  return [...previous, [name, text.slice(eq + 1)] as const];
}

/** Parses a duration flag (`--timeout 90s`) to milliseconds, more than zero. */
export function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError('must be a duration such as 500ms, 90s or 5m');
  return ms;
}

/** Parses `--mode`: an octal file mode such as `644` or `0755`. */
export function parseModeFlag(text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text))
    throw new InvalidArgumentError('must be an octal mode such as 644 or 0755');
  return Number.parseInt(text, 8);
}

/** `--transport agent|ssh|auto`, as `runScriptOnNode` and the copies take it. */
export function transportOption(): Option {
  return new Option(
    '--transport <way>',
    'how to reach inside: agent (the guest agent), ssh (the stored key), auto (the agent when the node has one; default)',
  ).choices(['agent', 'ssh', 'auto']);
}
