import { Command } from 'commander';
import { formatTable } from '../output/format.js';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

/** `vmkit iso ls|cat`: reads ISO 9660 images in-process (Rock Ridge, Joliet or plain names). */
export function isoCommand(io: CliIo): Command {
  const iso = new Command('iso')
    .description('read ISO 9660 images (list entries, print a file)')
    .addHelpText(
      'after',
      '\nExample:\n  vmkit iso ls debian.iso boot/grub && vmkit iso cat debian.iso boot/grub/grub.cfg\n',
    );
  const ls = withJsonAndExample(
    new Command('ls')
      .description('list the entries of an ISO image, under PATH if given')
      .argument('<iso>', 'the image')
      .argument('[path]', 'a directory inside it'),
    'vmkit iso ls seed.iso',
  );
  defineAction(ls, io, async (ctx, file: string, path?: string) => {
    const { readIso9660 } = await import('@vmkit/imaging');
    const reader = await readIso9660(file);
    const dir = (path ?? '').replace(/^\/+|\/+$/g, '');
    const files = reader.files.filter((f) => dir === '' || f.path === dir || f.path.startsWith(`${dir}/`));
    if (dir !== '' && files.length === 0) {
      const { VmkitError } = await import('@vmkit/core');
      throw new VmkitError('NOT_FOUND', `no entry '${dir}' in ${file}`, { details: { path: dir } });
    }
    if (ctx.json) {
      ctx.printJson({
        volumeId: reader.volumeId,
        namespace: reader.namespace,
        files: files.map((f) => ({ path: f.path, type: f.type, size: f.size, mtime: f.mtime.toISOString() })),
      });
      return;
    }
    ctx.print(formatTable([['TYPE', 'SIZE', 'PATH'], ...files.map((f) => [f.type, String(f.size), f.path])]));
  });
  const cat = new Command('cat')
    .description('write a file of an ISO image to stdout')
    .argument('<iso>', 'the image')
    .argument('<path>', 'the file inside it')
    .addHelpText('after', '\nExample:\n  vmkit iso cat seed.iso user-data\n');
  defineAction(cat, io, async (ctx, file: string, path: string) => {
    const { readIso9660 } = await import('@vmkit/imaging');
    const bytes = await (await readIso9660(file)).readFile(path);
    await new Promise<void>((resolve, reject) =>
      ctx.io.stdout.write(bytes, (error) => (error ? reject(error) : resolve())),
    );
  });
  return iso.addCommand(ls).addCommand(cat);
}
