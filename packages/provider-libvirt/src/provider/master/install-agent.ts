import type { BuildContext, MasterSpec, PostInstallStep } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import type { BuildState } from './build-state.js';
import { runPostInstall } from './master-post-install.js';

/** OS families (`MasterSpec.os.family`) whose guests have a package manager that ships `qemu-guest-agent`. */
export const AGENT_PACKAGE_FAMILIES: ReadonlySet<string> = new Set([
  'debian',
  'ubuntu',
  'fedora',
  'centos',
  'rhel',
  'rocky',
  'almalinux',
]);

/** The name of the guest step that installs the agent (its markers on the console). */
const STEP_NAME = 'vmkit-install-agent';

/**
 * The guest script of `install-agent`: installs the distribution's `qemu-guest-agent` package
 * with the package manager the guest has (apt from the image's own package lists and cache
 * first, then after `apt-get update`; or dnf) and enables its service. It prints
 * `VMKIT-AGENT installed|present` or, when the guest has no package manager it knows,
 * `VMKIT-AGENT-SKIPPED <reason>` and succeeds.
 */
export const INSTALL_AGENT_SCRIPT = `#!/bin/sh
if command -v qemu-ga >/dev/null 2>&1 || [ -x /usr/sbin/qemu-ga ] || [ -x /usr/bin/qemu-ga ]; then
  echo "VMKIT-AGENT present"
elif command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-download --no-install-recommends qemu-guest-agent; then
    apt-get update -q || exit 1
    apt-get install -y -q --no-install-recommends qemu-guest-agent || exit 1
  fi
  echo "VMKIT-AGENT installed"
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y -q qemu-guest-agent || exit 1
  echo "VMKIT-AGENT installed"
else
  echo "VMKIT-AGENT-SKIPPED the guest has no apt-get or dnf"
  exit 0
fi
# Debian's unit is started by udev when the channel appears (it has no [Install] section);
# others are enabled for the next boots.
if command -v systemctl >/dev/null 2>&1; then systemctl enable qemu-guest-agent 2>/dev/null || true; fi
`;

/** The step as the post-install boot runs it. */
export const INSTALL_AGENT_STEP: PostInstallStep = Object.freeze({
  name: STEP_NAME,
  run: INSTALL_AGENT_SCRIPT,
});

/**
 * Why `install-agent` has nothing to do for a spec on this driver, or `undefined` when it boots
 * the master to install the agent.
 */
export function installAgentSkipReason(ctx: LibvirtContext, spec: MasterSpec): string | undefined {
  if (!ctx.realGuests) return `libvirt's ${ctx.domainType} driver runs no guest`;
  if (spec.source.type === 'bootIso') return 'a bootIso master is a live ISO; it has no disk to install on';
  const family = spec.os.family.toLowerCase();
  if (!AGENT_PACKAGE_FAMILIES.has(family))
    return (
      `the OS family ${spec.os.family} names no distribution whose package manager vmkit knows ` +
      `(${[...AGENT_PACKAGE_FAMILIES].join(', ')}): install qemu-guest-agent in the image or with postInstall`
    );
  return undefined;
}

/** What the guest printed about the agent: installed (or already there), or skipped with its reason. */
export function readInstallAgentConsole(text: string): { skipped?: string } {
  const skipped = /VMKIT-AGENT-SKIPPED (.+?)\s*$/m.exec(text)?.[1];
  if (skipped !== undefined) return { skipped };
  if (/VMKIT-AGENT (installed|present)\b/.test(text)) return {};
  throw new VmkitError(
    'PROVIDER',
    'install-agent: the guest reported neither an installed nor a skipped agent',
  );
}

/**
 * The `install-agent` step: for a master whose OS family has a package manager vmkit knows, boots
 * the master once (as `post-install` does) to install and enable `qemu-guest-agent`; reports
 * skipped with the reason otherwise, or when the guest itself has no package manager.
 */
export async function installAgent(
  ctx: LibvirtContext,
  c: BuildContext<BuildState>,
  spec: MasterSpec,
): Promise<void> {
  const reason = installAgentSkipReason(ctx, spec);
  if (reason !== undefined) {
    c.markSkipped(reason);
    return;
  }
  if (!c.state.data) throw new VmkitError('PROVIDER', `master ${c.masterName} was not created`);
  const { console } = await runPostInstall(ctx, c, c.state.data, [INSTALL_AGENT_STEP], { cleanup: false });
  const { skipped } = readInstallAgentConsole(console);
  if (skipped !== undefined) c.markSkipped(skipped);
}
