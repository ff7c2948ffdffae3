import { rm } from 'node:fs/promises';
import type * as vbox from 'virtualbox-soap';
import { closeDvd, mediumAttachments } from '../../soap/calls.js';
import { withMachineLock } from '../../soap/machine-lock.js';
import { lockOptions, type VboxContext } from '../virtualbox-context.js';
import type { VboxBuildContext } from './build-state.js';
import { takeMasterSnapshot } from './master-machine.js';

/** `detach-isos`: DVDs detached, boot order back to the disk, the ISO medium closed. */
export async function detachIsos(ctx: VboxContext, c: VboxBuildContext): Promise<void> {
  const s = c.state;
  if (!s.machine || !s.iso) return c.markSkipped('the master was not installed from an ISO');
  const iso = s.iso;
  await ctx.conn.run(`detaching the installer ISO of ${s.machine}`, async (api) => {
    const machine = await api.vbox.findMachine(s.machine ?? '');
    const dvds = (await mediumAttachments(machine)).filter((a) => a.type === 'DVD');
    if (dvds.length > 0)
      await withMachineLock(
        ctx.conn,
        api,
        machine,
        async (m) => {
          for (const a of dvds) await m.detachDevice(a.controller, a.port, a.device);
          await m.setBootOrder(1, 'HardDisk' as vbox.DeviceType);
          await m.setBootOrder(2, 'Null' as vbox.DeviceType);
        },
        lockOptions(ctx, c.signal),
      );
    await closeDvd(api, iso.path);
  });
  if (iso.owned) await rm(iso.path, { force: true });
  c.progress(1, 'installer ISO detached');
}

/** After a discarded build: the installer ISO no machine uses any more is closed, not left registered. */
export async function closeInstallerIso(ctx: VboxContext, c: VboxBuildContext): Promise<void> {
  const iso = c.state.iso;
  if (iso) await ctx.conn.run(`closing the installer ISO ${iso.path}`, (api) => closeDvd(api, iso.path));
}

/** `detach-nics`: adapter 0 set to `Null`. */
export async function detachNics(ctx: VboxContext, c: VboxBuildContext): Promise<void> {
  const name = c.state.machine ?? '';
  await ctx.conn.run(`detaching the NICs of ${name}`, async (api) => {
    const machine = await api.vbox.findMachine(name);
    await withMachineLock(
      ctx.conn,
      api,
      machine,
      async (m) => (await m.getNetworkAdapter(0)).setAttachmentType('Null' as vbox.NetworkAttachmentType),
      lockOptions(ctx, c.signal),
    );
  });
  c.progress(1, 'NICs detached');
}

/** `snapshot`: the snapshot linked clones are made from (once). */
export async function snapshot(ctx: VboxContext, c: VboxBuildContext): Promise<void> {
  await takeMasterSnapshot(ctx, c.state.machine ?? '', c.signal);
  c.progress(1, 'snapshot taken');
}
