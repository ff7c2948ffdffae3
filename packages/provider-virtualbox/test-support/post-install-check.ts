// The checks of a post-install run in a simulated guest (src/testing/sim/guest-shell.ts), shared
// by the script's tests and by the mutation check that proves they catch a broken script.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PostInstallStep } from '@vmkit/core';
import { POST_INSTALL_PROPERTY } from '../src/provider/master/post-install-script.js';
import type { GuestScript } from '../src/testing/sim/guest-shell.js';

/** The file each {@link loggedStep} appends its name to, in the guest. */
export const STEP_LOG = '/var/log/vmkit-steps';

/** A step whose run is observable: it appends its name to {@link STEP_LOG}, then runs `then`. */
export function loggedStep(name: string, then = ''): PostInstallStep {
  return { name, run: `echo ${name} >> ${STEP_LOG}\n${then}` };
}

/** What a correct post-install run leaves. */
export interface PostInstallOutcome {
  /** The logged steps that ran, in order. */
  readonly ran: readonly string[];
  /** The value reported through `VBoxControl`, or `undefined` when the guest has no guest additions. */
  readonly report: string | undefined;
}

/**
 * What is wrong with a finished post-install run, one sentence each (empty when nothing): the
 * script did not start or timed out; the logged steps that ran are not `ran`, in order; the
 * `VBoxControl` calls are not the one report expected; the guest was not powered off, once, as
 * the last thing it did; the script's work folder under `/tmp` was left.
 */
export function postInstallProblems(run: GuestScript, expected: PostInstallOutcome): string[] {
  const problems: string[] = [];
  if (run.error !== undefined) problems.push(`the script did not finish: ${run.error}`);
  const log = join(run.root, STEP_LOG);
  const ran = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  if (ran.join(',') !== expected.ran.join(','))
    problems.push(`steps ran: [${ran.join(', ')}], expected [${expected.ran.join(', ')}]`);
  const reports = run.calls.filter((c) => c.command === 'VBoxControl').map((c) => c.args.join(' '));
  const want =
    expected.report === undefined
      ? []
      : [`--nologo guestproperty set ${POST_INSTALL_PROPERTY} ${expected.report}`];
  if (reports.join('\n') !== want.join('\n'))
    problems.push(`reports: [${reports.join('; ')}], expected [${want.join('; ')}]`);
  const offs = run.calls.filter((c) => c.command === 'poweroff' || c.command === 'shutdown');
  if (offs.length !== 1) problems.push(`powered off ${offs.length} times, expected once`);
  const last = run.calls.at(-1);
  if (last !== undefined && last.command !== 'poweroff' && last.command !== 'shutdown')
    problems.push(`the last call was ${last.command}, not the power-off`);
  const left = readdirSync(join(run.root, 'tmp')).filter((f) => f.startsWith('vmkit-post-install.'));
  if (left.length > 0) problems.push(`left its work folder: /tmp/${left.join(', /tmp/')}`);
  return problems;
}

/** Ways to break the generated script that the checks must catch, each a text edit of it. */
export const POST_INSTALL_MUTATIONS: ReadonlyArray<{ name: string; mutate: (script: string) => string }> = [
  { name: 'exits early', mutate: (s) => s.replace(/^(rm -rf "\$vmkit_dir" .*)$/m, '$1\nexit 0') },
  {
    name: 'skips the report',
    mutate: (s) => s.replace(/^ {4}if \[ "\$1" = 0 \]; then VBoxControl .*$/m, '    :'),
  },
  {
    name: 'drops the power-off',
    mutate: (s) => s.replace(/^ {2}if .*then poweroff \|\| shutdown -h now; fi$/m, '  :'),
  },
  {
    name: 'ignores a failure',
    mutate: (s) => s.replace(/^ {2}\[ "\$vmkit_rc" = 0 \] \|\| vmkit_end .*$/m, '  :'),
  },
];
