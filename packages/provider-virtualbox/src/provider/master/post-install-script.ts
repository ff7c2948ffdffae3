import type { PostInstallStep } from '@vmkit/core/spi';
import { postInstallScript as neutralPostInstallScript } from '@vmkit/core/spi';

/** The guest property the post-install script sets (with guest additions): `ok` or `failed:<step>`. */
export const POST_INSTALL_PROPERTY = '/vmkit/post-install';

/**
 * The guest property the post-install script sets (with guest additions) to what its steps
 * appended to `$VMKIT_REPORT` (the guest clean-up's `VMKIT-CLEANED` lines), whole lines up to
 * 1000 bytes (VirtualBox keeps values up to 1024), before it sets {@link POST_INSTALL_PROPERTY};
 * not set when the steps reported nothing.
 */
export const POST_INSTALL_REPORT_PROPERTY = '/vmkit/post-install-report';

/** The report: through `VBoxControl` when guest additions are there (a VirtualBox guest has no console to read). */
const REPORT = [
  'if command -v VBoxControl >/dev/null 2>&1; then',
  `  [ ! -s "$VMKIT_REPORT" ] || VBoxControl --nologo guestproperty set ${POST_INSTALL_REPORT_PROPERTY} "$(awk '{ n += length($0) + 1 } n <= 1000' "$VMKIT_REPORT")"`,
  `  if [ "$1" = 0 ]; then VBoxControl --nologo guestproperty set ${POST_INSTALL_PROPERTY} ok; else VBoxControl --nologo guestproperty set ${POST_INSTALL_PROPERTY} "failed:$2"; fi`,
  'fi',
];

/**
 * The user data of a master's post-install boot on VirtualBox: core's post-install script (see
 * `postInstallScript` in `@vmkit/core/spi`: steps in order, the first failure stops the run, sync
 * and power-off) reporting through guest properties: the steps' report in
 * {@link POST_INSTALL_REPORT_PROPERTY}, then `ok` or `failed:<step>` in {@link POST_INSTALL_PROPERTY},
 * when `VBoxControl` (guest additions) is there.
 *
 * @throws `INVALID_ARGUMENT` for a step name outside `[a-z0-9_-]` or a script holding NUL bytes.
 */
export function postInstallScript(steps: readonly PostInstallStep[]): string {
  return neutralPostInstallScript(steps, { hypervisor: 'VirtualBox', report: REPORT });
}
