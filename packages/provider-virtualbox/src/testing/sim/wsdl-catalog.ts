import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One element of a message or struct: its name, XML type and how often it may occur. */
export interface WsdlField {
  readonly name: string;
  /** `xsd:string`, `xsd:int`, `vbox:MachineState`, ... */
  readonly type: string;
  readonly optional: boolean;
  readonly repeated: boolean;
}

/** What the simulator knows of the WSDL: every operation's request and response, enums and structs. */
export interface WsdlCatalog {
  /** Request element fields by operation name (`IMachine_lockMachine`). */
  readonly requests: ReadonlyMap<string, readonly WsdlField[]>;
  /** Response element fields by operation name. */
  readonly responses: ReadonlyMap<string, readonly WsdlField[]>;
  /** Allowed values of each enumeration (`MachineState` → `PoweredOff`, ...). */
  readonly enums: ReadonlyMap<string, ReadonlySet<string>>;
  /** Fields of each struct type (`IMediumAttachment`). */
  readonly structs: ReadonlyMap<string, readonly WsdlField[]>;
  /** The file it was read from. */
  readonly path: string;
}

const FIELD = /<xsd:element name="([^"]+)"((?:\s+(?:minOccurs|maxOccurs)="[^"]*")*)\s+type="([^"]+)"\s*\/>/g;

function fields(body: string): WsdlField[] {
  const out: WsdlField[] = [];
  for (const m of body.matchAll(FIELD)) {
    const attrs = m[2] ?? '';
    out.push({
      name: m[1] ?? '',
      type: m[3] ?? '',
      optional: attrs.includes('minOccurs="0"'),
      repeated: attrs.includes('maxOccurs="unbounded"'),
    });
  }
  return out;
}

let cached: WsdlCatalog | undefined;

/** The WSDL that `virtualbox-soap` ships (`sdk-files/vboxweb.wsdl`), read once per process. */
export function wsdlPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('virtualbox-soap/package.json')), 'sdk-files', 'vboxweb.wsdl');
}

/** Parses (once) the operations, enums and structs of the shipped WSDL. */
export function loadWsdlCatalog(): WsdlCatalog {
  if (cached) return cached;
  const path = wsdlPath();
  const text = readFileSync(path, 'utf8');
  const requests = new Map<string, WsdlField[]>();
  const responses = new Map<string, WsdlField[]>();
  const enums = new Map<string, Set<string>>();
  const structs = new Map<string, WsdlField[]>();
  const operations = new Set<string>();
  for (const m of text.matchAll(/<wsdl:operation name="([^"]+)">\s*<wsdl:input/g)) operations.add(m[1] ?? '');
  for (const m of text.matchAll(
    /<xsd:element name="([^"]+)">\s*<xsd:complexType>\s*(?:<xsd:sequence>([\s\S]*?)<\/xsd:sequence>|<xsd:sequence\/>)?\s*<\/xsd:complexType>/g,
  )) {
    const name = m[1] ?? '';
    const body = m[2] ?? '';
    if (name.endsWith('Response') && operations.has(name.slice(0, -'Response'.length)))
      responses.set(name.slice(0, -'Response'.length), fields(body));
    else if (operations.has(name)) requests.set(name, fields(body));
  }
  for (const m of text.matchAll(
    /<xsd:simpleType name="([^"]+)">\s*<xsd:restriction base="xsd:string">([\s\S]*?)<\/xsd:restriction>/g,
  )) {
    const values = new Set<string>();
    for (const v of (m[2] ?? '').matchAll(/<xsd:enumeration value="([^"]*)"/g)) values.add(v[1] ?? '');
    enums.set(m[1] ?? '', values);
  }
  for (const m of text.matchAll(
    /<xsd:complexType name="([^"]+)">\s*<xsd:sequence>([\s\S]*?)<\/xsd:sequence>\s*<\/xsd:complexType>/g,
  ))
    structs.set(m[1] ?? '', fields(m[2] ?? ''));
  cached = { requests, responses, enums, structs, path };
  return cached;
}
