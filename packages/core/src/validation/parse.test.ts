import { describe, expect, it } from 'vitest';
import { masterSpecSchema } from './master-spec-schema.js';
import { parseOrThrow } from './parse.js';

const spec = {
  id: 'tiny',
  os: { family: 'linux', version: '1', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd' },
};

describe('parseOrThrow', () => {
  it('names an unknown key and lists the keys known there', () => {
    expect(() => parseOrThrow(masterSpecSchema, { ...spec, colour: 'red' }, 'images[0]')).toThrow(
      'images[0]: unknown key "colour" (known keys: id, name, os, source, hardware, login, postInstall, network, warm)',
    );
    expect(() =>
      parseOrThrow(masterSpecSchema, { ...spec, source: { ...spec.source, cmd: 'x', boot: 1 } }, 'spec'),
    ).toThrow(
      'spec.source: unknown keys "cmd", "boot" (known keys: type, kernel, initrd, cmdline, unattended, installTimeoutMs, bootCommand, bootWait, installFinished)',
    );
  });

  it('keeps the rule of other issues', () => {
    expect(() => parseOrThrow(masterSpecSchema, { ...spec, id: 'Bad Id' }, 'spec')).toThrow(
      /^spec\.id: must be 1-63/,
    );
  });
});
