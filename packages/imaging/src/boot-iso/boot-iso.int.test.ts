import { createHash, randomBytes } from 'node:crypto';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, run, tempDir } from '../../test-fixtures/tools.js';
import { remasterBootIso } from './remaster-boot-iso.js';

// Real boots: the fixture ISOs (scripts/test.d/30-boot-isos.sh: grub-mkrescue; isolinux + GRUB in
// a FAT EFI image; the same with the EFI image an appended partition) are remastered with a marker parameter and booted under QEMU (TCG) with
// SeaBIOS and with OVMF, as a CD-ROM and as a hard disk. The guest's /init prints /proc/cmdline and
// its own arguments (what followed `--`) on the serial console and powers off.

const FIXTURES = process.env.VMKIT_BOOT_ISO_DIR ?? join(REPO, '.vmkit', 'boot-isos');
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const INIT_ARGS = 'vmkit-init-one vmkit-init-two';
const FIXTURE_NAMES = ['mkrescue', 'isolinux', 'appended'] as const;
type Fixture = (typeof FIXTURE_NAMES)[number];

const marker = `vmkit.bootiso=${randomBytes(4).toString('hex')}`;
const params = `${marker} vmkit.note="two words"`;
let dir: { path: string; remove: () => Promise<void> };
const outputs = new Map<Fixture, string>();

