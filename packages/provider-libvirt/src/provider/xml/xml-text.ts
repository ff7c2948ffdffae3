import { XMLParser } from 'fast-xml-parser';

/** Escapes text for an XML element or a quoted attribute. */
export function xmlEscape(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: false,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name, jpath) =>
    ['capabilities.guest', 'capabilities.guest.arch', 'capabilities.guest.arch.domain'].includes(
      String(jpath),
    ) || ['disk', 'interface', 'qemu:arg'].includes(name),
});

/** Parses libvirt XML (domain, capabilities, pool) into plain objects; attributes are `@name`. */
export function parseXml(xml: string): Record<string, unknown> {
  return parser.parse(xml) as Record<string, unknown>;
}
