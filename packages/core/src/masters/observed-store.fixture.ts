import type { BlobStore } from '../blobstore/blob-store.js';

/** `store` with `onCall(method, args)` told before each of its methods runs (tests count calls with it). */
export function observedStore<T extends BlobStore>(
  store: T,
  onCall: (method: string, args: readonly unknown[]) => void,
): T {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        onCall(property, args);
        return value.apply(target, args);
      };
    },
  });
}
