import type { PostInstallStep } from '../model/master-spec.js';
import { embedPostInstallStep } from './post-install-embedding.js';

/** What differs between hypervisors in a post-install script: how the guest reports the run's end. */
export interface PostInstallScriptOptions {
  /** The hypervisor the script is made for, named in its comment line (e.g. `libvirt`). */
  readonly hypervisor: string;
  /**
   * Shell lines run once as the run ends, after the `VMKIT-POST-INSTALL-END` line and before the
   * work folder is removed, the disks synced and the guest powered off (e.g. set a guest property).
   * They see `$1`, the run's exit status (0, or the failed step's), `$2`, the failed step's name
   * (empty when every step succeeded), and `$VMKIT_REPORT`, the file the steps appended their
   * report lines to. None by default: the console markers are the report.
   */
  readonly report?: readonly string[];
}

/**
 * The user data of a post-install boot, the same on every hypervisor: a `#!/bin/sh` script that
 * cloud-init (or a test guest's run mode) runs once as root with `umask 022`. It writes each
 * step's script to a private folder, runs the steps in order from `/` with stdin closed (a step
 * starting with `#!` through its own interpreter, any other with `/bin/sh`, its stderr into its
 * stdout), prints `VMKIT-STEP-BEGIN <name>` and `VMKIT-STEP-END <name> rc=<n>` around each, stops
 * at the first failure, prints `VMKIT-POST-INSTALL-END rc=<n>`, runs the provider's
 * {@link PostInstallScriptOptions.report} lines, syncs and powers the guest off (unless the
 * environment sets `VMKIT_POST_INSTALL_POWEROFF=0`, for a test guest that powers off itself), and
 * exits with the run's status. Steps may append report lines (as the guest clean-up steps do) to
 * the file named by the exported `VMKIT_REPORT`.
 *
 * @param steps The steps, as in `MasterSpec.postInstall`, followed by any of the provider's own.
 * @param options What differs between hypervisors.
 * @throws `INVALID_ARGUMENT` naming `postInstall[<i>].name` for a name outside core's rule
 *   (1-63 of `a-z`, `0-9`, `_`, `-`) or `postInstall[<i>].run` for a script holding NUL bytes.
 */
export function postInstallScript(
  steps: readonly PostInstallStep[],
  options: PostInstallScriptOptions,
): string {
  const out: string[] = [
    '#!/bin/sh',
    `# vmkit post-install on ${options.hypervisor}: ${steps.length} step(s), run once as root; the first failure stops the run.`,
    'umask 022',
    'vmkit_dir=/tmp/vmkit-post-install.$$',
    'rm -rf "$vmkit_dir" && mkdir -m 0700 "$vmkit_dir" || exit 1',
    'VMKIT_REPORT="$vmkit_dir/report"',
    'export VMKIT_REPORT',
    'vmkit_end() {',
    '  echo "VMKIT-POST-INSTALL-END rc=$1"',
    ...(options.report ?? []).map((line) => `  ${line}`),
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
    '  [ "$vmkit_rc" = 0 ] || vmkit_end "$vmkit_rc" "$1"',
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
