// check: run
// Inspects a disk image's headers, imports it (refused if unsafe), exports it as a streamOptimized
// VMDK, and prints the tasks. Usage: npx tsx examples/import-disk.ts [file format]; without
// arguments it makes a small VDI with qemu-img first.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { assertSafeImage, inspectImage } from '@vmkit/imaging';
import { createImportService } from '@vmkit/import';

const work = await mkdtemp(join(tmpdir(), 'vmkit-import-example-'));
let [file, format] = process.argv.slice(2);
if (!file) {
  file = join(work, 'sample.vdi');
  format = 'vdi';
  execFileSync('qemu-img', ['create', '-q', '-f', 'vdi', file, '64M']);
}
try {
  const info = await inspectImage(file);
  console.log(`${file}: ${info.format}, ${info.virtualSize} bytes virtual, ${info.bytesRead} bytes read`);
  assertSafeImage(info, format ? { format } : {});

  await using imports = await createImportService({
    store: fileSystemBlobStore({ root: join(work, 'records') }),
    scratchDir: join(work, 'scratch'),
    limits: { tasks: 2 },
  });
  const { importTaskId } = await imports.importImage({
    diskContainers: [{ format: format ?? info.format, path: file }],
  });
  const imported = await imports.waitForTask(importTaskId);
  console.log(importTaskId, imported.status, imported.statusMessage);
  if (imported.status !== 'completed') process.exit(1);
  const [image] = await imports.listImages();
  const imageId = image!.imageId;
  const vmdk = join(work, 'exported.vmdk');
  const { exportImageTaskId } = await imports.exportImage({
    imageId,
    diskImageFormat: 'vmdk',
    destination: { path: vmdk },
  });
  const exported = await imports.waitForTask(exportImageTaskId);
  console.log(exportImageTaskId, exported.status, (await inspectImage(vmdk)).details.createType);
} finally {
  await rm(work, { recursive: true, force: true });
}
