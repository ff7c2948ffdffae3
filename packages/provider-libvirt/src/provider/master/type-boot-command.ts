import { type AnswerSession, type BuildContext, parseBootCommand, sleep } from '@vmkit/core/spi';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';

/** The default pause between the installer's start and its first typed key. */
export const DEFAULT_BOOT_WAIT_MS = 10_000;

/**
 * Types the source's `bootCommand` into a started installer through libvirt's keyboard
 * (`DOMAIN_SEND_KEY`, Linux keycodes, one call per key or chord): first waits `bootWait`, then
 * presses each key and honours each `<wait>`, the answer placeholders expanded. Stops with
 * `ABORTED` as soon as the build is aborted. Does nothing without a boot command.
 */
export async function typeBootCommand(
  ctx: LibvirtContext,
  c: BuildContext,
  dom: DomainHandle,
  answers: AnswerSession,
): Promise<void> {
  const source = c.spec.source;
  if ((source.type !== 'iso' && source.type !== 'kernel') || !source.bootCommand?.length) return;
  const lines = source.bootCommand.map((line, i) => answers.expand(line, `source.bootCommand[${i}]`));
  const actions = parseBootCommand(lines, 'source.bootCommand');
  await sleep(source.bootWait ?? DEFAULT_BOOT_WAIT_MS, c.signal);
  let keys = 0;
  for (const action of actions) {
    if (action.kind === 'wait') await sleep(action.ms, c.signal);
    else {
      if (c.signal.aborted) await sleep(0, c.signal);
      await ctx.client.domains.sendKey(dom, action.keycodes);
      keys++;
    }
  }
  c.logger.info('libvirt installer: boot command typed', { master: c.masterName, keys });
}
