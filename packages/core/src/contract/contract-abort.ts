import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterBuild } from '../spi/master-build.js';

/**
 * The provider seen through a plan whose second step first calls `before` (the first step has
 * made the master's disk by then) and then aborts the build's signal, so an abort test knows the
 * build had made something real before it was aborted.
 */
export function abortingInSecondStep(
  provider: HypervisorProvider,
  controller: AbortController,
  before: () => Promise<void>,
): HypervisorProvider {
  const plan = (spec: Parameters<HypervisorProvider['planMasterBuild']>[0], name: string): MasterBuild => {
    const real = provider.planMasterBuild(spec, name);
    return {
      ...real,
      steps: real.steps.map((step, i) =>
        i !== 1
          ? step
          : {
              ...step,
              async run(ctx) {
                await before();
                controller.abort();
                return step.run(ctx);
              },
            },
      ),
      finish: (ctx) => real.finish(ctx),
      discard: (ctx) => real.discard(ctx),
    };
  };
  return new Proxy(provider, {
    get(target, key) {
      if (key === 'planMasterBuild') return plan;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
