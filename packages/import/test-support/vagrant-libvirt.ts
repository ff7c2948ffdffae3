// vagrant-libvirt set-ups for tests and the bench: a free management subnet and the Vagrantfile.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A `10.x.y.0/24` that no route of this host names, for vagrant-libvirt's management network. */
export async function freeSubnet(): Promise<string> {
  const routes = (await exec('ip', ['-4', 'route'])).stdout;
  for (let tries = 0; tries < 200; tries++) {
    const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
    if (!routes.includes(`${net}.`)) return `${net}.0/24`;
  }
  throw new Error('no free 10.x.y.0/24');
}

/**
 * A Vagrantfile of `machines` machines (one unnamed when 1) of `box` on vagrant-libvirt, driver
 * qemu, `memoryMiB` (default 256) and 1 CPU each, their domains and volumes named with `prefix`, on a management
 * network of their own on a free subnet; no synced folder.
 */
export async function libvirtVagrantfile(o: {
  box: string;
  uri: string;
  pool: string;
  prefix: string;
  network: string;
  machines?: number;
  memoryMiB?: number;
}): Promise<string> {
  const machines = o.machines ?? 1;
  return `Vagrant.configure("2") do |config|
  config.vm.box = "${o.box}"
  config.vm.synced_folder ".", "/vagrant", disabled: true
  config.vm.boot_timeout = 600
  config.vm.provider :libvirt do |v|
    v.driver = "qemu"
    v.uri = "${o.uri}"
    v.storage_pool_name = "${o.pool}"
    v.default_prefix = "${o.prefix}"
    v.management_network_name = "${o.network}"
    v.management_network_address = "${await freeSubnet()}"
    v.memory = ${o.memoryMiB ?? 256}
    v.cpus = 1
  end
${machines > 1 ? `  (1..${machines}).each { |i| config.vm.define "m#{i}" }\n` : ''}end
`;
}
