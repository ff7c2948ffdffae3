import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PostInstallStep } from '@vmkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loggedStep,
  POST_INSTALL_MUTATIONS,
  type PostInstallOutcome,
  postInstallProblems,
} from '../../../test-support/post-install-check.js';
import { type GuestScript, startGuestScript } from '../../testing/sim/guest-shell.js';
import { postInstallScript } from './post-install-script.js';

// The script runs for real: the host's /bin/sh in a guest root of its own (chroot in a user
// namespace), with VBoxControl, poweroff and shutdown stubbed to report their calls.
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

async function run(script: string, guestAdditions = true): Promise<GuestScript> {
  const guest = startGuestScript(script, { guestAdditions, timeoutMs: 15_000 });
  roots.push(guest.root);
  await guest.done;
  return guest;
}

const STEPS: PostInstallStep[] = [
  loggedStep(
    'first',
    'pwd > /root/first-cwd\nif read -r line; then echo "stdin: $line"; else echo closed; fi > /root/stdin',
  ),
  loggedStep('second', "printf '%s\\n' '$HOME' \"`echo x`\" > /etc/motd"),
];

describe('postInstallScript run under /bin/sh in a guest', () => {
  it('runs the steps in order from / with stdin closed, reports ok through VBoxControl, cleans up and powers off last', async () => {
    const guest = await run(postInstallScript(STEPS));
    expect(postInstallProblems(guest, { ran: ['first', 'second'], report: 'ok' })).toEqual([]);
    expect(readFileSync(join(guest.root, 'root/first-cwd'), 'utf8')).toBe('/\n');
    expect(readFileSync(join(guest.root, 'root/stdin'), 'utf8')).toBe('closed\n');
    // The step body arrived verbatim: no expansion by the here-document.
    expect(readFileSync(join(guest.root, 'etc/motd'), 'utf8')).toBe('$HOME\nx\n');
    expect(guest.calls.map((c) => c.command)).toEqual(['VBoxControl', 'poweroff']);
  });

  it('stops at the first failing step, reports failed:<step> and still powers off', async () => {
    const steps = [
      loggedStep('ok'),
      loggedStep('bad', 'echo about to fail >&2\nexit 3'),
      loggedStep('never'),
    ];
    const guest = await run(postInstallScript(steps));
    expect(postInstallProblems(guest, { ran: ['ok', 'bad'], report: 'failed:bad' })).toEqual([]);
    expect(guest.output).toContain('about to fail');
  });

  it('without guest additions reports nothing, and still runs the steps and powers off', async () => {
    const guest = await run(postInstallScript([loggedStep('only')]), false);
    expect(postInstallProblems(guest, { ran: ['only'], report: undefined })).toEqual([]);
  });

  it('mutation check: the checks above catch a script that exits early, skips the report, drops the power-off or ignores a failure', async () => {
    const steps = [loggedStep('one'), loggedStep('two', 'exit 4'), loggedStep('three')];
    const script = postInstallScript(steps);
    const want: PostInstallOutcome = { ran: ['one', 'two'], report: 'failed:two' };
    expect(postInstallProblems(await run(script), want)).toEqual([]);
    const caughtBy: Record<string, RegExp> = {
      'exits early': /^steps ran: \[\]/,
      'skips the report': /^reports: \[\]/,
      'drops the power-off': /^powered off 0 times/,
      'ignores a failure': /^steps ran: \[one, two, three\]/,
    };
    expect(POST_INSTALL_MUTATIONS.map((m) => m.name)).toEqual(Object.keys(caughtBy));
    for (const { name, mutate } of POST_INSTALL_MUTATIONS) {
      const caught = caughtBy[name] ?? /^$/;
      const broken = mutate(script);
      expect(broken, `mutation "${name}" changed nothing`).not.toBe(script);
      const problems = postInstallProblems(await run(broken), want);
      expect(
        problems.some((p) => caught.test(p)),
        `mutation "${name}": ${problems.join(' | ')}`,
      ).toBe(true);
    }
  });

  it('keeps a step body verbatim inside a quoted here-document whose delimiter it does not contain', () => {
    const run = 'echo \'$HOME\' "`x`"\nVMKIT_STEP_EOF\n';
    const script = postInstallScript([{ name: 'q', run }]);
    const m = /<<'(VMKIT_STEP_EOF_1)'\n([\s\S]*?)\n\1\n/.exec(script);
    expect(m?.[2]).toBe(run.trimEnd());
  });

  it('refuses step names and scripts it cannot carry, naming the field', () => {
    expect(() => postInstallScript([{ name: 'Bad Name', run: 'x' }])).toThrow(/^postInstall\[0\]\.name:/);
    expect(() =>
      postInstallScript([
        { name: 'ok', run: 'a' },
        { name: 'nul', run: 'a\0b' },
      ]),
    ).toThrow(/^postInstall\[1\]\.run:/);
  });
});
