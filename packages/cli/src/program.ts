import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { cpCommand } from './commands/cp.js';
import { execCommand } from './commands/exec.js';
import { dfCommand, pruneCommand, reapCommand } from './commands/housekeeping.js';
import { imageCommand } from './commands/image.js';
import { buildCommand, imagesCommand } from './commands/images.js';
import { exportCommand, importCommand } from './commands/import.js';
import { inspectCommand } from './commands/inspect.js';
import { isoCommand } from './commands/iso.js';
import { destroyCommand, lsCommand, upCommand } from './commands/nodes.js';
import { remasterCommand } from './commands/remaster.js';
import { seedCommand } from './commands/seed.js';
import { snapshotCommand } from './commands/snapshot.js';
import { sshCommand } from './commands/ssh.js';
import type { CliIo } from './runtime/command-context.js';
import { cliPackageFile } from './runtime/package-files.js';

const EXIT_HELP = `
Configuration: vmkit.config.json (or vmkit.config.mjs) in the working directory or above, up to
the repository root or your home folder; a file another user could have written is refused.
provider.type chooses the hypervisor: libvirt (the default) or virtualbox.
VMKIT_CONFIG, VMKIT_PROVIDER, VMKIT_URI, VMKIT_POOL, VMKIT_NAME_PREFIX, VMKIT_STORE,
VMKIT_S3_BUCKET, VMKIT_S3_ENDPOINT, VMKIT_LEASE_DIR, VMKIT_VBOX_USER and
VMKIT_VBOX_PASSWORD override it; flags override both.

Exit codes: 0 ok, 1 internal error, 2 bad arguments or configuration, 3 not found,
4 conflict, 5 provider, 6 store, 7 timeout, 8 unsupported, 9 corrupt, 130 interrupted.

vmkit exec and vmkit ssh exit with the guest command's own exit code when it ran.

Example:
  vmkit up web -n 3 --port 80 && vmkit ls && vmkit destroy web && vmkit prune
`;

/** The package version, read from the package's package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(cliPackageFile('package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The `vmkit` program: global flags and every command. Building it loads commander only; each
 * command loads what it needs (core, the provider, imaging) when it runs.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command('vmkit')
    .description('Build VM master images once and clone nodes from them, from a shell.')
    .version(version(), '-v, --version', 'print the version')
    .option('-c, --config <file>', 'config file (default: vmkit.config.json or .mjs, found from here up)')
    .option(
      '--provider <type>',
      "the hypervisor: libvirt or virtualbox (default: the config's, else libvirt)",
    )
    .option(
      '--uri <uri>',
      'libvirt URI (default qemu:///system), or the vboxwebsrv URL (default http://127.0.0.1:18083/)',
    )
    .option('--pool <name>', 'libvirt storage pool (default vmkit)')
    .option('--prefix <prefix>', 'prefix of domain, machine and volume names (default vmkit-)')
    .option('--store <dir>', 'directory of the metadata store (default .vmkit/store beside the config)')
    .option('--s3-bucket <bucket>', 'keep metadata in this S3 bucket instead')
    .option('--s3-endpoint <url>', 'S3 endpoint (S3-compatible servers)')
    .option(
      '--allow-uri-programs',
      'let the libvirt URI choose programs to run (?command=, ?netcat=); refused otherwise',
    )
    .addHelpText('after', EXIT_HELP);
  for (const make of [
    imagesCommand,
    buildCommand,
    upCommand,
    lsCommand,
    destroyCommand,
    execCommand,
    cpCommand,
    sshCommand,
    snapshotCommand,
    imageCommand,
    pruneCommand,
    reapCommand,
    dfCommand,
    seedCommand,
    isoCommand,
    inspectCommand,
    remasterCommand,
    importCommand,
    exportCommand,
  ]) {
    program.addCommand(make(io));
  }
  configure(program, io);
  return program;
}

/** Every command writes to the given streams and throws instead of exiting (main maps the codes). */
function configure(command: Command, io: CliIo): void {
  command
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const sub of command.commands) configure(sub, io);
}
