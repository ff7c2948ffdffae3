import type { PostInstallStep } from '@vmkit/core/spi';
import { embedPostInstallStep } from '@vmkit/core/spi';

/**
 * The user-data script of a post-install boot: a `#!/bin/sh` script that cloud-init (or the test
 * guest's run mode) runs once as root. It writes each step's script to a file, runs the steps in
 * order (a step starting with `#!` through its own interpreter, any other with `/bin/sh`), prints
 * `VMKIT-STEP-BEGIN <name>` and `VMKIT-STEP-END <name> rc=<n>` around each, stops at the first
 * failure, prints `VMKIT-POST-INSTALL-END rc=<n>`, syncs and powers the guest off (unless the
 * environment sets `VMKIT_POST_INSTALL_POWEROFF=0`, as the test guest does, powering off itself).
 *
 * @throws `INVALID_ARGUMENT` for a step name outside `[a-z0-9_-]` or a script holding NUL bytes.
 */
export function postInstallScript(steps: readonly PostInstallStep[]): string {
  const out: string[] = [
    '#!/bin/sh',
    `# vmkit post-install: ${steps.length} step(s), run once as root; the first failure stops the run.`,
    'umask 022',
    'vmkit_dir=/tmp/vmkit-post-install.$$',
    'rm -rf "$vmkit_dir" && mkdir -m 0700 "$vmkit_dir" || exit 1',
    'vmkit_end() {',
    '  echo "VMKIT-POST-INSTALL-END rc=$1"',
    '  rm -rf "$vmkit_dir"',
    '  sync',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    '  if [ "${VMKIT_POST_INSTALL_POWEROFF:-1}" != 0 ]; then poweroff || shutdown -h now; fi',
    '  exit "$1"',
    '}',
    'vmkit_step() {',
    '  echo "VMKIT-STEP-BEGIN $1"',
    '  chmod 0700 "$2"',
    '  vmkit_first=',
    '  IFS= read -r vmkit_first <"$2"',
    '  case "$vmkit_first" in',
    `    '#!'*) (cd / && "$2") </dev/null 2>&1 ;;`,
    '    *) (cd / && /bin/sh "$2") </dev/null 2>&1 ;;',
    '  esac',
    '  vmkit_rc=$?',
    '  echo "VMKIT-STEP-END $1 rc=$vmkit_rc"',
    '  [ "$vmkit_rc" = 0 ] || vmkit_end "$vmkit_rc"',
    '}',
  ];
  for (const [i, step] of steps.entries())
    out.push(
      ...embedPostInstallStep(step, i, `"$vmkit_dir/${i}"`),
      `vmkit_step ${step.name} "$vmkit_dir/${i}"`,
    );
  out.push('vmkit_end 0', '');
  return out.join('\n');
}
