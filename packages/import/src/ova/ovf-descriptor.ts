import { VmkitError } from '@vmkit/core/spi';
import { XMLParser } from 'fast-xml-parser';
import type { ImportedHardware } from '../task-model.js';

/** A disk an OVF descriptor lists. */
export interface OvfDisk {
  /** Member of the OVA holding it. */
  readonly href: string;
  /** Its format, from `ovf:format` or the file's extension. */
  readonly format: string;
  readonly capacityBytes?: number;
}

/** What vmkit reads from an OVF descriptor. */
export interface OvfDescriptor {
  readonly name?: string;
  readonly disks: OvfDisk[];
  readonly hardware: ImportedHardware;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  processEntities: false,
  parseTagValue: false,
  isArray: (name) => ['File', 'Disk', 'Item', 'StorageItem'].includes(name),
});

type Node = Record<string, unknown>;
const asNode = (v: unknown): Node => (typeof v === 'object' && v !== null ? (v as Node) : {});
const list = (v: unknown): Node[] => (Array.isArray(v) ? v.map(asNode) : []);
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : (asNode(v)['#text'] as string | undefined);

function corrupt(rule: string): VmkitError {
  return new VmkitError('CORRUPT', `OVF descriptor: ${rule}`, { details: { rule: 'ova-descriptor' } });
}

/** Multiplier of an OVF allocation unit such as `byte * 2^20` (default bytes). */
export function allocationUnits(units: string | undefined): number {
  if (!units) return 1;
  const m = /^\s*byte\s*(?:\*\s*(\d+)\s*\^\s*(\d+))?\s*$/i.exec(units);
  if (!m) throw corrupt(`unknown allocation units "${units}"`);
  return m[1] ? Number(m[1]) ** Number(m[2]) : 1;
}

function formatOf(formatUri: string | undefined, href: string): string {
  const hint = `${formatUri ?? ''} ${href}`.toLowerCase();
  for (const f of ['vmdk', 'vhdx', 'vhd', 'vdi', 'qcow2'] as const) if (hint.includes(f)) return f;
  if (href.toLowerCase().endsWith('.img') || href.toLowerCase().endsWith('.raw')) return 'raw';
  throw corrupt(`cannot tell the format of disk ${href} (ovf:format "${formatUri ?? ''}")`);
}

/** Parses an OVF 1.x/2.x descriptor: its disks in DiskSection order, CPUs and memory. */
export function parseOvf(xml: string): OvfDescriptor {
  let doc: Node;
  try {
    doc = asNode(parser.parse(xml));
  } catch (error) {
    throw new VmkitError('CORRUPT', `OVF descriptor is not XML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const envelope = asNode(doc.Envelope);
  if (!doc.Envelope) throw corrupt('no Envelope element');
  const files = new Map(
    list(asNode(envelope.References).File).map((f) => [String(f['@id']), String(f['@href'])]),
  );
  const disks = list(asNode(envelope.DiskSection).Disk).map((d): OvfDisk => {
    const href = files.get(String(d['@fileRef']));
    if (!href) throw corrupt(`disk ${String(d['@diskId'])} refers to no File`);
    const capacity =
      Number(d['@capacity']) * allocationUnits(d['@capacityAllocationUnits'] as string | undefined);
    return {
      href,
      format: formatOf(d['@format'] as string | undefined, href),
      ...(Number.isSafeInteger(capacity) ? { capacityBytes: capacity } : {}),
    };
  });
  if (disks.length === 0) throw corrupt('no disks in DiskSection');
  const system = asNode(
    Array.isArray(envelope.VirtualSystem) ? envelope.VirtualSystem[0] : envelope.VirtualSystem,
  );
  const items = list(asNode(system.VirtualHardwareSection).Item);
  const hardware: { cores?: number; ramMiB?: number } = {};
  for (const item of items) {
    const type = text(item.ResourceType);
    const quantity = Number(text(item.VirtualQuantity));
    if (!Number.isFinite(quantity)) continue;
    if (type === '3') hardware.cores = quantity;
    if (type === '4')
      hardware.ramMiB = Math.round((quantity * allocationUnits(text(item.AllocationUnits))) / 2 ** 20);
  }
  const firmware = declaredFirmware(system);
  const name = text(system.Name) ?? (system['@id'] as string | undefined);
  return { ...(name ? { name } : {}), disks, hardware: { ...hardware, ...(firmware ? { firmware } : {}) } };
}

/**
 * The firmware a virtual system declares: VirtualBox's `<vbox:Machine>…<Hardware><Firmware
 * type="EFI"/>` (`BIOS`, `EFI`, `EFI32`, `EFI64`, `EFIDUAL`), or VMware's `<vmw:Config
 * vmw:key="firmware" vmw:value="efi"/>` in the hardware section; `undefined` when neither says.
 */
function declaredFirmware(system: Node): 'bios' | 'efi' | undefined {
  const vbox = text(asNode(asNode(asNode(system.Machine).Hardware).Firmware)['@type']);
  if (vbox) return /^efi/i.test(vbox) ? 'efi' : /^bios$/i.test(vbox) ? 'bios' : undefined;
  const configs = asNode(system.VirtualHardwareSection).Config;
  for (const config of Array.isArray(configs) ? configs.map(asNode) : [asNode(configs)]) {
    if (String(config['@key']).toLowerCase() !== 'firmware') continue;
    const value = String(config['@value']).toLowerCase();
    if (value === 'efi') return 'efi';
    if (value === 'bios') return 'bios';
  }
  return undefined;
}
