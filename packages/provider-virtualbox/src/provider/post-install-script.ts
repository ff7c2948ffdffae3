import type { PostInstallStep } from '@vmkit/core/spi';
import { embedPostInstallStep } from '@vmkit/core/spi';

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
  for (const [i, step] of steps.entries())
    out.push(
      ...embedPostInstallStep(step, i, `"$vmkit_dir/${i}"`),
      `(cd / && /bin/sh "$vmkit_dir/${i}") </dev/null || vmkit_end failed:${step.name}`,
    );
  out.push('vmkit_end ok', '');
  return out.join('\n');
}
