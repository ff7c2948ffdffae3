import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGuestMasterSpec } from '../../provider-libvirt/test-support/test-guest.js';

/** The libvirt URI and pool the CLI's integration tests use. */
export const LIBVIRT_URI = 'qemu:///system';
export const LIBVIRT_POOL = 'vmkit';

/**
 * A new temporary project folder (named `vmkit-cli-<tag>-…`) whose vmkit.config.json uses libvirt
 * with the run's name `prefix`, a `store` and `leases` folder inside, and the test guest as image
 * `tiny`. Returns the folder; the caller removes it (and sweeps `prefix`).
 */
export function libvirtProject(tag: string, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vmkit-cli-${tag}-`));
  writeFileSync(
    join(dir, 'vmkit.config.json'),
    JSON.stringify({
      provider: { uri: LIBVIRT_URI, pool: LIBVIRT_POOL, namePrefix: prefix },
      store: { dir: 'store' },
      ports: { leaseDir: 'leases' },
      images: [testGuestMasterSpec('tiny')],
    }),
  );
  return dir;
}
