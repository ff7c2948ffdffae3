/** Default bound on the bytes one download may hold unread before the socket stops being read. */
export const DEFAULT_STREAM_BACKLOG_MAX = 32 * 1024 * 1024;

/**
 * When to stop reading the shared socket for downloads' sake. One socket carries every call's
 * replies, events, keepalives and every stream's data, and libvirt's protocol has no per-stream
 * flow control: pausing the socket for one slow reader stalls everything else. So the socket
 * keeps being read, and each download whose reader lags (its buffer over its high-water mark)
 * is a backlog here. Reading stops only when nothing else needs the socket (every open stream
 * lags and no call waits for its reply), or when one backlog exceeds the hard bound (memory
 * wins over latency then: calls wait until that reader catches up).
 */
export class ReadFlow {
  readonly #backlogs = new Map<number, number>();
  readonly #maxBytes: number;

  constructor(maxBytes = DEFAULT_STREAM_BACKLOG_MAX) {
    this.#maxBytes = maxBytes;
  }

  /** Records that stream `serial` holds `bytes` unread over its mark, or (`undefined`) none. */
  set(serial: number, bytes: number | undefined): void {
    if (bytes === undefined) this.#backlogs.delete(serial);
    else this.#backlogs.set(serial, bytes);
  }

  /** Forgets everything (the connection closed). */
  clear(): void {
    this.#backlogs.clear();
  }

  /** Whether to stop reading, given how many streams are open and calls wait for replies. */
  shouldPause(openStreams: number, pendingCalls: number): boolean {
    if (this.#backlogs.size === 0) return false;
    for (const bytes of this.#backlogs.values()) if (bytes >= this.#maxBytes) return true;
    return pendingCalls === 0 && this.#backlogs.size >= openStreams;
  }
}
