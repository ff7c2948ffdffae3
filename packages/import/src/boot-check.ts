import type { NodeMetadata } from '@vmkit/core';
import { invalidArgument, sleep, VmkitError } from '@vmkit/core/spi';
import type { ImageRegistry } from './import-service-options.js';
import type { LiveTask } from './live-task.js';
import type { BootValidation } from './task-model.js';

/** Default of `validate.timeoutMs`: 5 minutes. */
export const DEFAULT_BOOT_TIMEOUT_MS = 5 * 60_000;
/** Group of the throw-away nodes boot checks make. */
export const BOOT_CHECK_GROUP = 'boot-check';
/** Console lines a failed boot check quotes. */
const TAIL_LINES = 20;
/** A getty's prompt at the end of a console line. */
const LOGIN_PROMPT = /login:\s*$/m;

/** The compute service's methods a boot check uses (all of a `ComputeService`). */
type BootCompute = Required<
  Pick<ImageRegistry, 'templateBuilder' | 'createNodesInGroup' | 'waitForNode' | 'destroyNode'>
> &
  Pick<ImageRegistry, 'readNodeConsole'>;

/**
 * What is wrong with a `validate` value, or `undefined` when it is well formed: the field and the
 * rule it breaks. `boot` must be `true`, `until` one of `agent`, `ssh`, `{ port }`,
 * `{ http, port? }`, `console-login`, `timeoutMs` a positive integer. Used on requests and on task
 * records read back from the store (untrusted).
 */
export function bootValidationProblem(validate: unknown): { field: string; rule: string } | undefined {
  if (validate === undefined) return undefined;
  if (typeof validate !== 'object' || validate === null || Array.isArray(validate))
    return { field: 'validate', rule: 'must be an object' };
  const v = validate as Record<string, unknown>;
  if (v.boot !== true) return { field: 'validate.boot', rule: 'must be true (the only check there is)' };
  if (v.timeoutMs !== undefined && (!Number.isSafeInteger(v.timeoutMs) || (v.timeoutMs as number) < 1))
    return { field: 'validate.timeoutMs', rule: 'must be a positive integer' };
  const until = v.until as { port?: unknown; http?: unknown } | string | undefined;
  const named = until === 'agent' || until === 'ssh' || until === 'console-login';
  const u = typeof until === 'object' && until !== null && !Array.isArray(until) ? until : undefined;
  const portOk = (p: unknown) => Number.isSafeInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
  const http = u?.http === undefined || (typeof u.http === 'string' && u.http.startsWith('/'));
  if (
    !named &&
    !(u && http && (u.http === undefined ? portOk(u.port) : u.port === undefined || portOk(u.port)))
  )
    return {
      field: 'validate.until',
      rule: "must be 'agent', 'ssh', { port } (1-65535), { http: '/path', port? } or 'console-login'",
    };
  return undefined;
}

/**
 * Checks `validate` of an import request, naming the bad field (see {@link bootValidationProblem}),
 * and that the import service has a compute service that can launch, wait for and destroy nodes.
 */
export function checkBootValidation(validate: unknown, compute: ImageRegistry | undefined): void {
  if (validate === undefined) return;
  const problem = bootValidationProblem(validate);
  if (problem) throw invalidArgument(problem.field, problem.rule);
  bootCompute(compute);
}

function bootCompute(compute: ImageRegistry | undefined): BootCompute {
  const missing = (['templateBuilder', 'createNodesInGroup', 'waitForNode', 'destroyNode'] as const).filter(
    (m) => typeof compute?.[m] !== 'function',
  );
  if (missing.length > 0)
    throw new VmkitError(
      'UNSUPPORTED',
      `validate: a boot check needs a compute service that launches nodes (${compute ? `no ${missing.join(', ')}` : 'none given'})`,
      { details: { field: 'validate' } },
    );
  return compute as BootCompute;
}

function describeSignal(until: BootValidation['until']): string {
  if (typeof until !== 'object') return until;
  return 'http' in until ? `http ${until.port ?? 80}${until.http}` : `port ${until.port}`;
}

/**
 * Boots a throw-away node of the registered image `imageId` (stage `booting`) and waits up to
 * `timeoutMs` for the signal: the guest agent, SSH, a TCP port or HTTP path (forwarded) or a `login:`
 * prompt on the serial console. Fails, quoting the console's last lines, when it does not come. The node is
 * destroyed whatever happened, also when the task is cancelled.
 */
export async function bootCheck(
  task: LiveTask,
  imageId: string,
  check: BootValidation,
  registry: ImageRegistry | undefined,
): Promise<void> {
  const compute = bootCompute(registry);
  const timeoutMs = check.timeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const what = describeSignal(check.until);
  await task.stage('booting', 96, `waiting up to ${timeoutMs} ms for ${what}`);
  const started = Date.now();
  const port = typeof check.until === 'object' ? (check.until.port ?? 80) : undefined;
  const template = await compute
    .templateBuilder()
    .imageId(imageId)
    .smallest()
    .options(port === undefined ? {} : { inboundPorts: [port] })
    .build();
  let node: NodeMetadata | undefined;
  try {
    [node] = await compute.createNodesInGroup(BOOT_CHECK_GROUP, 1, template, { signal: task.signal });
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    if (check.until === 'console-login') await waitForLogin(compute, node!.id, left, task.signal);
    else await compute.waitForNode(node!.id, { until: check.until, timeoutMs: left, signal: task.signal });
    task.record.note = `boot check passed: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  } catch (error) {
    if (task.signal.aborted || !node) throw error;
    const why = error instanceof Error ? error.message : String(error);
    const tail = await consoleTail(compute, node.id);
    throw new VmkitError(
      'TIMEOUT',
      `validate.boot: a node of image ${imageId} did not answer (${what}) within ${timeoutMs} ms (${why}); ${tail}`,
      { cause: error, details: { field: 'validate', rule: 'boot' } },
    );
  } finally {
    // Never under the task's signal: a cancelled check still removes its node.
    if (node) await compute.destroyNode(node.id);
  }
}

/** Reads the console every second until a line ends in `login:`; `TIMEOUT` after `timeoutMs`. */
async function waitForLogin(
  compute: BootCompute,
  id: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const read = compute.readNodeConsole;
  if (!read)
    throw new VmkitError('UNSUPPORTED', "validate.until: 'console-login' needs readNodeConsole", {
      details: { field: 'validate.until' },
    });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (LOGIN_PROMPT.test(await read.call(compute, id))) return;
    if (Date.now() >= deadline) throw new Error('no login: prompt on the console');
    await sleep(Math.min(1000, deadline - Date.now()), signal);
  }
}

/** `the console's last lines:` and up to 20 of them, printable only, or why there are none. */
async function consoleTail(compute: BootCompute, id: string): Promise<string> {
  if (!compute.readNodeConsole) return 'the compute service keeps no console log';
  const text = await compute.readNodeConsole(id).catch((e: unknown) => {
    return `\u0000${e instanceof Error ? e.message : String(e)}`;
  });
  if (text.startsWith('\u0000')) return `the console could not be read: ${text.slice(1)}`;
  const lines = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes and control bytes are dropped
    .replace(/\u001b(\[[0-9;?]*[A-Za-z]|.)|[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-TAIL_LINES);
  return lines.length === 0
    ? 'the console printed nothing'
    : `the console's last lines:\n${lines.join('\n')}`;
}
