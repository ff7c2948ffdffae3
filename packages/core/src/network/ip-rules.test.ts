import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { NicSpec } from '../model/network-spec.js';
import { checkTemplateOptions } from '../validation/validators.js';

/** The field and rule a template with these NICs is refused with (or `undefined` when accepted). */
function refusal(nics: NicSpec[]): { field: unknown; message: string } | undefined {
  try {
    checkTemplateOptions({ network: { nics } }, 'options');
    return undefined;
  } catch (error) {
    if (!VmkitError.is(error, 'INVALID_ARGUMENT')) throw error;
    return { field: error.details.field, message: error.message };
  }
}

const lab = { attachment: 'hostOnly', network: 'lab' } as const;

describe('static address rules of a NIC (INVALID_ARGUMENT naming the field and the rule)', () => {
  it('accepts an address or a pool with a gateway and DNS inside the subnet', () => {
    expect(
      refusal([{ ...lab, ipv4: { address: '192.168.50.10/24', gateway: '192.168.50.1', dns: ['1.1.1.1'] } }]),
    ).toBeUndefined();
    expect(
      refusal([{ ...lab, ipv4: { pool: '192.168.50.10-192.168.50.19/24', gateway: '192.168.50.1' } }]),
    ).toBeUndefined();
    expect(
      refusal([{ attachment: 'internal', network: 'x', ipv4: { address: '10.9.0.1/31' } }]),
    ).toBeUndefined();
  });

  it.each([
    [
      { address: '192.168.50.10/24', pool: '192.168.50.10-192.168.50.11/24' },
      'options.network.nics[0].ipv4',
      /exactly one of address and pool/,
    ],
    [{ gateway: '192.168.50.1' }, 'options.network.nics[0].ipv4', /exactly one of address and pool/],
    [{ address: '192.168.50.10' }, 'options.network.nics[0].ipv4.address', /a\.b\.c\.d\/1-32/],
    [
      { address: '192.168.50.0/24' },
      'options.network.nics[0].ipv4.address',
      /network address of 192\.168\.50\.0\/24/,
    ],
    [{ address: '192.168.50.255/24' }, 'options.network.nics[0].ipv4.address', /broadcast address/],
    [
      { address: '192.168.50.10/24', gateway: '192.168.51.1' },
      'options.network.nics[0].ipv4.gateway',
      /192\.168\.51\.1 is outside 192\.168\.50\.0\/24/,
    ],
    [
      { address: '192.168.50.10/24', gateway: '192.168.50.10' },
      'options.network.nics[0].ipv4.gateway',
      /not be an address the nodes get/,
    ],
    [
      { pool: '192.168.50.10-192.168.50.19/24', gateway: '192.168.50.15' },
      'options.network.nics[0].ipv4.gateway',
      /not be an address the nodes get/,
    ],
    [
      { pool: '192.168.50.19-192.168.50.10/24' },
      'options.network.nics[0].ipv4.pool',
      /from a lower to a higher/,
    ],
    [
      { pool: '192.168.50.10-192.168.51.10/24' },
      'options.network.nics[0].ipv4.pool',
      /192\.168\.51\.10 is outside 192\.168\.50\.0\/24/,
    ],
    [{ pool: '192.168.50.0-192.168.50.9/24' }, 'options.network.nics[0].ipv4.pool', /network address/],
    [{ pool: '192.168.50.10/24' }, 'options.network.nics[0].ipv4.pool', /FIRST-LAST\/PREFIX/],
    [
      { pool: '10.0.0.1-10.1.0.1/8' },
      'options.network.nics[0].ipv4.pool',
      /at most 65536 addresses \(has 65537\)/,
    ],
    [
      { address: '192.168.50.10/24', dns: ['8.8.8.8', 'dns.example'] },
      'options.network.nics[0].ipv4.dns',
      /IPv4 addresses/,
    ],
    [
      { address: '192.168.50.10/24', dns: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'] },
      'options.network.nics[0].ipv4.dns',
      /at most 3/,
    ],
  ])('refuses %j', (ipv4, field, rule) => {
    const r = refusal([{ ...lab, ipv4 }]);
    expect(r?.field).toBe(field);
    expect(r?.message).toMatch(rule);
  });

  it.each([
    [{ address: 'fd00::10/64', gateway: 'fd00::1', dns: ['fd00::53'] }, undefined, undefined],
    [{ pool: 'fd00::10-fd00::1f/64' }, undefined, undefined],
    [{ address: 'fd00::/64' }, 'options.network.nics[0].ipv6.address', /network address of fd00::\/64/],
    [{ address: '192.168.50.10/24' }, 'options.network.nics[0].ipv6.address', /IPv6 address with its prefix/],
    [
      { address: 'fd00::10/64', gateway: 'fd01::1' },
      'options.network.nics[0].ipv6.gateway',
      /fd01::1 is outside fd00::\/64/,
    ],
    [{ pool: 'fd00::10-fd00::1:0:0/64' }, 'options.network.nics[0].ipv6.pool', /at most 65536 addresses/],
    [{ address: 'fd00::10/64', dns: ['1.1.1.1'] }, 'options.network.nics[0].ipv6.dns', /IPv6 addresses/],
  ])('IPv6 %j', (ipv6, field, rule) => {
    const r = refusal([{ ...lab, ipv6 }]);
    expect(r?.field).toBe(field);
    if (rule) expect(r?.message).toMatch(rule);
  });

  it('refuses a static address on a NAT NIC, saying why', () => {
    const r = refusal([{ attachment: 'nat', ipv4: { address: '10.0.2.20/24' } }]);
    expect(r?.field).toBe('options.network.nics[0].ipv4');
    expect(r?.message).toMatch(/NAT NICs take no static address/);
  });

  it('refuses one address on two NICs of a node', () => {
    const r = refusal([
      { ...lab, ipv4: { address: '192.168.50.10/24' } },
      { attachment: 'internal', network: 'other', ipv4: { address: '192.168.50.10/24' } },
    ]);
    expect(r?.field).toBe('options.network.nics[1].ipv4.address');
    expect(r?.message).toMatch(/used twice/);
    // The same IPv6 address in two spellings is one address.
    const six = refusal([
      { ...lab, ipv6: { address: 'fd00::a/64' } },
      { attachment: 'internal', network: 'other', ipv6: { address: 'fd00:0::A/64' } },
    ]);
    expect(six?.field).toBe('options.network.nics[1].ipv6.address');
  });
});
