/** Options of {@link ProviderNodeConsole.readNodeConsole}. */
export interface NodeConsoleOptions {
  /** How many bytes of the log's end to read (default: the provider's, e.g. 64 KiB). */
  readonly tailBytes?: number;
}

/**
 * Optional part of the provider SPI: the end of a node's serial console output, which
 * `ComputeService.readNodeConsole` (and so `@vmkit/import`'s boot check) uses. A provider without
 * it still works; console reads of its nodes are then `UNSUPPORTED`.
 */
export interface ProviderNodeConsole {
  /**
   * The last `tailBytes` of what node `id` wrote to its serial console since it last started
   * (`''` when nothing yet): `NOT_FOUND` for an unknown node. Only read: the guest is not touched.
   */
  readNodeConsole?(id: string, options?: NodeConsoleOptions): Promise<string>;
}
