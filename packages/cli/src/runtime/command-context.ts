import type { ComputeService } from '@vmkit/core';
import type { HypervisorProvider } from '@vmkit/core/spi';
import type { Command } from 'commander';
import type { GlobalFlags, Settings } from '../config/settings.js';
import type { ProgressView } from '../output/progress-view.js';
import type { CliIo } from './cli-io.js';

// The commands take CliIo from here, beside CommandContext; its declaration is in cli-io.ts.
export type { CliIo } from './cli-io.js';

/**
 * What every command's action gets: output helpers, the settings, and the compute service opened
 * on demand with Ctrl-C wired to an `AbortSignal`. Heavy modules load only through here.
 */
export class CommandContext {
  readonly io: CliIo;
  readonly #command: Command;

  constructor(io: CliIo, command: Command) {
    this.io = io;
    this.#command = command;
  }

  /** Whether `--json` was given. */
  get json(): boolean {
    return this.#command.optsWithGlobals<{ json?: boolean }>().json === true;
  }

  /** The global flags given (`--config`, `--store`...), for a command that starts another `vmkit`. */
  get globals(): GlobalFlags {
    return this.#command.optsWithGlobals<GlobalFlags>();
  }

  /** Writes a result line (or block) to stdout. */
  print(text: string): void {
    if (text !== '') this.io.stdout.write(`${text}\n`);
  }

  /** Writes a value as JSON to stdout. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Writes a note to stderr. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** The merged settings (config file, `VMKIT_*` variables, flags). */
  async settings(): Promise<Settings> {
    const { loadSettings } = await import('../config/settings.js');
    return loadSettings(this.#command.optsWithGlobals<GlobalFlags>(), this.io.env, this.io.cwd);
  }

  /**
   * A progress view on stderr: bars when both stdout and stderr are terminals and `--json` is off;
   * plain lines otherwise (output piped or redirected, CI logs).
   */
  async progress(): Promise<ProgressView> {
    const { ProgressView } = await import('../output/progress-view.js');
    const bars = this.io.stderr.isTTY === true && this.io.stdout.isTTY === true && !this.json;
    return ProgressView.create({ stream: this.io.stderr, bars });
  }

  /**
   * The store directory the settings name, when it does not exist (nothing was built or made
   * with these settings yet); undefined when it exists or the store is an S3 bucket.
   */
  async missingStore(): Promise<string | undefined> {
    const settings = await this.settings();
    if (!('dir' in settings.store)) return undefined;
    const { stat } = await import('node:fs/promises');
    const dir = settings.store.dir;
    return (await stat(dir).catch(() => undefined)) ? undefined : dir;
  }

  /**
   * Opens the compute service, runs `work` with a signal that Ctrl-C fires (and the provider, for
   * a command that asks what it can do), and closes the
   * service whatever happens (after the work's own rollback). With `readOnly`, a store directory
   * that does not exist is `NOT_FOUND` saying so and what makes one (opening would create it).
   */
  async withService<T>(
    work: (service: ComputeService, signal: AbortSignal, provider: HypervisorProvider) => Promise<T>,
    options: { readonly readOnly?: boolean } = {},
  ): Promise<T> {
    const { checkImageSpecs, openServiceAndProvider } = await import('./open-service.js');
    const missing = options.readOnly === true ? await this.missingStore() : undefined;
    if (missing !== undefined) {
      const { VmkitError } = await import('@vmkit/core');
      const settings = await this.settings();
      await checkImageSpecs(settings); // a bad config says so first
      const where = settings.configFile
        ? `named by ${settings.configFile}`
        : 'and no vmkit.config.json was found from here up';
      throw new VmkitError(
        'NOT_FOUND',
        `no store at ${missing} (${where}): nothing was built here yet. Run vmkit build IMAGE or vmkit up GROUP to make one, or name an existing one with --store (or VMKIT_STORE, or -c CONFIG)`,
        { details: { store: missing } },
      );
    }
    return this.withSignal(async (signal) => {
      const { service, provider } = await openServiceAndProvider(await this.settings());
      try {
        return await work(service, signal, provider);
      } finally {
        await service.close();
      }
    });
  }

  /**
   * Runs `work` with a signal that Ctrl-C (or SIGTERM) fires; a failure after the signal fired is
   * `ABORTED` (exit 130) once the work has rolled back.
   */
  async withSignal<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { abortOnSignals } = await import('./interrupt.js');
    const interrupt = abortOnSignals((line) => this.note(line));
    try {
      return await work(interrupt.signal);
    } catch (error) {
      if (interrupt.signal.aborted) {
        const { VmkitError } = await import('@vmkit/core');
        if (!VmkitError.is(error, 'ABORTED')) {
          throw new VmkitError(
            'ABORTED',
            `interrupted: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }
      }
      throw error;
    } finally {
      interrupt.dispose();
    }
  }
}
