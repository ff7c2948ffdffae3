import type { PortForward } from '@vmkit/core';
import { InvalidArgumentError } from 'commander';

/** The rule `-p` states in its errors. */
export const PORT_FLAG_RULE =
  'must be GUEST[/tcp|udp] or HOST:GUEST[/tcp|udp], each port an integer from 1 to 65535 (e.g. 80, 53/udp, 8080:80)';

/** One `-p` value: a guest port, its protocol, and the host port (`'auto'`: a free one is leased). */
export interface PortFlag {
  readonly protocol: 'tcp' | 'udp';
  readonly hostPort: number | 'auto';
  readonly guestPort: number;
}

const FORM = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/;

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(PORT_FLAG_RULE);
  return n;
}

/**
 * Parses one `-p` value (`80`, `53/udp`, `8080:80`, `5353:53/udp`) and appends it to the ones
 * before; a bad value is commander's `InvalidArgumentError`, which names `-p` and states the rule.
 */
export function parsePortFlag(text: string, previous: readonly PortFlag[] = []): PortFlag[] {
  const m = FORM.exec(text.trim());
  if (!m) throw new InvalidArgumentError(PORT_FLAG_RULE);
  const [, host, guest, protocol] = m;
  const flag: PortFlag = {
    protocol: protocol === 'udp' ? 'udp' : 'tcp',
    hostPort: host === undefined ? 'auto' : port(host),
    guestPort: port(guest as string),
  };
  const same = previous.find((p) => p.protocol === flag.protocol && p.guestPort === flag.guestPort);
  if (same) throw new InvalidArgumentError(`forwards ${flag.guestPort}/${flag.protocol} twice`);
  return [...previous, flag];
}

/**
 * The template choices the `-p` values make: plain TCP guest ports stay `inboundPorts` (forwarded
 * on the image's NAT NIC); a fixed host port or UDP needs explicit forwards, on one NAT NIC.
 * A fixed host port with more than one node is refused through `invalid` (naming `-p`).
 */
export function portOptions(
  flags: readonly PortFlag[],
  count: number,
  invalid: (field: string, rule: string) => Error,
): { inboundPorts?: number[]; network?: { nics: [{ attachment: 'nat'; portForwards: PortForward[] }] } } {
  if (flags.length === 0) return {};
  if (flags.every((f) => f.protocol === 'tcp' && f.hostPort === 'auto'))
    return { inboundPorts: flags.map((f) => f.guestPort) };
  const fixed = flags.find((f) => f.hostPort !== 'auto');
  if (fixed && count > 1) {
    throw invalid(
      '-p',
      `${fixed.hostPort}:${fixed.guestPort} fixes the host port, which fits one node only: use -n 1, or -p ${fixed.guestPort} for a free host port per node`,
    );
  }
  return {
    network: {
      nics: [
        {
          attachment: 'nat',
          portForwards: flags.map((f) => ({
            protocol: f.protocol,
            guestPort: f.guestPort,
            hostPort: f.hostPort,
          })),
        },
      ],
    },
  };
}
