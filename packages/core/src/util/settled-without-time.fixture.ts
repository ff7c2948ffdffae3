// For tests under fake timers: whether a promise settles while the clock stands still.

/**
 * Settles with `promise`'s value (or its rejection reason) if it settles within 100 turns of
 * the event loop (`setImmediate`, which the tests leave real), else with `'still waiting'`. Under
 * fake `setTimeout` and `Date`, no timer fires meanwhile: only an abort or a settled call can end
 * it, so a claim such as "the abort ends the wait" holds however loaded the machine is.
 */
export async function settledWithoutTime(promise: Promise<unknown>): Promise<unknown> {
  const outcome = promise.then(
    (value) => value,
    (error: unknown) => error,
  );
  const turns = async () => {
    for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
    return 'still waiting';
  };
  return Promise.race([outcome, turns()]);
}
