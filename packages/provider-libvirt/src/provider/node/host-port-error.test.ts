import { unbindableHostPort } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { classifyStartError, startClassified } from './host-port-error.js';

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

  it('starts again when QEMU exited unexplained, until libvirt quotes the hostfwd error', async () => {
    const errors = [
      new Error('failed to connect to monitor socket: Connection refused'),
      new Error(
        "process exited while connecting to monitor: Could not set up host forwarding rule 'udp:0.0.0.0:20999-:53'",
      ),
    ];
    let calls = 0;
    const failing = startClassified(async () => {
      throw errors[calls++];
    });
    await expect(failing.catch(unbindableHostPort)).resolves.toEqual({ protocol: 'udp', port: 20999 });
    expect(calls).toBe(2);
  });

  it('gives up after three unexplained exits, and does not retry other failures', async () => {
    let calls = 0;
    await expect(
      startClassified(async () => {
        calls++;
        throw new Error('failed to connect to monitor socket: Connection refused');
      }),
    ).rejects.toThrow(/monitor socket/);
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      startClassified(async () => {
        calls++;
        throw new Error('cannot allocate memory');
      }),
    ).rejects.toThrow(/memory/);
    expect(calls).toBe(1);
  });
});
