import { randomBytes } from 'node:crypto';
import type { BoundSharedFolder, SharedFolderType } from '../model/shared-folder.js';

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The cloud-init boothook that mounts a node's shared folders: run by cloud-init at every boot
 * (so the mounts come back after a reboot or a stop and start), parents before children, each
 * guest path made when missing, read-only ones with `-o ro`. A mount that fails is reported on
 * stderr (the console) and does not stop the boot. cloud-init's own `mounts` module is not used:
 * it drops an fstab entry whose device is a plain tag such as `vmkit0` (no `:` in it).
 */
export function sharedFolderBoothook(folders: readonly BoundSharedFolder[], type: SharedFolderType): string {
  const depth = (p: string) => p.split('/').length;
  const ordered = [...folders].sort((a, b) => depth(a.guestPath) - depth(b.guestPath));
  return [
    '#cloud-boothook',
    '#!/bin/sh',
    '# vmkit: shared folders of this node (sharedFolders), mounted at every boot.',
    'vmkit_share() {',
    '  mountpoint -q "$3" && return 0',
    `  mkdir -p "$3" && mount -t ${type} -o "$2" "$1" "$3" || echo "vmkit: cannot mount shared folder $1 on $3" >&2`,
    '}',
    ...ordered.map((f) => `vmkit_share ${f.tag} ${f.readOnly ? 'ro' : 'rw'} ${quote(f.guestPath)}`),
    '',
  ].join('\n');
}

const GZIP = [0x1f, 0x8b];
const MIME_START = /^(content-type|mime-version):/i;

/**
 * The user data of a node with shared folders: the boothook alone when the template has no user
 * data, else a MIME multipart message (which cloud-init splits) of the template's user data, kept
 * as it is, and the boothook. A MIME message given as user data is nested as it is; other user data
 * travels base64-encoded so no line of it can end the part, typed by cloud-init from its first line
 * (`#cloud-config`, `#!`, …), or as gzip when it is compressed.
 */
export function withSharedFolderMounts(userData: string | Uint8Array | undefined, boothook: string): string {
  if (userData === undefined) return boothook;
  const bytes = typeof userData === 'string' ? Buffer.from(userData) : Buffer.from(userData);
  const boundary = `==vmkit-${randomBytes(12).toString('hex')}==`;
  const text = bytes.toString('utf8');
  let first: string;
  if (typeof userData === 'string' && MIME_START.test(text)) {
    first = text.endsWith('\n') ? text : `${text}\n`;
  } else {
    const gzip = bytes[0] === GZIP[0] && bytes[1] === GZIP[1];
    first = [
      `Content-Type: ${gzip ? 'application/gzip' : 'text/x-not-multipart'}`,
      'Content-Transfer-Encoding: base64',
      '',
      ...(bytes.toString('base64').match(/.{1,76}/g) ?? []),
      '',
    ].join('\n');
  }
  return [
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    'MIME-Version: 1.0',
    '',
    `--${boundary}`,
    first,
    `--${boundary}`,
    'Content-Type: text/cloud-boothook; charset="us-ascii"',
    'Content-Disposition: attachment; filename="vmkit-shared-folders.sh"',
    '',
    boothook,
    `--${boundary}--`,
    '',
  ].join('\n');
}
