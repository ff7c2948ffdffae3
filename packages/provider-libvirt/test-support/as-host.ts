import type { HypervisorProvider } from '@vmkit/core/spi';

/** A provider seen as another host: its own `id`, and a count of the builds it was asked to plan. */
export interface HostView {
  readonly provider: HypervisorProvider;
  /** Calls of `planMasterBuild`: a build (and its installer domain) starts only through it. */
  readonly plannedBuilds: () => number;
}

/**
 * Wraps a provider so it passes for a different host (its own provider id, so its own catalogue),
 * delegating every call to the real one (bound, so `#private` fields work).
 */
export function asHost(provider: HypervisorProvider, id: string): HostView {
  let planned = 0;
  const view = new Proxy(provider, {
    get(target, key) {
      if (key === 'id') return id;
      if (key === 'planMasterBuild')
        return (...args: Parameters<HypervisorProvider['planMasterBuild']>) => {
          planned++;
          return target.planMasterBuild(...args);
        };
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { provider: view, plannedBuilds: () => planned };
}
