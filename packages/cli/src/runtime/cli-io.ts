// Kept apart from command-context.ts (and free of imports) so that the package's public types,
// which name it, do not reach @vmkit/core or commander: the published CLI depends on neither.

/** The process around a command: streams, environment, working directory. */
export interface CliIo {
  /**
   * Standard input, for the commands that pass it on (`vmkit exec`, `vmkit cp -`, `vmkit ssh`);
   * absent: they read nothing.
   */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}
