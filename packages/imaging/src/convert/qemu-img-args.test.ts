import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qemuFormatOf } from './disk-converter.js';
import { parseQemuImgProgress, qemuImgConvertArgs } from './qemu-img-args.js';

describe('qemuImgConvertArgs', () => {
  it('always names the input format with -f, asks for progress, and gives both paths absolute', () => {
    const args = qemuImgConvertArgs({
      input: 'x:disk.vmdk',
      inputFormat: 'vmdk',
      output: '-o.qcow2',
      outputFormat: 'qcow2',
    });
    expect(args).toEqual([
      'convert',
      '-p',
      '-f',
      'vmdk',
      '-O',
      'qcow2',
      resolve('x:disk.vmdk'),
      resolve('-o.qcow2'),
    ]);
  });

  it('adds compression, a rate limit and output options before the paths', () => {
    const args = qemuImgConvertArgs(
      {
        input: '/in.raw',
        inputFormat: 'raw',
        output: '/out.vmdk',
        outputFormat: 'vmdk',
        outputOptions: 'subformat=streamOptimized',
        compress: true,
      },
      1024,
    );
    expect(args).toEqual([
      'convert',
      '-p',
      '-f',
      'raw',
      '-O',
      'vmdk',
      '-c',
      '-r',
      '1024',
      '-o',
      'subformat=streamOptimized',
      '/in.raw',
      '/out.vmdk',
    ]);
  });

  it("uses qemu's names for the inspector's formats", () => {
    expect(qemuFormatOf('vhd')).toBe('vpc');
    expect(qemuFormatOf('iso')).toBe('raw');
    expect(qemuFormatOf('gpt')).toBe('raw');
    expect(qemuFormatOf('vhdx')).toBe('vhdx');
  });
});

describe('parseQemuImgProgress', () => {
  it('reads the last mark of qemu-img -p output', () => {
    expect(parseQemuImgProgress('    (0.00/100%)\r    (12.50/100%)\r')).toBe(0.125);
    expect(parseQemuImgProgress('    (100.00/100%)\r')).toBe(1);
    expect(parseQemuImgProgress('nothing')).toBeUndefined();
    expect(parseQemuImgProgress('    (12.5')).toBeUndefined();
  });
});
