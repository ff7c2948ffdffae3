import { z } from 'zod';
import type { NetworkSpec, NicIpSpec, NicSpec, PortForward } from '../model/network-spec.js';
import { IPV4, IPV6 } from '../network/ip-math.js';
import { ipProblems } from '../network/ip-rules.js';

const port = z.number().int('must be an integer').min(1, 'must be 1-65535').max(65535, 'must be 1-65535');
const ip = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });

/** Schema of a {@link PortForward}. */
export const portForwardSchema: z.ZodType<PortForward> = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit')
    .optional(),
  protocol: z.enum(['tcp', 'udp'], { error: "must be 'tcp' or 'udp'" }),
  hostIp: ip.optional(),
  hostPort: z
    .union([port, z.literal('auto')], { error: "must be a port number 1-65535 or 'auto'" })
    .optional(),
  guestIp: ip.optional(),
  guestPort: port,
});

/** The shape of a NIC's `ipv4`/`ipv6` (lengths bounded; the rules are {@link ipProblems}'). */
const ipSchema: z.ZodType<NicIpSpec> = z.strictObject({
  address: z.string().max(43, 'must be an address with its prefix').optional(),
  pool: z.string().max(84, 'must be FIRST-LAST/PREFIX').optional(),
  gateway: z.string().max(39, 'must be an address').optional(),
  dns: z.array(z.string().max(39, 'must list addresses')).optional(),
});

const nicSchema: z.ZodType<NicSpec> = z
  .strictObject({
    slot: z.number().int().min(0, 'must be 0-7').max(7, 'must be 0-7').optional(),
    attachment: z.enum(['nat', 'bridged', 'hostOnly', 'internal'], {
      error: "must be 'nat', 'bridged', 'hostOnly' or 'internal'",
    }),
    hostInterface: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'must be an interface name of 1-15 of A-Z a-z 0-9 _ . : -')
      .optional(),
    network: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be a network name of 1-63 of A-Z a-z 0-9 _ . -')
      .optional(),
    mac: z
      .string()
      .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i, 'must be a MAC address xx:xx:xx:xx:xx:xx')
      .refine((mac) => (Number.parseInt(mac.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC address')
      .optional(),
    portForwards: z.array(portForwardSchema).max(64, 'at most 64 port forwards per NIC').optional(),
    ipv4: ipSchema.optional(),
    ipv6: ipSchema.optional(),
  })
  .superRefine((nic, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (nic.portForwards?.length && nic.attachment !== 'nat')
      issue('portForwards', 'only NAT NICs forward ports');
    if (nic.attachment === 'bridged' && !nic.hostInterface)
      issue('hostInterface', 'is required for bridged NICs');
    if (nic.attachment === 'internal' && !nic.network) issue('network', 'is required for internal NICs');
    if (nic.attachment === 'hostOnly' && !nic.hostInterface && !nic.network) {
      issue('network', 'hostOnly NICs need a network or hostInterface');
    }
    for (const family of [IPV4, IPV6]) {
      const spec = nic[family.name];
      for (const problem of spec ? ipProblems(family, spec, nic.attachment) : []) {
        ctx.addIssue({
          code: 'custom',
          path: problem.key ? [family.name, problem.key] : [family.name],
          message: problem.rule,
        });
      }
    }
    const names = new Set<string>();
    const hostPorts = new Set<string>();
    for (const [i, pf] of (nic.portForwards ?? []).entries()) {
      const name = pf.name ?? `${pf.protocol}-${pf.guestPort}`;
      if (names.has(name))
        ctx.addIssue({ code: 'custom', path: ['portForwards', i, 'name'], message: `duplicates ${name}` });
      names.add(name);
      if (typeof pf.hostPort === 'number') {
        const key = `${pf.protocol}/${pf.hostIp ?? '127.0.0.1'}:${pf.hostPort}`;
        if (hostPorts.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['portForwards', i, 'hostPort'],
            message: `duplicates ${key}`,
          });
        }
        hostPorts.add(key);
      }
    }
  });

/** Schema of a {@link NetworkSpec}. */
export const networkSpecSchema: z.ZodType<NetworkSpec> = z
  .strictObject({ nics: z.array(nicSchema).min(1, 'must have at least one NIC').max(8, 'at most 8 NICs') })
  .superRefine((spec, ctx) => {
    const slots = new Set<number>();
    const addresses = new Map<string, number>();
    for (const [i, nic] of spec.nics.entries()) {
      const slot = nic.slot ?? i;
      if (slots.has(slot))
        ctx.addIssue({ code: 'custom', path: ['nics', i, 'slot'], message: `slot ${slot} is used twice` });
      slots.add(slot);
      for (const family of [IPV4, IPV6]) {
        const text = nic[family.name]?.address?.split('/')[0];
        const n = text === undefined ? undefined : family.parse(text);
        if (n === undefined) continue;
        const key = `${family.name} ${n}`;
        const first = addresses.get(key);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['nics', i, family.name, 'address'],
            message: `${text} is used twice (also network.nics[${first}].${family.name}.address)`,
          });
        }
        addresses.set(key, i);
      }
    }
  });
