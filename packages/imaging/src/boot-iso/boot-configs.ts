import { type KernelParam, patchKernelArgs } from './kernel-params.js';

/** Which kind of boot configuration a file is. */
export type BootConfigKind = 'syslinux' | 'grub';

/** The kind of boot configuration at `path` (in an ISO or a FAT image), or `undefined`. */
export function bootConfigKind(path: string): BootConfigKind | undefined {
  const lower = path.toLowerCase();
  const name = lower.slice(lower.lastIndexOf('/') + 1);
  if (name === 'grub.cfg' || name === 'loopback.cfg') return 'grub';
  if (name === 'isolinux.cfg' || name === 'syslinux.cfg') return 'syslinux';
  if (name.endsWith('.cfg') && /(^|\/)(isolinux|syslinux)\//.test(lower)) return 'syslinux';
  return undefined;
}

/** A configuration with its kernel lines patched. */
export interface PatchedConfig {
  /** The new text. */
  readonly text: string;
  /** Kernel lines found (patched or already carrying the parameters). */
  readonly kernelLines: number;
}

const GRUB_LINUX = /^(\s*)(linux|linuxefi|linux16)(\s+)(\S+)(.*)$/;
const SYSLINUX_KERNEL = /^\s*(kernel|linux|com32|config|localboot|boot|bss|pxe|fdimage|comboot)\b\s*(\S*)/i;
const SYSLINUX_APPEND = /^(\s*)(append)(\s+)(.*)$/i;

/**
 * Adds `add` (and removes `remove`) on every kernel line of a boot configuration: GRUB's `linux`,
 * `linuxefi` and `linux16`; syslinux's `append` unless the entry boots a COM32 module (`.c32`),
 * another configuration or a local disk. Parameters go before a standalone `--` or `---`.
 */
export function patchBootConfig(
  text: string,
  kind: BootConfigKind,
  add: readonly KernelParam[],
  remove: ReadonlySet<string>,
): PatchedConfig {
  const lines = text.split('\n');
  let kernelLines = 0;
  let module = false;
  const out = lines.map((line) => {
    const cr = line.endsWith('\r') ? '\r' : '';
    const body = cr ? line.slice(0, -1) : line;
    if (kind === 'grub') {
      const m = GRUB_LINUX.exec(body);
      if (!m) return line;
      kernelLines++;
      const args = patchKernelArgs(m[5] ?? '', add, remove);
      return `${m[1]}${m[2]}${m[3]}${m[4]} ${args}${cr}`;
    }
    if (/^\s*label\b/i.test(body)) module = false;
    const k = SYSLINUX_KERNEL.exec(body);
    if (k) {
      const directive = (k[1] ?? '').toLowerCase();
      module = directive !== 'kernel' && directive !== 'linux' ? true : /\.c32$/i.test(k[2] ?? '');
      return line;
    }
    const a = SYSLINUX_APPEND.exec(body);
    if (!a || module) return line;
    kernelLines++;
    const args = patchKernelArgs(a[4] ?? '', add, remove);
    return `${a[1]}${a[2]}${a[3]}${args}${cr}`;
  });
  return { text: out.join('\n'), kernelLines };
}

/**
 * {@link patchBootConfig} on a file's bytes, byte for byte: the file is read as Latin-1 so bytes
 * that are not UTF-8 survive, and the parameters are written as UTF-8. `bytes` is set when the
 * file changed.
 */
export function patchBootConfigBytes(
  content: Uint8Array,
  kind: BootConfigKind,
  add: readonly KernelParam[],
  remove: ReadonlySet<string>,
): { bytes?: Uint8Array; kernelLines: number } {
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1');
  const binary = add.map((p) => ({ key: p.key, text: Buffer.from(p.text, 'utf8').toString('latin1') }));
  const result = patchBootConfig(text, kind, binary, remove);
  if (result.text === text) return { kernelLines: result.kernelLines };
  return { bytes: new Uint8Array(Buffer.from(result.text, 'latin1')), kernelLines: result.kernelLines };
}
