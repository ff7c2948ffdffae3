import type { LoginCredentials } from './login-credentials.js';
import type { BoxSource, DiskSource } from './master-spec.js';

/** What a {@link BoxSourceReader} makes of a box: a disk source and the box's defaults. */
export interface ReadBoxSource {
  /** The box's (first) disk, unpacked where it stays while the image is used. */
  readonly source: DiskSource;
  /** The box's hardware defaults (its Vagrantfile's); the spec's own `hardware` wins. */
  readonly hardware?: { readonly cores?: number; readonly ramMiB?: number };
  /** The box's login (Vagrant's: user `vagrant`); the spec's own `login` wins. */
  readonly login?: LoginCredentials;
}

/**
 * Reads a `box` master source for the compute service (its `sources.box` option), when the spec
 * is registered: `@vmkit/import`'s `vagrantBoxReader()` is one. It should be quick for a box read
 * before (the same file or URL gives the same disk path), since registration waits for it.
 */
export type BoxSourceReader = (
  source: BoxSource,
  options: { signal?: AbortSignal },
) => Promise<ReadBoxSource>;
