// The provider check at start-up on real libvirt: mastersExist for 10,000 masters, which lists
// the pool once above 16 masters, side by side with a lookup per master (what it did before:
// the same calls in batches of 16, all in flight at once).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterRef } from '@vmkit/core/spi';
import { LibvirtClient, libvirtProvider } from '@vmkit/provider-libvirt';
import type { BenchReport } from './lib/report.js';
import { medianMs } from './lib/report.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const COUNT = 10_000;

export default async function mastersExistBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/test.d/20-libvirtd.sh')], { stdio: 'inherit' });
  report.section(
    `libvirt: the start-up provider check, mastersExist of ${COUNT.toLocaleString('en')} masters`,
  );
  // Read only: lookups of names no one uses, in vmkit's own pool (created if missing).
  const provider = libvirtProvider({ uri: URI });
  const client = await LibvirtClient.connect(URI);
  try {
    await provider.init();
    const tag = `startupbench-${Date.now().toString(36)}`;
    const refs: MasterRef[] = Array.from({ length: COUNT }, (_, i) => ({ id: `${tag}-${i}` }));
    let found = -1;
    const check = await medianMs(3, async () => {
      found = (await provider.mastersExist(refs)).filter(Boolean).length;
    });
    if (found !== 0) throw new Error(`${found} of the made-up masters exist`);
    const lookups = await medianMs(3, async () => {
      const batches = Array.from({ length: COUNT / 16 }, (_, i) => refs.slice(i * 16, i * 16 + 16));
      found = (await Promise.all(batches.map((b) => provider.mastersExist(b)))).flat().filter(Boolean).length;
    });
    if (found !== 0) throw new Error(`${found} of the made-up masters exist`);
    const pool = await client.storage.poolLookupByName('vmkit');
    const volumes = (await client.storage.poolListAllVolumes(pool)).length;
    report.compare(
      `mastersExist of ${COUNT} masters, pool of ${volumes} volumes (median of 3)`,
      { name: 'one pool listing (now)', ms: check },
      { name: 'a lookup per master (before)', ms: lookups },
    );
  } finally {
    await provider.close();
    await client.close();
  }
}
