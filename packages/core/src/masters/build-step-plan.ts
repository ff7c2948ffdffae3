import { VmkitError } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import {
  type BuildStep,
  type MasterBuild,
  STANDARD_BUILD_STEPS,
  type StandardBuildStep,
  standardStepSkipReason,
} from '../spi/master-build.js';

/**
 * The steps core runs for a provider's plan: the standard steps in their order, each the
 * provider's own or, when it does not supply it, one that reports it skipped with core's reason;
 * then the provider's other steps in the order it gave. Refuses (`PROVIDER`) a plan naming a step
 * twice or lacking `create-and-install`, and (`UNSUPPORTED`) a spec with post-install steps for a
 * provider that does not supply `post-install`.
 */
export function planSteps<S>(plan: MasterBuild<S>, spec: MasterSpec): BuildStep<S>[] {
  const supplied = new Map<string, BuildStep<S>>();
  for (const step of plan.steps) {
    if (supplied.has(step.name))
      throw new VmkitError('PROVIDER', `the provider's build plan names step ${step.name} twice`);
    supplied.set(step.name, step);
  }
  const standard = STANDARD_BUILD_STEPS.map((name) => supplied.get(name) ?? skippedStep<S>(name, spec));
  const own = plan.steps.filter((step) => !(STANDARD_BUILD_STEPS as readonly string[]).includes(step.name));
  return [...standard, ...own];
}

function skippedStep<S>(name: StandardBuildStep, spec: MasterSpec): BuildStep<S> {
  const reason = standardStepSkipReason(name);
  if (reason === undefined) throw new VmkitError('PROVIDER', `the provider's build plan has no ${name} step`);
  if (name === 'post-install' && (spec.postInstall?.length ?? 0) > 0)
    throw new VmkitError('UNSUPPORTED', 'postInstall: this provider does not run post-install steps', {
      details: { field: 'postInstall' },
    });
  return { name, run: async (context) => context.markSkipped(reason) };
}
