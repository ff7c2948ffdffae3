import { InvalidArgumentError } from 'commander';

/** The guest OS given as `family/version/arch` (`debian/12/x86_64`). */
export interface OsFlag {
  readonly family: string;
  readonly version: string;
  readonly arch: string;
}

/** Parses `--os family/version/arch`. */
export function osOption(text: string): OsFlag {
  const parts = text.split('/');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9._-]{1,63}$/.test(p)))
    throw new InvalidArgumentError('must be family/version/arch, such as debian/12/x86_64');
  const [family, version, arch] = parts as [string, string, string];
  return { family, version, arch };
}

/** Formats `vmkit import` takes (`vpc` is qemu's name for `vhd`). */
export const IMPORT_FORMATS = ['vmdk', 'vhd', 'vpc', 'vhdx', 'vdi', 'qcow2', 'raw', 'ova', 'box'] as const;
/** Formats `vmkit export` writes. */
export const EXPORT_FORMATS = ['vmdk', 'vhd', 'raw', 'qcow2', 'box'] as const;
/** Vagrant providers of `box` files. */
export const BOX_PROVIDERS = ['libvirt', 'virtualbox'] as const;

/** Checks a `--format` value against a list. */
export function formatOption(formats: readonly string[]) {
  return (text: string): string => {
    const f = text.toLowerCase();
    if (!formats.includes(f)) throw new InvalidArgumentError(`must be one of ${formats.join(', ')}`);
    return f;
  };
}

const BY_EXTENSION: Readonly<Record<string, string>> = {
  vmdk: 'vmdk',
  vhd: 'vhd',
  vhdx: 'vhdx',
  vdi: 'vdi',
  qcow2: 'qcow2',
  img: 'raw',
  raw: 'raw',
  ova: 'ova',
  box: 'box',
};

/** The format a file or URL's name says (`disk.vmdk`, `https://x/a.ova?sig=1`), if any. */
export function formatFromName(source: string): string | undefined {
  const path = /^https?:\/\//i.test(source) ? new URL(source).pathname : source;
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  return ext ? BY_EXTENSION[ext] : undefined;
}

/** True for an http(s) URL (streamed by the import service), false for a local path. */
export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}
