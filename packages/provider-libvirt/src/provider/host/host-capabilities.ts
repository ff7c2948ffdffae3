import { VmkitError } from '@vmkit/core/spi';
import { parseXml } from '../xml/xml-text.js';

/** What the provider takes from libvirt's capabilities XML. */
export interface HostGuestSupport {
  /** Guest architecture chosen (the host's if it can run it). */
  readonly arch: string;
  /** Domain types available for that architecture (`qemu`, `kvm`, `test`). */
  readonly domainTypes: readonly string[];
}

interface CapsDoc {
  capabilities?: {
    host?: { cpu?: { arch?: string } };
    guest?: Array<{
      os_type?: string;
      arch?: Array<{ '@name'?: string; domain?: Array<{ '@type'?: string }> }>;
    }>;
  };
}

/** Reads the hvm guest architectures and domain types from capabilities XML. */
export function readHostGuestSupport(capsXml: string): HostGuestSupport {
  const doc = parseXml(capsXml) as CapsDoc;
  const hostArch = doc.capabilities?.host?.cpu?.arch;
  const guests = (doc.capabilities?.guest ?? []).filter((g) => g.os_type === 'hvm');
  const arches = guests.flatMap((g) => g.arch ?? []);
  const chosen =
    arches.find((a) => a['@name'] === hostArch) ?? arches.find((a) => a['@name'] === 'x86_64') ?? arches[0];
  if (!chosen?.['@name']) throw new VmkitError('UNSUPPORTED', 'libvirt reports no hvm guest architecture');
  const types = (chosen.domain ?? [])
    .map((d) => d['@type'])
    .filter((t): t is string => typeof t === 'string');
  return { arch: chosen['@name'], domainTypes: types };
}

/**
 * Picks the domain type: the one asked for (it must be offered), else `qemu` (TCG works
 * everywhere; KVM is used only when asked), else the first offered (`test` on the test driver).
 */
export function chooseDomainType(support: HostGuestSupport, wanted?: string): string {
  if (wanted) {
    if (!support.domainTypes.includes(wanted)) {
      throw new VmkitError(
        'UNSUPPORTED',
        `domain type '${wanted}' is not offered (have: ${support.domainTypes.join(', ')})`,
      );
    }
    return wanted;
  }
  if (support.domainTypes.includes('qemu')) return 'qemu';
  const first = support.domainTypes[0];
  if (!first) throw new VmkitError('UNSUPPORTED', `no domain type offered for ${support.arch}`);
  return first;
}