/** At most two QEMU guests at a time (two cores). */
let running = 0;
const waiting: Array<() => void> = [];
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Boots `iso` and returns the serial console output. */
async function boot(iso: string, firmware: 'bios' | 'efi', media: 'cd' | 'disk'): Promise<string> {
  const log = join(dir.path, `${firmware}-${media}-${randomBytes(3).toString('hex')}.log`);
  const args = ['-machine', 'pc,accel=tcg', '-m', '256', '-display', 'none', '-no-reboot', '-nic', 'none'];
  args.push('-monitor', 'none', '-serial', `file:${log}`);
  if (firmware === 'efi') {
    const vars = `${log}.vars`;
    await copyFile(OVMF_VARS, vars);
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`);
    args.push('-drive', `if=pflash,format=raw,file=${vars}`);
  }
  if (media === 'cd') args.push('-drive', `file=${iso},media=cdrom,if=ide,readonly=on`);
  else args.push('-drive', `file=${iso},format=raw,if=ide,snapshot=on`);
  await run('qemu-system-x86_64', args, { timeoutMs: 180_000, allowFailure: true });
  await rm(`${log}.vars`, { force: true });
  return (await readFile(log, 'latin1')).replace(/\r/g, '');
}

function line(output: string, tag: string): string {
  const found = output.split('\n').find((l) => l.startsWith(`${tag} `));
  if (found === undefined) throw new Error(`no ${tag} line on the console:\n${output.slice(-2500)}`);
  return found.slice(tag.length + 1);
}

/** The boot lines of `xorriso -report_el_torito plain`, without sector numbers. */
async function elTorito(iso: string): Promise<string[]> {
  const { stdout } = await run('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('El Torito boot img') || l.startsWith('El Torito img'))
    .map((l) => (l.startsWith('El Torito boot img') ? l.replace(/\s+\d+\s*$/, '') : l));
}

const boots = new Map<string, Promise<string>>();

beforeAll(async () => {
  await run('bash', [join(REPO, 'scripts/test.d/30-boot-isos.sh')], { timeoutMs: 240_000 });
  dir = await tempDir('bootiso');
  for (const name of FIXTURE_NAMES) {
    const output = join(dir.path, `${name}.iso`);
    await remasterBootIso({ source: join(FIXTURES, `${name}.iso`), output, kernelParams: params });
    outputs.set(name, output);
    for (const firmware of ['bios', 'efi'] as const) {
      for (const media of ['cd', 'disk'] as const) {
        const booted = limited(() => boot(output, firmware, media));
        booted.catch(() => undefined);
        boots.set(`${name}-${firmware}-${media}`, booted);
      }
    }
  }
});

afterAll(async () => {
  await Promise.allSettled(boots.values());
  await dir?.remove();
});

describe.each(FIXTURE_NAMES)('remastered %s ISO', (name) => {
  it.each([
    ['bios', 'cd'],
    ['bios', 'disk'],
    ['efi', 'cd'],
    ['efi', 'disk'],
  ] as const)(
    'boots under %s as %s with the marker and init keeps its arguments',
    async (firmware, media) => {
      const output = (await boots.get(`${name}-${firmware}-${media}`)) as string;
      const cmdline = line(output, 'VMKIT-BOOTISO-CMDLINE');
      const [kernelPart = '', initPart] = cmdline.split(' -- ');
      expect(kernelPart.split(' ')).toContain(marker);
      expect(kernelPart).toMatch(/vmkit\.note="two words"|"vmkit\.note=two words"/);
      expect(initPart).toBe(INIT_ARGS);
      expect(line(output, 'VMKIT-BOOTISO-ARGS')).toBe(INIT_ARGS);
      expect(line(output, 'VMKIT-BOOTISO-FIRMWARE')).toBe(firmware);
    },
  );

  it('lists the same El Torito boot entries as the source (xorriso)', async () => {
    const source = await elTorito(join(FIXTURES, `${name}.iso`));
    expect(source.length).toBeGreaterThanOrEqual(4);
    expect(await elTorito(outputs.get(name) as string)).toEqual(source);
  });

  it('carries the marker in the grub.cfg inside the EFI boot image (xorriso, mtools)', async () => {
    const output = outputs.get(name) as string;
    // The appended fixture's EFI image is no file of the tree: xorriso names no path for it.
    const report = (await run('xorriso', ['-indev', output, '-report_el_torito', 'plain'])).stdout;
    const uefi = /^El Torito boot img :\s+(\d+)\s+UEFI/m.exec(report)?.[1];
    expect(uefi).toBeDefined();
    expect(new RegExp(`^El Torito img path :\\s+${uefi}\\s`, 'm').test(report)).toBe(name !== 'appended');
    // xorriso extracts the EFI boot image where the catalogue points; mtools reads the FAT inside.
    const images = join(dir.path, `${name}-boot-images`);
    await run('xorriso', ['-osirrox', 'on', '-indev', output, '-extract_boot_images', `${images}/`]);
    const efi = join(images, `eltorito_img${uefi}_uefi.img`);
    const listing = (await run('mdir', ['-/', '-b', '-i', efi, '::'])).stdout;
    const configs = listing.split('\n').filter((l) => /\/grub\.cfg$/i.test(l.trim()));
    const wanted = `${marker} vmkit.note="two words" -- ${INIT_ARGS}`;
    if (name !== 'mkrescue') {
      expect(configs.length).toBe(1);
      expect((await run('mtype', ['-i', efi, configs[0]?.trim() as string])).stdout).toContain(wanted);
    } else {
      // grub-mkrescue's EFI image holds no grub.cfg: its GRUB reads /boot/grub/grub.cfg of the ISO.
      expect(configs).toEqual([]);
      expect(listing).toMatch(/bootx64\.efi/i);
      expect(await readFile(await extractIsoFile(output, 'boot/grub/grub.cfg'), 'utf8')).toContain(wanted);
    }
  });
});

/** One file of an ISO extracted by xorriso (the independent reader) into the test's folder. */
async function extractIsoFile(iso: string, path: string): Promise<string> {
  const target = join(dir.path, `extracted-${randomBytes(3).toString('hex')}`);
  await run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', `/${path}`, target]);
  return target;
}

describe('checksum lists', () => {
  it('md5sum.txt and sha256sum.txt match the patched files (as xorriso extracts them)', async () => {
    const tree = join(dir.path, 'isolinux-tree');
    await run('xorriso', [
      '-osirrox',
      'on',
      '-indev',
      outputs.get('isolinux') as string,
      '-extract',
      '/',
      tree,
    ]);
    for (const [list, algorithm] of [
      ['md5sum.txt', 'md5'],
      ['sha256sum.txt', 'sha256'],
    ] as const) {
      const lines = (await readFile(join(tree, list), 'utf8')).trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      for (const entry of lines) {
        const [hash, path = ''] = entry.split(/\s+/);
        const data = await readFile(join(tree, path.replace(/^\.\//, '')));
        expect(createHash(algorithm).update(data).digest('hex'), `${list}: ${path}`).toBe(hash);
      }
    }
    // The patched configurations are among the listed files, so the check covers the patch.
    const listed = await readFile(join(tree, 'md5sum.txt'), 'utf8');
    expect(listed).toMatch(/isolinux\/isolinux\.cfg/);
    expect(await readFile(join(tree, 'isolinux', 'isolinux.cfg'), 'utf8')).toContain(marker);
  });
});
