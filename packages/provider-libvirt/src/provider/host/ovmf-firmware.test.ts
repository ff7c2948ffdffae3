import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOvmf } from './ovmf-firmware.js';

const dir = mkdtempSync(join(tmpdir(), 'vmkit-ovmf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('findOvmf', () => {
  it('takes the first candidate whose code and variable store both exist', async () => {
    writeFileSync(join(dir, 'CODE.fd'), '');
    writeFileSync(join(dir, 'VARS.fd'), '');
    const pair = { code: join(dir, 'CODE.fd'), vars: join(dir, 'VARS.fd') };
    const halfThere = { code: join(dir, 'CODE.fd'), vars: join(dir, 'missing-VARS.fd') };
    expect(await findOvmf([halfThere, pair])).toEqual(pair);
  });

  it('refuses with UNSUPPORTED naming hardware.firmware, the paths looked at and the ovmf package', async () => {
    const none = { code: join(dir, 'nope/OVMF_CODE_4M.fd'), vars: join(dir, 'nope/OVMF_VARS_4M.fd') };
    await expect(findOvmf([none])).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      details: { field: 'hardware.firmware' },
      message: expect.stringMatching(/nope\/OVMF_CODE_4M\.fd.*install the ovmf package/),
    });
  });
});
