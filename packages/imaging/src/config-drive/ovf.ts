import type { ConfigDriveSpec } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import type { MediaEntry } from '../media-entry.js';
import { addDriveFiles, type ConfigDriveLayout } from './config-drive-layout.js';
import { toFlowYaml } from './flow-yaml.js';
import { bytesOf, checkReservedKeys } from './validate-spec.js';

/** Label of the OVF environment CD. Guests find it by its `ovf-env.xml`, not by label. */
export const OVF_LABEL = 'OVF ENV';
/** The DMTF OVF environment namespace. */
export const OVF_ENV_NAMESPACE = 'http://schemas.dmtf.org/ovf/environment/1';

/** Characters XML 1.0 cannot carry, even as references: C0 controls but tab, LF and CR, lone surrogates, U+FFFE, U+FFFF. */
const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

/** Refuses a value an XML 1.0 document cannot hold, naming `field`. */
function xmlText(value: string, field: string): string {
  const bad = NOT_XML.exec(value);
  if (bad) {
    const code = (bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    throw invalidArgument(field, `holds U+${code}, which an XML 1.0 document (ovf-env.xml) cannot carry`);
  }
  return value;
}

function xmlAttr(value: string): string {
  return value.replace(/[&<>"\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The OVF environment layout: `ovf-env.xml` (DMTF environment namespace) whose PropertySection
 * holds instance-id, hostname, public-keys (one per line), user-data and network-config (base64),
 * and the spec's metaData keys (such as `seedfrom`; non-string values as JSON). Text XML 1.0
 * cannot carry (most C0 controls, lone surrogates, U+FFFE/U+FFFF) is `INVALID_ARGUMENT` naming
 * the field.
 */
export function ovfLayout(spec: ConfigDriveSpec): ConfigDriveLayout {
  checkReservedKeys(spec.metaData, {
    'instance-id': 'spec.instanceId',
    hostname: 'spec.hostname',
    'local-hostname': 'spec.hostname',
    'public-keys': 'spec.publicKeys',
    'user-data': 'spec.userData',
    'network-config': 'spec.networkConfig',
  });
  const props: Array<[string, string]> = [['instance-id', xmlText(spec.instanceId, 'spec.instanceId')]];
  if (spec.hostname !== undefined) props.push(['hostname', xmlText(spec.hostname, 'spec.hostname')]);
  for (const [key, value] of Object.entries(spec.metaData ?? {})) {
    if (value === undefined) continue;
    const field = `spec.metaData.${key}`;
    props.push([
      xmlText(key, field),
      xmlText(typeof value === 'string' ? value : JSON.stringify(value), field),
    ]);
  }
  if (spec.publicKeys && spec.publicKeys.length > 0) {
    spec.publicKeys.forEach((key, i) => {
      xmlText(key, `spec.publicKeys[${i}]`);
    });
    props.push(['public-keys', spec.publicKeys.join('\n')]);
  }
  if (spec.userData !== undefined)
    props.push(['user-data', Buffer.from(bytesOf(spec.userData)).toString('base64')]);
  if (spec.networkConfig !== undefined) {
    const net = spec.networkConfig;
    const text = typeof net === 'string' ? net : toFlowYaml('network' in net ? net : { network: net });
    props.push(['network-config', Buffer.from(text, 'utf8').toString('base64')]);
  }
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Environment xmlns="${OVF_ENV_NAMESPACE}" xmlns:oe="${OVF_ENV_NAMESPACE}"\n` +
    '    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" oe:id="">\n' +
    '  <PropertySection>\n' +
    props.map(([k, v]) => `    <Property oe:key="${xmlAttr(k)}" oe:value="${xmlAttr(v)}"/>\n`).join('') +
    '  </PropertySection>\n' +
    '</Environment>\n';
  const entries: MediaEntry[] = [{ path: 'ovf-env.xml', content: xml }];
  addDriveFiles(entries, spec.files);
  return { label: OVF_LABEL, filesystem: 'iso9660', entries };
}
