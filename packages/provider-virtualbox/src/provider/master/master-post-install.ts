import type { MasterSpec } from '@vmkit/core/spi';
import { GUEST_CLEANUP_STEPS, type GuestCleanupOutcome, readGuestCleanup, VmkitError } from '@vmkit/core/spi';
import type { VboxContext } from '../virtualbox-context.js';
import type { VboxBuildContext } from './build-state.js';
import { bootMasterOnce } from './master-boot-once.js';
import {
  POST_INSTALL_PROPERTY,
  POST_INSTALL_REPORT_PROPERTY,
  postInstallScript,
} from './post-install-script.js';

/**
 * Boots the master once with a NoCloud drive whose user data runs the spec's post-install steps
 * and then the guest clean-up of {@link GUEST_CLEANUP_STEPS} (see {@link postInstallScript}) and
 * powers off; a step reported as failed (guest additions set the property) fails the build. The
 * drive is detached and deleted whatever happens. Returns what the clean-up removed, as the guest
 * reported it (`'unreported'` without guest additions; `undefined` when there was no boot: the
 * spec has no steps). `cleanupAlone` boots even without steps, for the clean-up alone (sealing an
 * image made from a node).
 */
export async function runPostInstall(
  ctx: VboxContext,
  c: VboxBuildContext,
  spec: MasterSpec,
  machineName: string,
  options: { readonly cleanupAlone?: boolean } = {},
): Promise<GuestCleanupOutcome> {
  const steps = spec.postInstall ?? [];
  if (steps.length === 0 && options.cleanupAlone !== true) {
    c.markSkipped('the spec has no post-install steps');
    return undefined;
  }
  const script = postInstallScript([
    ...steps,
    ...GUEST_CLEANUP_STEPS.map(({ name, run }) => ({ name, run })),
  ]);
  const [status = '', report = ''] = await bootMasterOnce(ctx, c, machineName, {
    what: 'post-install boot',
    purpose: 'post-install',
    instanceId: `vmkit-post-install-${c.masterName}`,
    userData: script,
    properties: [POST_INSTALL_PROPERTY, POST_INSTALL_REPORT_PROPERTY],
  });
  if (status.startsWith('failed:'))
    throw new VmkitError(
      'PROVIDER',
      `post-install step ${status.slice('failed:'.length)} failed in master ${c.masterName}`,
    );
  // Without guest additions the guest reported nothing: the clean-up ran, what it removed is unknown.
  const cleanup: GuestCleanupOutcome = status === '' ? 'unreported' : readGuestCleanup(report);
  c.progress(1, `post-install: ${steps.length} step(s) ran`);
  return cleanup;
}
