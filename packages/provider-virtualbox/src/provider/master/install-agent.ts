import { stat } from 'node:fs/promises';
import type { MasterSpec } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import type { VboxContext } from '../virtualbox-context.js';
import type { VboxBuildContext } from './build-state.js';
import { bootMasterOnce } from './master-boot-once.js';

/** The guest property the install script reports in: `ok`, `skipped:<why>` or `failed:<why>`. */
export const INSTALL_AGENT_PROPERTY = '/vmkit/install-agent';

/** OS families the Linux installer of the Guest Additions (`VBoxLinuxAdditions.run`) does not run on. */
const NOT_LINUX = /^(windows|freebsd|openbsd|netbsd|dragonfly|solaris|illumos|darwin|macos|os2)$/i;

/**
 * The user data that installs the Guest Additions in a Linux guest from the host's ISO, attached
 * as a DVD: it finds `VBoxLinuxAdditions.run` (a desktop's automount under `/media`, else by
 * mounting the CD), installs the build tools with the guest's package manager (apt-get, dnf, yum
 * or zypper), runs the installer without X11 parts, and powers off. It reports in
 * {@link INSTALL_AGENT_PROPERTY} through `VBoxControl` when that exists (Guest Additions there
 * already, or just installed): a guest with Guest Additions running (`VBoxService`) skips, one
 * without a package manager skips, saying so.
 */
export function installAgentScript(): string {
  return [
    '#!/bin/sh',
    '# vmkit install-agent: VirtualBox Guest Additions from the host ISO, then power off.',
    `P=${INSTALL_AGENT_PROPERTY}`,
    'report() { if command -v VBoxControl >/dev/null 2>&1; then VBoxControl --nologo guestproperty set "$P" "$1"; fi; }',
    'finish() { report "$1"; sync; poweroff; exit 0; }',
    "command -v VBoxService >/dev/null 2>&1 && finish 'skipped:the Guest Additions are installed in the guest already'",
    'if command -v apt-get >/dev/null 2>&1; then',
    '  export DEBIAN_FRONTEND=noninteractive',
    '  PM=apt-get; TOOLS() { apt-get update && apt-get install -y build-essential dkms bzip2 "linux-headers-$(uname -r)"; }',
    'elif command -v dnf >/dev/null 2>&1; then',
    '  PM=dnf; TOOLS() { dnf install -y gcc make perl bzip2 tar elfutils-libelf-devel "kernel-devel-$(uname -r)"; }',
    'elif command -v yum >/dev/null 2>&1; then',
    '  PM=yum; TOOLS() { yum install -y gcc make perl bzip2 tar elfutils-libelf-devel "kernel-devel-$(uname -r)"; }',
    'elif command -v zypper >/dev/null 2>&1; then',
    '  PM=zypper; TOOLS() { zypper --non-interactive install gcc make perl bzip2 kernel-default-devel; }',
    'else',
    "  finish 'skipped:the guest has no package manager (apt-get, dnf, yum or zypper) to install the build tools with'",
    'fi',
    'GA=',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'for f in /media/*/VBoxLinuxAdditions.run /run/media/*/*/VBoxLinuxAdditions.run; do [ -f "$f" ] && GA=${f%/*} && break; done',
    'if [ -z "$GA" ]; then',
    '  mkdir -p /mnt/vmkit-ga',
    '  for d in /dev/disk/by-label/VBox_GAs* /dev/sr0 /dev/sr1 /dev/sr2 /dev/cdrom; do',
    '    [ -e "$d" ] || continue',
    '    if mount -o ro "$d" /mnt/vmkit-ga 2>/dev/null; then',
    '      [ -f /mnt/vmkit-ga/VBoxLinuxAdditions.run ] && GA=/mnt/vmkit-ga && break',
    '      umount /mnt/vmkit-ga',
    '    fi',
    '  done',
    'fi',
    '[ -n "$GA" ] || finish \'failed:the Guest Additions CD was not found in the guest\'',
    'TOOLS || finish "failed:installing the build tools with $PM"',
    'sh "$GA/VBoxLinuxAdditions.run" --nox11',
    'rc=$?',
    '[ "$GA" = /mnt/vmkit-ga ] && umount /mnt/vmkit-ga',
    '# 2: installed, the kernel modules load at the next boot.',
    'if [ "$rc" = 0 ] || [ "$rc" = 2 ]; then finish ok; else finish "failed:VBoxLinuxAdditions.run exited $rc"; fi',
    '',
  ].join('\n');
}

/**
 * `install-agent`: the Guest Additions (Guest Control, guest properties) installed in the master
 * from the host's ISO (`ISystemProperties.defaultAdditionsISO`) by one boot with the install
 * script as user data (see {@link installAgentScript}). Skipped, with the reason, when the host
 * has no such ISO, the OS family is not Linux, or the guest says so (no package manager, Guest
 * Additions there already); a guest that could not report (no Guest Additions to report with
 * before or after) is reported skipped as such. A failure the guest reports fails the build.
 */
export async function installAgent(
  ctx: VboxContext,
  c: VboxBuildContext,
  spec: MasterSpec,
  machineName: string,
): Promise<void> {
  if (NOT_LINUX.test(spec.os.family))
    return c.markSkipped(
      `the Guest Additions installer vmkit runs is for Linux guests (os.family '${spec.os.family}')`,
    );
  const iso = await ctx.conn.run(
    'reading the host Guest Additions ISO',
    async (api) => String((await (await api.vbox.getSystemProperties()).getDefaultAdditionsISO()) ?? ''),
    true,
    c.signal,
  );
  const isFile =
    iso !== '' &&
    (await stat(iso).then(
      (s) => s.isFile(),
      () => false,
    ));
  if (!isFile)
    return c.markSkipped(
      iso === ''
        ? 'the VirtualBox host has no Guest Additions ISO (ISystemProperties.defaultAdditionsISO is empty)'
        : `the host Guest Additions ISO ${iso} is not a file vmkit can read`,
    );
  const [status = ''] = await bootMasterOnce(ctx, c, machineName, {
    what: 'Guest Additions install boot',
    purpose: 'install-agent',
    instanceId: `vmkit-install-agent-${c.masterName}`,
    userData: installAgentScript(),
    extraDvd: iso,
    properties: [INSTALL_AGENT_PROPERTY],
  });
  if (status === 'ok') return c.progress(1, 'Guest Additions installed');
  if (status.startsWith('skipped:')) return c.markSkipped(status.slice('skipped:'.length));
  if (status.startsWith('failed:'))
    throw new VmkitError(
      'PROVIDER',
      `install-agent: installing the Guest Additions in master ${c.masterName} failed: ${status.slice('failed:'.length)}`,
    );
  c.markSkipped(
    'the guest reported nothing (it has no Guest Additions to report with): it had no package manager or the installer failed early; Guest Additions are not known to be installed',
  );
}
