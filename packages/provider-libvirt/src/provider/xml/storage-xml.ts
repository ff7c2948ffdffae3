import { xmlEscape } from './xml-text.js';

/** XML of a directory storage pool. */
export function dirPoolXml(name: string, path: string): string {
  return `<pool type='dir'><name>${xmlEscape(name)}</name><target><path>${xmlEscape(path)}</path></target></pool>`;
}

/**
 * Mode of every volume vmkit makes: its owner's only. Volumes hold user data (config drives with
 * user data and keys, post-install scripts, guest disks); libvirt applies the mode when it
 * creates the file (QEMU, running as the daemon's user or labelled its owner, still opens it).
 */
export const VOLUME_MODE = '0600';

/** XML of a new volume, mode {@link VOLUME_MODE}; with `backing`, a copy-on-write overlay over that path. */
export function volumeXml(opts: {
  name: string;
  capacityBytes: number;
  format: 'qcow2' | 'raw';
  backing?: { path: string; format: 'qcow2' | 'raw' };
}): string {
  const backing = opts.backing
    ? `<backingStore><path>${xmlEscape(opts.backing.path)}</path><format type='${opts.backing.format}'/></backingStore>`
    : '';
  return (
    `<volume><name>${xmlEscape(opts.name)}</name><capacity unit='bytes'>${opts.capacityBytes}</capacity>` +
    `<target><format type='${opts.format}'/><permissions><mode>${VOLUME_MODE}</mode></permissions></target>` +
    `${backing}</volume>`
  );
}
