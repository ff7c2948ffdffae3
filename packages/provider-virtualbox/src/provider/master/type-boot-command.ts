import {
  type AnswerSession,
  type BuildContext,
  parseBootCommand,
  setOneScancodes,
  sleep,
} from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi } from '../../soap/connection.js';
import { withConsole } from '../node/node-ops.js';
import type { VboxContext } from '../virtualbox-context.js';

/** The default pause between the installer's start and its first typed key. */
const DEFAULT_BOOT_WAIT_MS = 10_000;

/**
 * Types an `iso` source's `bootCommand` into its running installer through the console's keyboard
 * (`IKeyboard.putScancodes`, PC set-1 scancodes, one call per key or chord) under a shared lock,
 * after `bootWait`, honouring each `<wait>`; stops with `ABORTED` when the build is aborted. Does
 * nothing without a boot command. Its placeholders expand through the build's answer session
 * (`{{http}}` is that build's answer server, alive while the installer runs).
 */
export async function typeVboxBootCommand(
  ctx: VboxContext,
  api: VboxApi,
  machine: vbox.IMachine,
  c: BuildContext,
  answers: AnswerSession,
): Promise<void> {
  const source = c.spec.source;
  if (source.type !== 'iso' || !source.bootCommand?.length) return;
  const lines = source.bootCommand.map((line, i) => answers.expand(line, `source.bootCommand[${i}]`));
  const actions = parseBootCommand(lines, 'source.bootCommand');
  await sleep(source.bootWait ?? DEFAULT_BOOT_WAIT_MS, c.signal);
  let keys = 0;
  await withConsole(ctx, api, machine, async (console) => {
    const keyboard = await console.getKeyboard();
    for (const action of actions) {
      if (action.kind === 'wait') await sleep(action.ms, c.signal);
      else {
        await sleep(0, c.signal);
        await keyboard.putScancodes(setOneScancodes(action.keycodes));
        keys++;
      }
    }
  });
  c.logger.info('virtualbox installer: boot command typed', { master: c.masterName, keys });
}
