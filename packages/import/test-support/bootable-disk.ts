// Makes the test guest's master disk bootable from disk (the guest itself boots by direct kernel
// boot): an MBR disk whose first partition is FAT with SYSLINUX, the kernel and the initrd, and
// whose second partition is the master's ext4 root. Built without mounting anything: sfdisk,
// mkfs.fat --offset, syslinux --offset, mtools, dd.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const SECTOR = 512;
const BOOT_START = 2048;
const BOOT_SECTORS = 64 * 2048; // 64 MiB

/** Writes `out` (raw) from the master's qcow2, booting `vmkit.mode=run` with root on partition 2. */
export async function bootableDisk(
  master: string,
  guest: { kernel: string; initrd: string },
  out: string,
  work: string,
): Promise<void> {
  const root = join(work, 'root.raw');
  await exec('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', master, root]);
  const { stdout } = await exec('qemu-img', ['info', '--output=json', '-f', 'raw', root]);
  const rootSectors = Math.ceil(JSON.parse(stdout)['virtual-size'] / SECTOR);
  const rootStart = BOOT_START + BOOT_SECTORS;
  await exec('truncate', ['-s', String((rootStart + rootSectors) * SECTOR), out]);
  const table = `label: dos\nstart=${BOOT_START}, size=${BOOT_SECTORS}, type=6, bootable\nstart=${rootStart}, size=${rootSectors}, type=83\n`;
  const script = join(work, 'table.sfdisk');
  await writeFile(script, table);
  await exec('bash', ['-c', `sfdisk --no-reread --no-tell-kernel "${out}" < "${script}"`]);
  await exec('mkfs.fat', [
    '-F',
    '16',
    '-n',
    'VMKITBOOT',
    '--offset',
    String(BOOT_START),
    out,
    String(BOOT_SECTORS / 2),
  ]);
  await exec('syslinux', ['--offset', String(BOOT_START * SECTOR), '--install', out]);
  const cfg = join(work, 'syslinux.cfg');
  await writeFile(
    cfg,
    'DEFAULT run\nPROMPT 0\nTIMEOUT 0\nLABEL run\n  KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND console=ttyS0 panic=-1 vmkit.mode=run root=/dev/vda2\n',
  );
  const image = `${out}@@${BOOT_START * SECTOR}`;
  await exec('mcopy', ['-i', image, guest.kernel, '::vmlinuz']);
  await exec('mcopy', ['-i', image, guest.initrd, '::initrd.img']);
  await exec('mcopy', ['-i', image, cfg, '::syslinux.cfg']);
  await exec('dd', [
    `if=${root}`,
    `of=${out}`,
    `bs=1M`,
    `seek=${(rootStart * SECTOR) / (1 << 20)}`,
    'conv=notrunc,sparse',
    'status=none',
  ]);
  await exec('dd', [
    'if=/usr/lib/syslinux/mbr/mbr.bin',
    `of=${out}`,
    'bs=440',
    'count=1',
    'conv=notrunc',
    'status=none',
  ]);
}
