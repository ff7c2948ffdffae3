import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MasterSpec } from '@vmkit/core';
import type { VboxTestEnv } from '../../provider-virtualbox/test-support/vbox-env.js';

/**
 * A project folder (`<env folder>/project`) whose vmkit.config.json uses the environment's
 * VirtualBox (the simulator) with `images`, a `store` and `leases` folder inside. The connection
 * comes from the environment variables returned, as a CI job would give it (the password never
 * in the file); options the command line does not list (pollIntervalMs, stopGraceMs...) are in
 * the file and reach the provider.
 */
export async function vboxProject(
  env: VboxTestEnv,
  images: readonly MasterSpec[],
): Promise<{ dir: string; vars: NodeJS.ProcessEnv }> {
  const dir = join(env.folder, 'project');
  await mkdir(dir);
  const { url, password, ...provider } = env.options();
  await writeFile(
    join(dir, 'vmkit.config.json'),
    JSON.stringify({
      provider: { type: 'virtualbox', ...provider },
      store: { dir: 'store' },
      ports: { leaseDir: 'leases' },
      images,
    }),
  );
  return { dir, vars: { HOME: env.folder, VMKIT_URI: url, VMKIT_VBOX_PASSWORD: password } };
}
