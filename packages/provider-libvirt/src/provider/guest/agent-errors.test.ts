import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { LibvirtError } from '../../errors/libvirt-error.js';
import { agentCallError } from './agent-errors.js';
import { readAgentInterfaces } from './agent-interfaces.js';

const libvirt = (code: number, message: string) =>
  new LibvirtError({ code, domain: 10, message, level: 2, int1: 0, int2: 0 }, 'QEMU_DOMAIN_AGENT_COMMAND');

describe('guest agent errors', () => {
  it('maps an agent that is not connected to UNSUPPORTED retryable, a missing channel to final UNSUPPORTED', () => {
    const e = agentCallError(
      libvirt(86, 'Guest agent is not responding: QEMU guest agent is not connected'),
      'guest-ping',
      'n1',
    );
    expect(VmkitError.is(e, 'UNSUPPORTED') && e.retryable).toBe(true);
    const f = agentCallError(
      libvirt(74, 'argument unsupported: QEMU guest agent is not configured'),
      'guest-ping',
      'n1',
    );
    expect(VmkitError.is(f, 'UNSUPPORTED') && !f.retryable).toBe(true);
    expect(
      VmkitError.is(agentCallError(libvirt(55, 'domain is not running'), 'guest-ping', 'n1'), 'CONFLICT'),
    ).toBe(true);
  });

  it("maps qemu-ga's unknown pid and handle to NOT_FOUND and other refusals to PROVIDER with the reason", () => {
    const pid = libvirt(
      1,
      "internal error: unable to execute QEMU agent command 'guest-exec-status': Invalid parameter 'pid'",
    );
    expect(VmkitError.is(agentCallError(pid, 'guest-exec-status', 'n1'), 'NOT_FOUND')).toBe(true);
    const handle = libvirt(
      1,
      "internal error: unable to execute QEMU agent command 'guest-file-read': handle '42' has not been found",
    );
    expect(VmkitError.is(agentCallError(handle, 'guest-file-read', 'n1'), 'NOT_FOUND')).toBe(true);
    const open = agentCallError(
      libvirt(1, "failed to open file '/x' (mode: 'r'): No such file or directory"),
      'guest-file-open',
      'n1',
    );
    expect(VmkitError.is(open, 'PROVIDER') && /No such file/.test(open.message)).toBe(true);
    const other = new Error('x');
    expect(agentCallError(other, 'guest-ping', 'n1')).toBe(other);
  });

  it('reads guest-network-get-interfaces: lower-case MACs, both families, junk left out', () => {
    expect(
      readAgentInterfaces([
        {
          name: 'eth0',
          'hardware-address': '52:54:00:AB:CD:EF',
          'ip-addresses': [
            { 'ip-address-type': 'ipv4', 'ip-address': '10.0.2.15', prefix: 24 },
            { 'ip-address-type': 'ipv6', 'ip-address': 'fe80::1', prefix: 64 },
            { 'ip-address-type': 'other', 'ip-address': 'x', prefix: 1 },
          ],
        },
        { name: 'lo', 'ip-addresses': [] },
        { nope: true },
      ]),
    ).toEqual([
      {
        name: 'eth0',
        mac: '52:54:00:ab:cd:ef',
        addresses: [
          { family: 'ipv4', address: '10.0.2.15', prefix: 24 },
          { family: 'ipv6', address: 'fe80::1', prefix: 64 },
        ],
      },
      { name: 'lo', addresses: [] },
    ]);
    expect(() => readAgentInterfaces({})).toThrow(/no list/);
  });
});
