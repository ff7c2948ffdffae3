/** Formats a byte count the way `df -h` does, with binary units (`1.5 GiB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Renders rows as left-aligned columns separated by two spaces (the first row is the header). */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Parses a duration: a number of milliseconds, or a number with a unit `ms`, `s`, `m`, `h`, `d`
 * (`90s`, `12h`, `7d`). Returns `undefined` for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const scale = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * scale);
}

/** A node's port forwards as `127.0.0.1:20001->80/tcp`, comma-separated (as `docker ps` shows them). */
export function formatPorts(network: {
  readonly nics: ReadonlyArray<{
    readonly portForwards: ReadonlyArray<{
      readonly protocol: string;
      readonly hostIp?: string;
      readonly hostPort: number;
      readonly guestPort: number;
    }>;
  }>;
}): string {
  const out: string[] = [];
  for (const nic of network.nics) {
    for (const f of nic.portForwards)
      out.push(`${f.hostIp ?? '127.0.0.1'}:${f.hostPort}->${f.guestPort}/${f.protocol}`);
  }
  return out.join(',');
}

/**
 * Parses a size in bytes: a whole number, or a number with a binary unit `K`, `M`, `G`, `T`
 * (also written `KiB`, `MiB`...; `512M`, `1.5G`, `16TiB`). Returns `undefined` for anything else
 * and for sizes that are not safe integers.
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const power = m[2] ? 'KMGT'.indexOf(m[2].toUpperCase()) + 1 : 0;
  const bytes = Math.round(Number(m[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
