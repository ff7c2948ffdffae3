/** The operating system an image runs. */
export interface OperatingSystem {
  /** Family, lower case: `debian`, `ubuntu`, `linux`, `windows`, ... */
  readonly family: string;
  /** Version string, matched by `osVersionMatches` (a regular expression). */
  readonly version: string;
  /** CPU architecture: `x86_64`, `aarch64`, ... */
  readonly arch: string;
}
