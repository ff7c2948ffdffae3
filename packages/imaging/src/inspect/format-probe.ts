import type { ImageFormat, ImageRule } from './image-info.js';
import type { ProbeContext } from './probe-context.js';

/** One concern a probe found in a header. */
export interface ProbeIssue {
  readonly rule: ImageRule;
  readonly message: string;
}

/** What a probe read from a header that matched. */
export interface ProbeMatch {
  readonly virtualSize: number;
  readonly details: Record<string, unknown>;
  readonly issues: ProbeIssue[];
  /**
   * True when the guest's bytes start at offset 0 of the file (a fixed VHD): a partition table or
   * ISO found there is the disk's content, not a second format.
   */
  readonly dataAtZero?: boolean;
}

/** Recognises one format by its magic and reads its header. */
export interface FormatProbe {
  readonly format: ImageFormat;
  /** Cheap test of the magic numbers in the shared head and tail. */
  matches(ctx: ProbeContext): boolean;
  /** Reads the header; throws {@link ProbeFailure} when it is cut short or malformed. */
  inspect(ctx: ProbeContext): Promise<ProbeMatch>;
}
