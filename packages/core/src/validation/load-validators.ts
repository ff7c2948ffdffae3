import { VmkitError } from '../errors/vmkit-error.js';

/** The zod-backed checks of `validators.ts`. */
export type Validators = typeof import('./validators.js');

let loaded: Validators | undefined;
let loading: Promise<Validators> | undefined;

/**
 * Loads the checks once (zod costs about 140 ms to import, so the root entry does not load it
 * until a compute service starts). Concurrent callers share one import.
 */
export async function loadValidators(): Promise<Validators> {
  if (loaded) return loaded;
  loading ??= import('./validators.js').then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/**
 * The checks, for synchronous code that runs only after {@link loadValidators} resolved (the
 * compute service awaits it in `init`).
 */
export function validators(): Validators {
  if (!loaded) throw new VmkitError('CONFLICT', 'vmkit validators used before the compute service started');
  return loaded;
}
