// Builders of crafted image headers for the inspector's unit tests (not shipped: see tsconfig).
export function bytes(size: number): { buf: Uint8Array; dv: DataView; text(at: number, s: string): void } {
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  return { buf, dv, text: (at, s) => buf.set(Buffer.from(s, 'latin1'), at) };
}

/** A version 3 qcow2 header of 64 KiB clusters and `size` bytes. */
export function qcow2(
  size: bigint,
  opts: { backing?: string; incompatible?: bigint; fileSize?: number } = {},
) {
  const b = bytes(opts.fileSize ?? 196_608);
  b.dv.setUint32(0, 0x514649fb);
  b.dv.setUint32(4, 3);
  b.dv.setUint32(20, 16);
  b.dv.setBigUint64(24, size);
  b.dv.setBigUint64(72, opts.incompatible ?? 0n);
  b.dv.setUint32(100, 104);
  if (opts.backing) {
    b.dv.setBigUint64(8, 0x200n);
    b.dv.setUint32(16, opts.backing.length);
    b.text(0x200, opts.backing);
  }
  return b.buf;
}

/** A hosted sparse VMDK header with `descriptor` embedded at sector 1 (or where `at` says). */
export function vmdkSparse(
  descriptor: string,
  opts: { at?: bigint; sectors?: bigint; fileSize?: number } = {},
) {
  const b = bytes(opts.fileSize ?? 65_536);
  b.dv.setUint32(0, 0x564d444b, true);
  b.dv.setUint32(4, 1, true);
  b.dv.setBigUint64(12, 2048n, true);
  b.dv.setBigUint64(20, 128n, true);
  b.dv.setBigUint64(28, opts.at ?? 1n, true);
  b.dv.setBigUint64(36, opts.sectors ?? 20n, true);
  b.text(512, descriptor);
  return b.buf;
}

/** A VMDK descriptor naming one extent. */
export function vmdkDescriptor(createType: string, extent: string): string {
  return `# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="${createType}"\n\n# Extent description\n${extent}\n`;
}

/** A VHD footer of the given disk type (2 fixed, 3 dynamic, 4 differencing) at `at`. */
export function vhdFooter(
  b: ReturnType<typeof bytes>,
  at: number,
  type: number,
  size: bigint,
  dataOffset = 512n,
) {
  b.text(at, 'conectix');
  b.dv.setBigUint64(at + 16, type === 2 ? 0xffffffffffffffffn : dataOffset);
  b.text(at + 28, 'qem2');
  b.dv.setBigUint64(at + 48, size);
  b.dv.setUint32(at + 60, type);
}

/** A dynamic (or differencing) VHD: footer copy, dynamic header, footer. */
export function vhdDynamic(type: 3 | 4, size: bigint) {
  const b = bytes(2560);
  vhdFooter(b, 0, type, size);
  b.text(512, 'cxsparse');
  b.dv.setUint32(512 + 32, 2 * 1024 * 1024);
  vhdFooter(b, 2048, type, size);
  return b.buf;
}

/** A VDI header of the given image type. */
export function vdi(type: number, size: bigint) {
  const b = bytes(1024);
  b.text(0, '<<< Oracle VM VirtualBox Disk Image >>>\n');
  b.dv.setUint32(0x40, 0xbeda107f, true);
  b.dv.setUint32(0x44, 0x00010001, true);
  b.dv.setUint32(0x4c, type, true);
  b.dv.setBigUint64(0x170, size, true);
  return b.buf;
}

function guidBytes(text: string): Uint8Array {
  const h = text.replace(/-/g, '');
  const raw = Buffer.from(h, 'hex');
  return Uint8Array.from([
    raw[3]!,
    raw[2]!,
    raw[1]!,
    raw[0]!,
    raw[5]!,
    raw[4]!,
    raw[7]!,
    raw[6]!,
    ...raw.subarray(8),
  ]);
}

/** A VHDX with a region table at 192 KiB pointing at a metadata region at 256 KiB. */
export function vhdx(size: bigint, flags = 0) {
  const b = bytes(320 * 1024);
  b.text(0, 'vhdxfile');
  const rt = 192 * 1024;
  b.text(rt, 'regi');
  b.dv.setUint32(rt + 8, 1, true);
  b.buf.set(guidBytes('8b7ca206-4790-4b9a-b8fe-575f050f886e'), rt + 16);
  b.dv.setBigUint64(rt + 32, 256n * 1024n, true);
  b.dv.setUint32(rt + 40, 64 * 1024, true);
  const md = 256 * 1024;
  b.text(md, 'metadata');
  b.dv.setUint16(md + 10, 2, true);
  b.buf.set(guidBytes('2fa54224-cd1b-4876-b211-5dbed83bf4b8'), md + 32);
  b.dv.setUint32(md + 48, 4096, true);
  b.dv.setUint32(md + 52, 8, true);
  b.dv.setBigUint64(md + 4096, size, true);
  b.buf.set(guidBytes('caa16737-fa36-4d43-b3b6-33f0aa44e76b'), md + 64);
  b.dv.setUint32(md + 80, 4104, true);
  b.dv.setUint32(md + 84, 8, true);
  b.dv.setUint32(md + 4104, 32 * 1024 * 1024, true);
  b.dv.setUint32(md + 4108, flags, true);
  return b.buf;
}
