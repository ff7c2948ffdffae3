/** The guest's page: what the test guest serves on port 80. */
export interface GuestPage {
  readonly instanceId: string;
  readonly hostname: string;
  readonly userData: string;
  /** `MemTotal` of the guest's `/proc/meminfo`, in KiB. */
  readonly memTotalKiB: number;
  /** The guest's `nproc`. */
  readonly cpus: number;
}

/** Polls `url` until it answers with JSON (the guest booting), up to `timeoutMs`. */
export async function waitForGuestPage(
  url: string,
  timeoutMs = 90_000,
): Promise<{ page: GuestPage; ms: number }> {
  const start = performance.now();
  let last: unknown;
  while (performance.now() - start < timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { page: (await res.json()) as GuestPage, ms: performance.now() - start };
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms: ${String(last)}`);
}
