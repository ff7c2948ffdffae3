import { assertFirmwareSupported } from '../compute/node-firmware.js';
import { isAbortError, toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { BuildContext, MasterRef } from '../spi/master-build.js';
import { abortedError, throwIfAborted } from '../util/abort.js';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { emitProgress, type ProgressListener } from '../util/progress.js';
import { retryRetryable } from '../util/retry.js';
import { planSteps } from './build-step-plan.js';
import { firmwareOf } from './image-view.js';

/** Options of {@link runMasterBuild}. */
export interface MasterBuildRunOptions {
  /** Aborts the build; whatever it made is discarded. */
  readonly signal?: AbortSignal;
  /** Progress per step. */
  readonly onProgress?: ProgressListener;
  /** Where steps log. */
  readonly logger?: Logger;
}

/**
 * Runs a provider's master build: each named step in order with progress and retries (the
 * standard steps the provider does not supply reported as skipped, see `MasterBuild`), then
 * `finish`. On failure or abort, `discard` removes the partial master before the error is thrown,
 * so a failed build leaves nothing behind and can simply be run again.
 */
export async function runMasterBuild(
  provider: HypervisorProvider,
  spec: MasterSpec,
  masterName: string,
  options: MasterBuildRunOptions = {},
): Promise<MasterRef> {
  const signal = options.signal ?? new AbortController().signal;
  const logger = options.logger ?? silentLogger;
  if (firmwareOf(spec) !== 'bios') {
    const caps = await provider.capabilities();
    assertFirmwareSupported(firmwareOf(spec), caps, provider.name, 'hardware.firmware');
  }
  const plan = provider.planMasterBuild(spec, masterName);
  const steps = planSteps(plan, spec);
  const stepCount = steps.length;
  let current = { name: 'start', index: 0 };
  let skipped: string | undefined;
  const report = (fraction: number, message: string | undefined, stepOutcome?: 'done' | 'skipped') =>
    emitProgress(options.onProgress, {
      phase: 'build',
      imageId: spec.id,
      step: current.name,
      stepIndex: current.index,
      stepCount,
      fraction: Math.min(1, Math.max(0, (current.index - 1 + fraction) / stepCount)),
      message: message ?? `${current.name} ${Math.round(fraction * 100)}%`,
      ...(stepOutcome ? { stepOutcome } : {}),
    });
  const context: BuildContext = {
    spec,
    masterName,
    signal,
    logger,
    state: plan.initialState(),
    progress(fraction, message) {
      report(fraction, message);
    },
    markSkipped(reason) {
      skipped = reason;
    },
  };
  try {
    for (const [i, step] of steps.entries()) {
      current = { name: step.name, index: i + 1 };
      throwIfAborted(signal, `build of ${spec.id}`);
      skipped = undefined;
      context.progress(0, `step ${i + 1}/${stepCount}: ${step.name}`);
      await runStep(step.name, step.retries ?? 0, () => step.run(context), signal, logger, spec.id);
      if (skipped === undefined) report(1, `step ${i + 1}/${stepCount}: ${step.name} done`, 'done');
      else report(1, `step ${i + 1}/${stepCount}: ${step.name} skipped (${skipped})`, 'skipped');
    }
    throwIfAborted(signal, `build of ${spec.id}`);
    return await plan.finish(context);
  } catch (error) {
    try {
      await plan.discard(context);
    } catch (discardError) {
      logger.error('could not discard a failed master build', {
        imageId: spec.id,
        masterName,
        error: String(discardError),
      });
    }
    if (signal.aborted) throw abortedError(signal, `build of ${spec.id}`);
    throw toVmkitError(error, 'PROVIDER', `build of ${spec.id} failed in step ${current.name}`);
  }
}

async function runStep(
  name: string,
  retries: number,
  run: () => Promise<void>,
  signal: AbortSignal,
  logger: Logger,
  imageId: string,
): Promise<void> {
  try {
    await retryRetryable(run, {
      attempts: retries + 1,
      baseDelayMs: 0,
      retryIf: (error) => !signal.aborted && !isAbortError(error),
      onRetry: (error, attempt) =>
        logger.warn('build step failed, retrying', {
          imageId,
          step: name,
          attempt,
          error: String(error),
        }),
    });
  } catch (error) {
    if (VmkitError.is(error)) throw error;
    throw toVmkitError(error, 'PROVIDER', `step ${name}`);
  }
}
