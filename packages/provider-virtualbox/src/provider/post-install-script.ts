import { randomBytes } from 'node:crypto';
import type { PostInstallStep } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';

const STEP_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The guest property the post-install script sets (with guest additions): `ok` or `failed:<step>`. */
export const POST_INSTALL_PROPERTY = '/vmkit/post-install';

/**
 * The user data of a master's post-install boot: a `#!/bin/sh` script cloud-init runs once as
 * root. It runs the steps in order (each written to a file, run with `/bin/sh` from `/`), stops at
 * the first failure, reports `ok` or `failed:<step>` in the guest property
 * {@link POST_INSTALL_PROPERTY} when `VBoxControl` (guest additions) is there, syncs and powers off.
 *
 * @throws `INVALID_ARGUMENT` for a step name outside `[a-z0-9_-]` or a script holding NUL bytes.
 */
export function postInstallScript(steps: readonly PostInstallStep[]): string {
  const out = [
    '#!/bin/sh',
    `# vmkit post-install on VirtualBox: ${steps.length} step(s), run once as root.`,
    'vmkit_dir=/tmp/vmkit-post-install.$$',
    'rm -rf "$vmkit_dir" && mkdir -m 0700 "$vmkit_dir" || exit 1',
    'vmkit_end() {',
    `  command -v VBoxControl >/dev/null 2>&1 && VBoxControl --nologo guestproperty set ${POST_INSTALL_PROPERTY} "$1"`,
    '  rm -rf "$vmkit_dir"',
    '  sync',
    '  poweroff || shutdown -h now',
    '  exit 0',
    '}',
  ];
  for (const [i, step] of steps.entries()) {
    if (!STEP_NAME.test(step.name))
      throw invalidArgument(`postInstall[${i}].name`, 'must be 1-63 of a-z, 0-9, _ and -');
    if (step.run.includes('\0')) throw invalidArgument(`postInstall[${i}].run`, 'must not contain NUL bytes');
    const body = step.run.endsWith('\n') || step.run === '' ? step.run : `${step.run}\n`;
    let eof = `VMKIT_EOF_${randomBytes(6).toString('hex')}`;
    while (body.includes(eof)) eof = `VMKIT_EOF_${randomBytes(6).toString('hex')}`;
    out.push(
      `cat >"$vmkit_dir/${i}" <<'${eof}'`,
      `${body}${eof}`,
      `(cd / && /bin/sh "$vmkit_dir/${i}") </dev/null || vmkit_end failed:${step.name}`,
    );
  }
  out.push('vmkit_end ok', '');
  return out.join('\n');
}
