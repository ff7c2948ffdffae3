import type { ImportedHardware } from '../task-model.js';

/** Largest memory (MiB) and CPU count taken from a Vagrantfile; larger figures are ignored. */
const MAX_RAM_MIB = 1024 * 1024;
const MAX_CPUS = 256;

/**
 * Reads the memory and CPU defaults of a box's `Vagrantfile` without running it: only simple
 * lines `<name>.memory = N` and `<name>.cpus = N` (as `v.memory = 1024` or `libvirt.cpus = 2`, a
 * trailing comment allowed) count; anything else, including Ruby that computes a value, is
 * ignored. The last such line of each wins, as it would in Ruby.
 */
export function vagrantfileHardware(text: string): ImportedHardware {
  const hardware: { cores?: number; ramMiB?: number } = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*[a-z_][a-z0-9_]*\.(memory|cpus)\s*=\s*(\d{1,7})\s*(?:#.*)?$/.exec(line);
    if (!m) continue;
    const n = Number(m[2]);
    if (n < 1) continue;
    if (m[1] === 'memory' && n <= MAX_RAM_MIB) hardware.ramMiB = n;
    if (m[1] === 'cpus' && n <= MAX_CPUS) hardware.cores = n;
  }
  return hardware;
}

/** The `Vagrantfile` vmkit puts in a box: the provider's memory and CPUs, when known. */
export function boxVagrantfile(provider: 'libvirt' | 'virtualbox', hardware: ImportedHardware = {}): string {
  const lines = ['Vagrant.configure("2") do |config|'];
  lines.push(`  config.vm.provider :${provider} do |v|`);
  if (hardware.ramMiB) lines.push(`    v.memory = ${hardware.ramMiB}`);
  if (hardware.cores) lines.push(`    v.cpus = ${hardware.cores}`);
  lines.push('  end', 'end', '');
  return lines.join('\n');
}
