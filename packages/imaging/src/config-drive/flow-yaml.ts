/**
 * A small YAML emitter for meta-data: one `key: value` line per top-level key, values in flow style
 * written as JSON with a space after every `:` and `,`. JSON scalars are valid YAML 1.1 and 1.2, so
 * PyYAML (cloud-init) and any YAML 1.2 parser read back exactly the values given.
 */
export function toFlowYaml(data: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    out += `${plainKey(key) ? key : JSON.stringify(key)}: ${flow(value)}\n`;
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
      .map(([k, v]) => `${JSON.stringify(k)}: ${flow(v)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'null';
    // PyYAML (YAML 1.1) reads `1e+21` as a string: floats need a dot.
    const text = JSON.stringify(value);
    return /e/.test(text) && !text.includes('.') ? text.replace('e', '.0e') : text;
  }
  return JSON.stringify(value);
}
