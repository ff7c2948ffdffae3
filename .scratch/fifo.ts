import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
const guest = '/work/wt-warm/.vmkit/test-guest';
const prefix = `vf${Date.now().toString(36).slice(-5)}-`;
const dir = await mkdtemp(join(tmpdir(), 'vmkit-probe-'));
const compute = await createComputeService({
  provider: libvirtProvider({ uri: 'qemu:///system', namePrefix: prefix }),
  store: fileSystemBlobStore({ root: join(dir, 'store') }),
  images: [{ id: 'p', os: { family: 'linux', version: 't', arch: 'x86_64' }, source: { type: 'kernel', kernel: join(guest, 'vmlinuz'), initrd: join(guest, 'initrd.img'), cmdline: 'console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vda' }, hardware: { cores: 1, ramMiB: 256, diskGiB: 1 }, warm: { until: { http: '/' } } }],
  ports: { leaseDir: join(dir, 'leases') },
});
try {
  const nodes = await compute.createNodesInGroup('probe', 1, { inboundPorts: [80] }, { warm: true });
  await compute.destroyNodesMatching((x) => x.group === 'probe');
  const pool = '/var/lib/libvirt/vmkit';
  const state = execFileSync('sh', ['-c', `ls ${pool}/${prefix}*.state`]).toString().trim();
  const fifo = join(pool, `${prefix}fifo.state`);
  execFileSync('mkfifo', [fifo]);
  const cat = spawn('sh', ['-c', `cat ${state} > ${fifo}`], { stdio: 'inherit' });
  const t = performance.now();
  try {
    console.log(execFileSync('virsh', ['-c', 'qemu:///system', 'restore', fifo]).toString(), (performance.now() - t).toFixed(0), 'ms');
  } catch (e) { console.log('restore failed', String(e)); cat.kill(); }
  execFileSync('sh', ['-c', `rm -f ${fifo}; for d in $(virsh -c qemu:///system list --all --name | grep ^${prefix}); do virsh -c qemu:///system destroy $d; virsh -c qemu:///system undefine $d; done; true`], { stdio: 'inherit' });
} finally {
  await compute.deleteImage('p').catch((e) => console.log(e));
  await compute.close();
}
