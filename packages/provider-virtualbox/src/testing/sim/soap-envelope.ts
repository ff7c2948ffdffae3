import { XMLParser } from 'fast-xml-parser';
import { clientFault, type SimFault } from './sim-fault.js';
import type { WsdlCatalog, WsdlField } from './wsdl-catalog.js';

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const VBOX_NS = 'http://www.virtualbox.org/';

/** A request's arguments: strings, or string lists for repeated parts. */
export type SimArgs = Readonly<Record<string, string | readonly string[]>>;

/** A decoded request. */
export interface SimRequest {
  readonly operation: string;
  readonly args: SimArgs;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  trimValues: false,
  isArray: (_name, jpath) => String(jpath).split('.').length === 4,
});

function text(value: unknown, part: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (v['@nil'] === 'true') return '';
    const keys = Object.keys(v).filter((k) => !k.startsWith('@'));
    if (keys.length === 1 && keys[0] === '#text') return String(v['#text']);
    if (keys.length === 0) return '';
  }
  throw clientFault(`Validation constraint violation: data type mismatch in element '${part}'`);
}

const INT_RANGES: Record<string, readonly [bigint, bigint]> = {
  'xsd:int': [-(2n ** 31n), 2n ** 31n - 1n],
  'xsd:long': [-(2n ** 63n), 2n ** 63n - 1n],
  'xsd:short': [-(2n ** 15n), 2n ** 15n - 1n],
  'xsd:unsignedInt': [0n, 2n ** 32n - 1n],
  'xsd:unsignedShort': [0n, 2n ** 16n - 1n],
  'xsd:unsignedLong': [0n, 2n ** 64n - 1n],
  'xsd:unsignedByte': [0n, 255n],
};

function checkValue(field: WsdlField, value: string, catalog: WsdlCatalog): void {
  const bad = () =>
    clientFault(`Validation constraint violation: data type mismatch in element '${field.name}'`);
  const range = INT_RANGES[field.type];
  if (range) {
    if (!/^-?\d{1,20}$/.test(value)) throw bad();
    const n = BigInt(value);
    if (n < range[0] || n > range[1]) throw bad();
  } else if (field.type === 'xsd:boolean') {
    if (!['true', 'false', '1', '0'].includes(value)) throw bad();
  } else if (field.type.startsWith('vbox:')) {
    const values = catalog.enums.get(field.type.slice(5));
    if (values && !values.has(value)) throw bad();
  }
}

/** Decodes a SOAP request and checks it against its operation's message in the WSDL. */
export function parseRequest(xml: string, catalog: WsdlCatalog): SimRequest {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml, true) as Record<string, unknown>;
  } catch {
    throw clientFault('Syntax error: the request is not well-formed XML');
  }
  const body = (doc.Envelope as Record<string, unknown> | undefined)?.Body as
    | Record<string, unknown>
    | undefined;
  if (!body) throw clientFault('Validation constraint violation: no SOAP Envelope/Body');
  const names = Object.keys(body).filter((k) => !k.startsWith('@'));
  const operation = names[0] ?? '';
  const fields = catalog.requests.get(operation);
  if (names.length !== 1 || !fields)
    throw clientFault(`Method '${operation}' not implemented: method name or namespace not recognized`);
  const raw = (typeof body[operation] === 'object' ? body[operation] : {}) as Record<string, unknown>;
  const args: Record<string, string | string[]> = {};
  for (const key of Object.keys(raw)) {
    if (key.startsWith('@') || key === '#text') continue;
    if (!fields.some((f) => f.name === key))
      throw clientFault(
        `Validation constraint violation: tag name or namespace mismatch in element '${key}'`,
      );
  }
  for (const field of fields) {
    const value = raw[field.name];
    const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
    if (!field.repeated && list.length > 1)
      throw clientFault(
        `Validation constraint violation: occurrence constraint violation in element '${field.name}'`,
      );
    if (!field.optional && list.length === 0)
      throw clientFault(
        `Validation constraint violation: occurrence constraint violation in element '${field.name}'`,
      );
    const values = list.map((v) => text(v, field.name));
    for (const v of values) checkValue(field, v, catalog);
    args[field.name] = field.repeated ? values : (values[0] ?? '');
  }
  return { operation, args };
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function encodeField(field: WsdlField, value: unknown, catalog: WsdlCatalog): string {
  const list = field.repeated ? ((value as unknown[] | undefined) ?? []) : value === undefined ? [] : [value];
  const struct = field.type.startsWith('vbox:') ? catalog.structs.get(field.type.slice(5)) : undefined;
  return list
    .map((v) => {
      const inner = struct
        ? struct.map((f) => encodeField(f, (v as Record<string, unknown>)[f.name], catalog)).join('')
        : xmlEscape(String(v));
      return `<${field.name}>${inner}</${field.name}>`;
    })
    .join('');
}

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP_ENV}" xmlns:vbox="${VBOX_NS}"><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

/**
 * Encodes a response. `result` is the single `returnval` when the response has one field, or an
 * object by field name when it has several (e.g. `takeSnapshot`'s `id` and `returnval`).
 */
export function renderResponse(operation: string, result: unknown, catalog: WsdlCatalog): string {
  const fields = catalog.responses.get(operation) ?? [];
  const values: Record<string, unknown> =
    fields.length === 1 && fields[0]
      ? { [fields[0].name]: result }
      : ((result ?? {}) as Record<string, unknown>);
  const inner = fields.map((f) => encodeField(f, values[f.name], catalog)).join('');
  return envelope(`<vbox:${operation}Response>${inner}</vbox:${operation}Response>`);
}

/** Encodes a fault the way vboxwebsrv (gSOAP) does; `errorInfo` is the RuntimeFault's reference. */
export function renderFault(fault: SimFault, errorInfo = ''): string {
  let detail = '';
  let text: string;
  if (fault.kind === 'runtime') {
    const signed = fault.resultCode | 0;
    const hex = `0x${(fault.resultCode >>> 0).toString(16)}`;
    text = `VirtualBox error: apirc=${hex} ${fault.message} (${hex})`;
    detail = `<detail><vbox:RuntimeFault><resultCode>${signed}</resultCode><returnval>${xmlEscape(errorInfo)}</returnval></vbox:RuntimeFault></detail>`;
  } else if (fault.kind === 'invalidObject') {
    text = `VirtualBox error: ${fault.message}`;
    detail = `<detail><vbox:InvalidObjectFault><badObjectID>${xmlEscape(fault.badObjectId)}</badObjectID></vbox:InvalidObjectFault></detail>`;
  } else text = fault.message;
  const code = fault.kind === 'server' ? 'SOAP-ENV:Server' : 'SOAP-ENV:Client';
  return envelope(
    `<SOAP-ENV:Fault><faultcode>${code}</faultcode><faultstring>${xmlEscape(text)}</faultstring>${detail}</SOAP-ENV:Fault>`,
  );
}
