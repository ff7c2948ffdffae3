import { copyFile, open, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  emitProgress,
  type MasterDiskExport,
  type MasterDiskExportOptions,
  type MasterRef,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import { inspectImage, qemuImgConverter } from '@vmkit/imaging';
import { isNotFound } from '../../soap/errors.js';
import type { VboxContext } from '../virtualbox-context.js';
import { masterMachineOf } from './master-build.js';
import { checkVboxMasterRef } from './master-ref-check.js';

/** The export formats of the disk formats a master's base disk may have (qemu-img's `vpc` is VHD). */
const FORMATS: Readonly<Record<string, MasterDiskExport['format']>> = {
  vdi: 'vdi',
  vmdk: 'vmdk',
  vhd: 'vhd',
  qcow2: 'qcow2',
  raw: 'raw',
};

/** qemu-img's name of a format the inspector names. */
const QEMU_NAMES: Readonly<Record<string, string>> = { vhd: 'vpc' };

/**
 * Copies a master's base disk (the disk its snapshot froze: linked clones write to their own
 * differencing disks, so it is only read) out of the machine folder to the new file `toPath`:
 * as stored (a VDI, or the user's VMDK or VHD) or, with `compress`, converted by qemu-img to a
 * qcow2 with compressed clusters, the form `shareMasters` publishes. A `bootIso` master has no
 * disk (`UNSUPPORTED`); a master whose machine or disk is gone is `NOT_FOUND`. An existing
 * `toPath` is refused; a partial file is removed on failure or abort.
 */
export async function exportVboxMaster(
  ctx: VboxContext,
  ref: MasterRef,
  toPath: string,
  options: MasterDiskExportOptions = {},
): Promise<MasterDiskExport> {
  const data = checkVboxMasterRef(ctx.options, ref, undefined);
  if (data.bootIso)
    throw new VmkitError('UNSUPPORTED', `master ${ref.id} is a live boot ISO: it has no disk to export`, {
      details: { master: ref.id, rule: 'boot-iso' },
    });
  throwIfAborted(options.signal, `export of master ${ref.id}`);
  const machine = masterMachineOf(ref);
  await ctx.conn.run(
    `finding master ${machine}`,
    async (api) => {
      try {
        await api.vbox.findMachine(machine);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        throw new VmkitError('NOT_FOUND', `master ${ref.id}: machine ${machine} is not registered`, {
          cause: error,
          details: { master: ref.id },
        });
      }
    },
    true,
    options.signal,
  );
  const info = await inspectImage(data.disk, options.signal ? { signal: options.signal } : {}).catch(
    (error: unknown) => {
      throw new VmkitError('NOT_FOUND', `master ${ref.id}: cannot read its disk ${data.disk}`, {
        cause: error,
        details: { master: ref.id },
      });
    },
  );
  const stored = FORMATS[info.format];
  if (!stored)
    throw new VmkitError(
      'UNSUPPORTED',
      `master ${ref.id}: its disk is ${info.format}, which is not exported`,
    );
  const out = resolve(toPath);
  // Reserve the name first: an existing file is refused before anything is written. A guest's
  // disk holds its users' secrets: the copy is the owner's only.
  await (await open(out, 'wx', 0o600)).close();
  const report = (fraction: number) =>
    emitProgress(options.onProgress, { phase: 'transfer', fraction, message: `exporting master ${ref.id}` });
  try {
    report(0);
    if (options.compress) {
      const from = QEMU_NAMES[info.format] ?? info.format;
      await qemuImgConverter({ binary: ctx.options.qemuImg }).convert({
        input: data.disk,
        inputFormat: from,
        output: out,
        outputFormat: 'qcow2',
        compress: true,
        onProgress: report,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } else await copyFile(data.disk, out);
    throwIfAborted(options.signal, `export of master ${ref.id}`);
    report(1);
    const bytes = (await stat(out)).size;
    return options.compress
      ? { format: 'qcow2', bytes, compression: 'qcow2' }
      : { format: stored, bytes, compression: 'none' };
  } catch (error) {
    await rm(out, { force: true });
    throw error;
  }
}
