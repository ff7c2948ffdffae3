import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNoSpaceError, VmkitError } from '@vmkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { VboxContext } from '../virtualbox-context.js';
import { DISK_FULL_ERROR, machineFault } from './machine-fault.js';

const folder = mkdtempSync(join(tmpdir(), 'vmkit-machine-fault-'));
const ctx = { options: { machineFolder: folder } } as unknown as VboxContext;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const full = { id: DISK_FULL_ERROR, fatal: true, message: 'disk full' };

describe('machineFault names why a watched machine is not doing what it should', () => {
  it('a pause after DrvVD_DISKFULL is the no-space error on the machine folder, with its free bytes', async () => {
    const error = (await machineFault(ctx, 'installer m', 'Paused', 'poweroff', [full])) as VmkitError;
    expect(isNoSpaceError(error)).toBe(true);
    expect(error.message).toMatch(
      new RegExp(
        `^disk full on machine folder ${folder}: installer m paused: VirtualBox reported DrvVD_DISKFULL`,
      ),
    );
    expect(error.details).toMatchObject({ field: 'machineFolder', machineFolder: folder });
    expect(error.details.freeBytes).toBeGreaterThan(0);
  });

  it('a pause after another fatal error names that error; a pause with none heard (and room left) says so', async () => {
    const other = { id: 'DrvVD_IOERROR', fatal: true, message: 'I/O error' };
    const paused = await machineFault(ctx, 'node n', 'Paused', 'running', [
      { id: 'HostAudioNotResponding', fatal: false, message: 'warning' },
      other,
    ]);
    expect(paused?.message).toBe('node n paused on the runtime error DrvVD_IOERROR: I/O error');
    expect(isNoSpaceError(paused)).toBe(false);
    expect((await machineFault(ctx, 'node n', 'Paused', 'running', []))?.message).toBe(
      'node n was paused (not by vmkit, no runtime error reported)',
    );
  });

  it('Stuck and Aborted are faults whatever is expected; PoweredOff only when the machine should run', async () => {
    for (const expect_ of ['poweroff', 'running'] as const) {
      expect((await machineFault(ctx, 'x', 'Stuck', expect_, []))?.message).toMatch(
        /stuck: its guest panicked/,
      );
      expect((await machineFault(ctx, 'x', 'Aborted', expect_, []))?.message).toMatch(
        /aborted: its VM process/,
      );
      expect(await machineFault(ctx, 'x', 'Running', expect_, [])).toBeUndefined();
    }
    expect(await machineFault(ctx, 'x', 'PoweredOff', 'poweroff', [])).toBeUndefined();
    const stopped = await machineFault(ctx, 'x', 'PoweredOff', 'running', []);
    expect(VmkitError.is(stopped, 'PROVIDER')).toBe(true);
    expect(stopped?.message).toBe('x stopped unexpectedly (PoweredOff)');
  });
});
