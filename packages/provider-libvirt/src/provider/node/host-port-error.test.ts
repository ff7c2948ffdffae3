import { unbindableHostPort } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { classifyStartError } from './host-port-error.js';

describe('classifyStartError', () => {
  it("turns QEMU's hostfwd bind failure into core's unbindable-port error", () => {
    const qemu = new Error(
      "internal error: process exited while connecting to monitor: 2026-11-29T21:00:00.000000Z qemu-system-x86_64: -netdev user,id=vmkitnic0,hostfwd=tcp:127.0.0.1:20417-:80: Could not set up host forwarding rule 'tcp:127.0.0.1:20417-:80'",
    );
    const out = classifyStartError(qemu);
    expect(unbindableHostPort(out)).toEqual({ protocol: 'tcp', port: 20417 });
    expect((out as Error).cause).toBe(qemu);
  });

  it('leaves other start failures alone', () => {
    const other = new Error('internal error: cannot allocate memory');
    expect(classifyStartError(other)).toBe(other);
    expect(unbindableHostPort(classifyStartError(other))).toBeUndefined();
  });
});
