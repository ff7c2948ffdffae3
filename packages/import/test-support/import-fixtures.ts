// Helpers of the import integration tests: random disks, OVAs packed with tar-stream, qemu-img.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pack } from 'tar-stream';
import type { ImportService } from '../src/import-service.js';
import type { DiskContainer } from '../src/task-model.js';

const exec = promisify(execFile);

/** Runs qemu-img; resolves with stdout. */
export async function qemuImg(...args: string[]): Promise<string> {
  return (await exec('qemu-img', args, { maxBuffer: 1 << 24 })).stdout;
}

/** `qemu-img info --output=json`. */
export async function qemuInfo(
  file: string,
  format?: string,
): Promise<{ format: string; 'virtual-size': number }> {
  return JSON.parse(await qemuImg('info', '--output=json', ...(format ? ['-f', format] : []), file));
}

/** Writes `mib` MiB of random bytes. */
export async function randomFile(path: string, mib: number): Promise<void> {
  const out = createWriteStream(path);
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < mib; i++) {
    randomFillSync(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/** An OVF descriptor of one VMDK disk, `cores` CPUs and `ramMiB` of memory. */
export function ovf(disk: string, cores: number, ramMiB: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="file1" ovf:href="${disk}"/></References>
  <DiskSection><Info>disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="64" ovf:capacityAllocationUnits="byte * 2^20"
      ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="imported-vm"><Info>vm</Info><Name>imported-vm</Name>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:ElementName>cpus</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>${cores}</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>${ramMiB}</rasd:VirtualQuantity></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

/** Packs members (name → bytes, or a file path to read) into an OVA (tar) at `path`. */
export async function packOva(path: string, members: Array<[string, Uint8Array | string]>): Promise<void> {
  const p = pack();
  const done = new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('finish', resolve).on('error', reject);
    p.pipe(out);
  });
  for (const [name, body] of members) {
    const bytes = typeof body === 'string' ? await readFile(body) : body;
    await new Promise<void>((resolve, reject) =>
      p.entry({ name, size: bytes.length }, Buffer.from(bytes), (e) => (e ? reject(e) : resolve())),
    );
  }
  p.finalize();
  await done;
}

/** qemu-img processes whose command line names `text`. */
export async function processesNaming(text: string): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('qemu-img') && cmd.includes(text)) pids.push(Number(entry));
  }
  return pids;
}

/** Runs one import of `container` to its end and returns the task as `describeImportImageTasks` gives it. */
export async function importToEnd(
  svc: ImportService,
  container: DiskContainer,
): Promise<Awaited<ReturnType<ImportService['describeImportImageTasks']>>[number]> {
  const { importTaskId } = await svc.importImage({ diskContainers: [container] });
  await svc.waitForTask(importTaskId);
  return (await svc.describeImportImageTasks({ importTaskIds: [importTaskId] }))[0]!;
}

/** Waits until `check` holds; throws (naming the wait) if it never does, rather than going on. */
export async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`still not so after ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `qemu-img compare`: resolves when the two images hold the same bytes, rejects otherwise. */
export async function compareDisks(a: string, aFormat: string, b: string, bFormat: string): Promise<void> {
  await qemuImg('compare', '-f', aFormat, '-F', bFormat, a, b);
}
