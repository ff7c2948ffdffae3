/**
 * Turns Ctrl-C (SIGINT) and SIGTERM into an abort of the running operation, so it rolls back
 * through its `AbortSignal` as any caller's would. A second signal quits at once (exit 130),
 * leaving whatever the rollback had not reached.
 */
export function abortOnSignals(write: (line: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      write(`vmkit: ${name} again: quitting without finishing the rollback`);
      process.exit(130);
    }
    write(`vmkit: ${name}: stopping and rolling back (press Ctrl-C again to quit at once)`);
    const reason = Object.assign(new Error(`interrupted by ${name}`), { name: 'AbortError' });
    controller.abort(reason);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
