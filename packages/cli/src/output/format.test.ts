import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../runtime/exit-codes.js';
import { formatBytes, formatPorts, formatTable, parseDuration, parseSize } from './format.js';

describe('output formats', () => {
  it('parses durations with units and refuses others', () => {
    expect(parseDuration('1500')).toBe(1500);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('7 days')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });

  it('parses sizes in bytes or binary units and refuses others', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('16t')).toBe(16 * 1024 ** 4);
    expect(parseSize('10 GB')).toBe(10 * 1024 ** 3);
    expect(parseSize('-1')).toBeUndefined();
    expect(parseSize('1P')).toBeUndefined();
    expect(parseSize('9999999999T')).toBeUndefined();
  });

  it('formats bytes in binary units, tables in aligned columns and ports as docker does', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536 * 1024 * 1024)).toBe('1.5 GiB');
    expect(
      formatTable([
        ['A', 'BB'],
        ['ccc', 'd'],
      ]),
    ).toBe('A    BB\nccc  d');
    const forward = { name: 'tcp-80', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 20001, guestPort: 80 };
    expect(formatPorts({ nics: [{ portForwards: [forward] }] })).toBe('127.0.0.1:20001->80/tcp');
  });

  it('maps vmkit error codes to exit codes and anything else to 1', async () => {
    const { VmkitError } = await import('@vmkit/core');
    expect(exitCodeOf(new VmkitError('NOT_FOUND', 'x'))).toBe(3);
    expect(exitCodeOf(new VmkitError('ABORTED', 'x'))).toBe(130);
    expect(exitCodeOf(new VmkitError('INVALID_ARGUMENT', 'x'))).toBe(2);
    expect(exitCodeOf(new Error('bug'))).toBe(1);
  });
});
