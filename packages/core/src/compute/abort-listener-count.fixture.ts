/**
 * Counts the live `abort` listeners of every AbortSignal while `run` runs (by wrapping
 * EventTarget's add/removeEventListener), and returns the most any one signal had at once.
 */
export async function maxAbortListeners(run: () => Promise<unknown>): Promise<number> {
  const proto = EventTarget.prototype;
  const add = proto.addEventListener;
  const remove = proto.removeEventListener;
  const live = new WeakMap<object, Set<unknown>>();
  let max = 0;
  proto.addEventListener = function (this: EventTarget, type, listener, options) {
    if (type === 'abort' && this instanceof AbortSignal && listener) {
      const set = live.get(this) ?? new Set();
      live.set(this, set);
      set.add(listener);
      max = Math.max(max, set.size);
      // A once listener leaves when the signal fires; the signal then fires no more.
    }
    return add.call(this, type, listener, options);
  };
  proto.removeEventListener = function (this: EventTarget, type, listener, options) {
    if (type === 'abort' && this instanceof AbortSignal) live.get(this)?.delete(listener);
    return remove.call(this, type, listener, options);
  };
  try {
    await run();
  } finally {
    proto.addEventListener = add;
    proto.removeEventListener = remove;
  }
  return max;
}
