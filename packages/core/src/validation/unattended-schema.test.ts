import { describe, expect, it } from 'vitest';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { createComputeService } from '../compute/create-compute-service.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { memoryProvider } from '../testing/memory-provider.js';

const os = { family: 'debian', version: '12', arch: 'x86_64' };
const kernel = { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' };
const preseed = 'd-i passwd/username string {{user}}\n';

async function refusal(source: unknown): Promise<string> {
  const error = await createComputeService({
    provider: memoryProvider(),
    store: memoryBlobStore(),
    images: [{ id: 'answered', os, source } as never],
  }).catch((e: unknown) => e);
  expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
  return (error as Error).message;
}

describe('MasterSpec source.unattended, checked before anything is made', () => {
  it('takes inline and path answers by http, initrd and drive on a kernel source', async () => {
    await using compute = await createComputeService({
      provider: memoryProvider(),
      store: memoryBlobStore(),
      images: [
        {
          id: 'answered',
          os,
          source: {
            ...kernel,
            type: 'kernel',
            cmdline: 'auto=true url={{http}}/preseed.cfg hostname={{hostname}}',
            unattended: {
              files: { 'preseed.cfg': preseed, 'late.sh': { path: '/etc/hostname' } },
              delivery: ['http', 'initrd', 'drive'],
              driveLabel: 'OEMDRV',
            },
          },
        },
      ],
    });
    expect((await compute.listImages()).map((i) => i.id)).toContain('answered');
  });

  it.each([
    [
      'a name with /',
      { files: { 'd/preseed.cfg': preseed }, delivery: ['initrd'] },
      /unattended\.files.*'\/'/,
    ],
    ['a name of ..', { files: { '..': preseed }, delivery: ['initrd'] }, /unattended\.files.*'\.\.'/],
    ['a name holding ..', { files: { 'a..b': preseed }, delivery: ['initrd'] }, /unattended\.files.*'\.\.'/],
    [
      'an unknown placeholder',
      { files: { 'preseed.cfg': 'd-i x string {{password}}' }, delivery: ['initrd'] },
      /unattended\.files\.preseed\.cfg: \{\{password\}\} is not a placeholder/,
    ],
    [
      '{{http}} without the http delivery',
      { files: { 'preseed.cfg': 'd-i x string {{http}}/late.sh' }, delivery: ['initrd'] },
      /unattended\.files\.preseed\.cfg: uses \{\{http\}\} but delivery has no 'http'/,
    ],
    [
      'an unknown delivery',
      { files: { 'preseed.cfg': preseed }, delivery: ['floppy'] },
      /unattended\.delivery\[0\]: must be 'http'/,
    ],
    [
      'no delivery',
      { files: { 'preseed.cfg': preseed }, delivery: [] },
      /unattended\.delivery: must name at least one/,
    ],
    ['no file', { files: {}, delivery: ['http'] }, /unattended\.files: must hold at least one file/],
  ])('refuses %s, naming the field', async (_what, unattended, message) => {
    expect(await refusal({ ...kernel, unattended })).toMatch(message);
  });

  it('refuses a delivery the source cannot take, naming it', async () => {
    const files = { 'preseed.cfg': preseed };
    expect(
      await refusal({ type: 'disk', path: '/x.qcow2', unattended: { files, delivery: ['initrd'] } }),
    ).toMatch(/source.*unattended/);
    expect(await refusal({ ...kernel, unattended: { files, delivery: ['iso'] } })).toMatch(
      /source\.unattended\.delivery\[0\]: 'iso' cannot be taken by a kernel source/,
    );
    expect(await refusal({ type: 'iso', path: '/x.iso', unattended: { files, delivery: ['iso'] } })).toMatch(
      /source\.kernelParams: must point the installer at the answers/,
    );
  });

  it('refuses unknown placeholders and a {{http}} with nothing to serve in the boot line', async () => {
    expect(await refusal({ ...kernel, cmdline: 'url={{answers}}/p.cfg' })).toMatch(
      /source\.cmdline: \{\{answers\}\} is not a placeholder/,
    );
    expect(await refusal({ type: 'iso', path: '/x.iso', kernelParams: 'url={{http}}/p.cfg' })).toMatch(
      /source\.kernelParams: uses \{\{http\}\} but unattended\.delivery has no 'http'/,
    );
  });

  it('refuses an unknown key name in bootCommand, naming the line and the key; placeholders type as text', async () => {
    expect(
      await refusal({
        ...kernel,
        bootCommand: ['<esc><wait>', 'linux url={{http}}/p <frobnicate><enter>'],
        unattended: { files: { p: preseed }, delivery: ['http'] },
      }),
    ).toMatch(/source\.bootCommand\[1\]: <frobnicate> is not a key vmkit knows/);
    expect(await refusal({ ...kernel, bootCommand: ['{{nope}}<enter>'] })).toMatch(
      /source\.bootCommand\[0\]: \{\{nope\}\} is not a placeholder/,
    );
    expect(await refusal({ type: 'iso', path: '/x.iso', bootWait: -1 })).toMatch(
      /source\.bootWait: must be 0 to 600000 ms/,
    );
  });

  it('takes installFinished as poweroff, a guest port or a call to the answer server', async () => {
    const unattended = { files: { 'preseed.cfg': preseed }, delivery: ['http'] };
    for (const installFinished of ['poweroff', { port: 22 }, { call: 'done' }]) {
      await using compute = await createComputeService({
        provider: memoryProvider(),
        store: memoryBlobStore(),
        images: [{ id: 'answered', os, source: { ...kernel, unattended, installFinished } as never }],
      });
      expect((await compute.listImages()).map((i) => i.id)).toEqual(['answered']);
    }
  });

  it.each([
    ['an unknown signal', 'reboot', /source\.installFinished: must be 'poweroff', \{ port \} or \{ call \}/],
    ['port 0', { port: 0 }, /source\.installFinished\.port: must be 1-65535/],
    ['a port of 70000', { port: 70000 }, /source\.installFinished\.port: must be 1-65535/],
    ['a port of 22.5', { port: 22.5 }, /source\.installFinished\.port: must be a whole TCP port number/],
    ['a call name with /', { call: 'x/done' }, /source\.installFinished\.call: must be 1-64 of letters/],
    [
      'a call name holding ..',
      { call: '..done' },
      /source\.installFinished\.call: must not be '\.' or hold '\.\.'/,
    ],
    [
      'a call named like an answer file',
      { call: 'preseed.cfg' },
      /source\.installFinished\.call: 'preseed\.cfg' is an answer file's name/,
    ],
    ['both a port and a call', { port: 22, call: 'done' }, /source\.installFinished/],
  ])('refuses installFinished with %s, naming the field', async (_what, installFinished, message) => {
    const unattended = { files: { 'preseed.cfg': preseed }, delivery: ['http'] };
    expect(await refusal({ ...kernel, unattended, installFinished })).toMatch(message);
  });

  it('refuses an installFinished call without the http delivery (no answer server to call)', async () => {
    const unattended = { files: { 'preseed.cfg': preseed }, delivery: ['initrd'] };
    expect(await refusal({ ...kernel, unattended, installFinished: { call: 'done' } })).toMatch(
      /source\.installFinished\.call: needs vmkit's answer server: unattended\.delivery has no 'http'/,
    );
    expect(await refusal({ ...kernel, installFinished: { call: 'done' } })).toMatch(
      /source\.installFinished\.call: needs vmkit's answer server/,
    );
    expect(await refusal({ type: 'disk', path: '/x.qcow2', installFinished: 'poweroff' })).toMatch(
      /source.*installFinished/,
    );
  });
});
