// Prints the libvirt domain XML vmkit's installer domain gets (buildDomainXml, `lean` as
// installer-domain.ts sets it) for the real Debian installer with the test preseed's kernel line:
// scripts/installer-speed.sh renders it, edits it for one suspect and times it.
// Usage: npx tsx scripts/installer-speed-xml.ts NAME PORT CONSOLE_LOG VOLUME [lean|full]
import { buildDomainXml } from '../packages/provider-libvirt/src/provider/xml/domain-xml.js';
import { debianInstaller } from '../packages/provider-libvirt/test-support/debian-installer.js';

const [name, port, consoleLog, volume, devices] = process.argv.slice(2);
if (!name || !port || !consoleLog || !volume)
  throw new Error('usage: NAME PORT CONSOLE_LOG VOLUME [lean|full]');
const { kernel, initrd } = debianInstaller();
process.stdout.write(
  buildDomainXml({
    name,
    type: 'qemu',
    machine: 'pc',
    arch: 'x86_64',
    memoryMiB: 1024,
    vcpus: 2,
    boot: {
      kind: 'kernel',
      kernel,
      initrd,
      cmdline: `auto=true priority=critical console=ttyS0 url=http://10.0.2.2:${port}/preseed.cfg hw-detect/load_firmware=false`,
    },
    disks: [{ pool: 'vmkit', volume, format: 'qcow2', role: 'disk' }],
    nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:12:34:56', portForwards: [] }],
    qemuCommandLine: true,
    consoleLog,
    lean: devices !== 'full',
  }),
);
