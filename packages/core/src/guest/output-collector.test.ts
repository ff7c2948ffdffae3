import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { OutputCollector, ScriptOutput } from './output-collector.js';

describe('OutputCollector', () => {
  it('keeps the first maxBytes, counts the rest and says it truncated', () => {
    const c = new OutputCollector(5);
    c.push(Buffer.from('abc'));
    c.push(Buffer.from('defgh'));
    expect(c.text()).toBe('abcde');
    expect(c.totalBytes).toBe(8);
    expect(c.truncated).toBe(true);
    const d = new OutputCollector(8);
    d.push(Buffer.from('abcdefgh'));
    expect(d.truncated).toBe(false);
  });

  it('stays bounded when 20 MiB go through it', () => {
    const c = new OutputCollector(1024);
    const chunk = new Uint8Array(64 * 1024).fill(65);
    for (let i = 0; i < 320; i++) c.push(chunk);
    expect(c.totalBytes).toBe(20 * 1024 * 1024);
    expect(c.text()).toHaveLength(1024);
  });

  it('copies what it keeps, so a reused buffer does not change it', () => {
    const c = new OutputCollector(10);
    const buf = Buffer.from('xyz');
    c.push(buf);
    buf.write('abc');
    expect(c.text()).toBe('xyz');
  });
});

describe('ScriptOutput', () => {
  it('streams to onOutput, keeps streams apart, survives a throwing listener', () => {
    const seen: string[] = [];
    const out = new ScriptOutput({
      maxOutputBytes: 3,
      onOutput: (stream, chunk) => {
        seen.push(`${stream}:${Buffer.from(chunk).toString()}`);
        throw new Error('listener bug');
      },
    });
    out.push('stdout', Buffer.from('hello'));
    out.push('stderr', Buffer.from('oops'));
    expect(seen).toEqual(['stdout:hello', 'stderr:oops']);
    expect(out.result(3, 7, 'agent')).toEqual({
      exitCode: 3,
      stdout: 'hel',
      stderr: 'oop',
      truncated: true,
      durationMs: 7,
      transport: 'agent',
    });
  });

  it('builds TIMEOUT / ABORTED errors carrying the partial output', () => {
    const out = new ScriptOutput();
    out.push('stdout', Buffer.from('part'));
    const e = out.stoppedError('TIMEOUT', 'ssh', { timeoutMs: 50 });
    expect(VmkitError.is(e, 'TIMEOUT')).toBe(true);
    expect(e.details).toMatchObject({
      stdout: 'part',
      stderr: '',
      truncated: false,
      transport: 'ssh',
      timeoutMs: 50,
    });
    expect(VmkitError.is(out.stoppedError('ABORTED', 'agent'), 'ABORTED')).toBe(true);
  });
});
