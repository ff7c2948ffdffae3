/**
 * A small YAML emitter for meta-data: one `key: value` line per top-level key, values in flow style
 * written as JSON with a space after every `:` and `,`. JSON scalars are valid YAML 1.1 and 1.2, so
 * PyYAML (cloud-init) and any YAML 1.2 parser read back exactly the values given. Strings also
 * escape, as `\uXXXX`, every character YAML 1.1 does not allow in a stream or reads as a line
 * break (DEL, C1 controls with NEL, U+2028/U+2029, the byte-order mark, U+FFFE/U+FFFF), which
 * JSON leaves as they are.
 */
export function toFlowYaml(data: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    out += `${plainKey(key) ? key : quote(key)}: ${flow(value)}\n`;
  }
  return out;
}

function plainKey(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) && !/^(y|n|yes|no|true|false|on|off|null)$/i.test(key);
}

function flow(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${quote(k)}: ${flow(v)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'null';
    // PyYAML (YAML 1.1) reads `1e+21` as a string: floats need a dot.
    const text = JSON.stringify(value);
    return /e/.test(text) && !text.includes('.') ? text.replace('e', '.0e') : text;
  }
  if (typeof value === 'string') return quote(value);
  return JSON.stringify(value);
}

/** Characters JSON leaves raw that a YAML 1.1 reader refuses or folds (lone surrogates JSON escapes itself). */
const YAML_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/** A double-quoted scalar valid in YAML 1.1 and 1.2: JSON, with the characters above escaped. */
function quote(text: string): string {
  return JSON.stringify(text).replace(
    YAML_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
