import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
const guest = '/work/wt-warm/.vmkit/test-guest';
const prefix = `vp${Date.now().toString(36).slice(-5)}-`;
const dir = await mkdtemp(join(tmpdir(), 'vmkit-probe-'));
const compute = await createComputeService({
  provider: libvirtProvider({ uri: 'qemu:///system', namePrefix: prefix }),
  store: fileSystemBlobStore({ root: join(dir, 'store') }),
  images: [{ id: 'p', os: { family: 'linux', version: 't', arch: 'x86_64' }, source: { type: 'kernel', kernel: join(guest, 'vmlinuz'), initrd: join(guest, 'initrd.img'), cmdline: 'console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vda' }, hardware: { cores: 1, ramMiB: 256, diskGiB: 1 }, warm: { until: { http: '/' } } }],
  ports: { leaseDir: join(dir, 'leases') },
});
const t0 = performance.now();
const log = (e: { message: string }) => console.log(((performance.now() - t0) / 1000).toFixed(2), e.message);
try {
  await compute.ensureImage('p');
  for (const n of [1, 1, 4]) {
    const s = performance.now();
    const nodes = await compute.createNodesInGroup('probe', n, { inboundPorts: [80] }, { warm: true, onProgress: log });
    console.log('created', n, ((performance.now() - s) / 1000).toFixed(2), nodes.map((x) => JSON.stringify(x.warm)));
    for (const x of nodes) {
      for (;;) { try { const r = await fetch(`http://127.0.0.1:${x.hostPorts['tcp-80']}/`, { signal: AbortSignal.timeout(500) }); if (r.ok) { console.log('answer', x.name, ((performance.now() - s) / 1000).toFixed(2), (await r.text()).trim()); break; } } catch {} await new Promise((r) => setTimeout(r, 25)); }
    }
    await compute.destroyNodesMatching((x) => x.group === 'probe');
  }
} finally {
  await compute.deleteImage('p').catch((e) => console.log(e));
  await compute.close();
}
