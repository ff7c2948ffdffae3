import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

interface SeedOptions {
  output?: string;
  userData?: string;
  metaData?: string;
  networkConfig?: string;
  vendorData?: string;
  hostname?: string;
  dsmode?: string;
  format: 'nocloud' | 'openstack' | 'ovf';
  fs?: 'iso9660' | 'vfat';
  filesystem?: 'iso9660' | 'vfat';
  diskFormat: string;
}

function filesystem(value: string): 'iso9660' | 'vfat' {
  if (value === 'iso' || value === 'iso9660') return 'iso9660';
  if (value === 'vfat') return 'vfat';
  throw new InvalidArgumentError('must be iso9660 (iso) or vfat');
}

/**
 * `vmkit seed`: writes a config drive image, in-process. A drop-in for `cloud-localds`: the same
 * positional arguments (`OUTPUT USER_DATA [META_DATA]`) and short flags (-f, -H, -N, -m, -V, -d).
 */
export function seedCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('seed')
      .description('write a cloud-init seed (config drive) image; a drop-in for cloud-localds')
      .argument('[output]', 'image to write (or -o)')
      .argument('[user-data]', 'user data file (or --user-data)')
      .argument('[meta-data]', 'meta-data YAML file (or --meta-data)')
      .option('-o, --output <file>', 'image to write')
      .option('-u, --user-data <file>', 'user data file')
      .option('--meta-data <file>', 'meta-data YAML file (default: instance-id: iid-local01)')
      .option('-N, --network-config <file>', 'network config file')
      .option('-V, --vendor-data <file>', 'vendor data file')
      .option('-H, --hostname <name>', 'local-hostname in the generated meta-data')
      .option('-m, --dsmode <mode>', "dsmode ('local' or 'net') in the generated meta-data")
      .addOption(
        new Option('--format <layout>', 'drive layout')
          .choices(['nocloud', 'openstack', 'ovf'])
          .default('nocloud'),
      )
      .addOption(
        new Option('-f, --fs <fs>', 'filesystem: iso9660 (or iso) or vfat (default iso9660)').argParser(
          filesystem,
        ),
      )
      .addOption(
        new Option('--filesystem <fs>', 'same as --fs (cloud-localds spelling)')
          .argParser(filesystem)
          .hideHelp(),
      )
      .option('-d, --disk-format <format>', 'disk format (raw only)', 'raw'),
    'vmkit seed seed.iso user-data.yaml meta-data.yaml   # as: cloud-localds seed.iso user-data.yaml meta-data.yaml',
  );
  return defineAction(
    command,
    io,
    async (ctx, pos1?: string, pos2?: string, pos3?: string, opts?: SeedOptions) => {
      const o = opts as SeedOptions;
      const { invalidArgument, VmkitError } = await import('@vmkit/core/spi');
      const output = o.output ?? pos1;
      const positional = o.output ? [pos1, pos2] : [pos2, pos3];
      const userData = o.userData ?? positional[0];
      const metaData = o.metaData ?? (o.userData ? positional[0] : positional[1]);
      if (!output) throw invalidArgument('output', 'is required (-o FILE or the first argument)');
      if (!userData) throw invalidArgument('user-data', 'is required (--user-data FILE or an argument)');
      if (o.diskFormat !== 'raw') {
        throw new VmkitError(
          'UNSUPPORTED',
          `--disk-format ${o.diskFormat}: only raw is written (convert with qemu-img)`,
        );
      }
      const [{ seedSpec }, { buildConfigDrive }, { writePrivateFile }] = await Promise.all([
        import('./seed-spec.js'),
        import('@vmkit/imaging'),
        import('../runtime/private-file.js'),
      ]);
      const spec = await seedSpec({
        userData,
        ...(metaData !== undefined ? { metaData } : {}),
        ...(o.networkConfig !== undefined ? { networkConfig: o.networkConfig } : {}),
        ...(o.vendorData !== undefined ? { vendorData: o.vendorData } : {}),
        ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
        ...(o.dsmode !== undefined ? { dsmode: o.dsmode } : {}),
        format: o.format,
        filesystem: o.fs ?? o.filesystem ?? 'iso9660',
      });
      const image = await buildConfigDrive(spec);
      // User data often holds secrets: the image is 0600, and a failure never leaves half of it.
      await writePrivateFile(resolve(ctx.io.cwd, output), image);
      if (ctx.json)
        ctx.printJson({ output, bytes: image.length, format: spec.format, filesystem: spec.filesystem });
    },
  );
}
