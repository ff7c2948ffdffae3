import { describe, expect, it } from 'vitest';
import { debianSpec } from '../compute/service.fixture.js';
import {
  type BuildContext,
  type MasterBuild,
  STANDARD_BUILD_STEPS,
  standardStepSkipReason,
} from '../spi/master-build.js';
import { memoryProvider } from '../testing/memory-provider.js';
import type { ProgressEvent } from '../util/progress.js';
import { runMasterBuild } from './master-build-pipeline.js';

describe('runMasterBuild', () => {
  it('reports a step that had nothing to do as skipped with its reason, never as done', async () => {
    const inner = memoryProvider();
    const provider = {
      ...inner,
      planMasterBuild(spec: Parameters<typeof inner.planMasterBuild>[0], name: string): MasterBuild {
        const plan = inner.planMasterBuild(spec, name);
        return {
          ...plan,
          steps: plan.steps.map((step) =>
            step.name === 'detach-isos'
              ? {
                  name: step.name,
                  async run(c) {
                    c.markSkipped('the master never had a CD-ROM');
                  },
                }
              : step,
          ),
        };
      },
    };
    const events: ProgressEvent[] = [];
    await runMasterBuild(provider, debianSpec(), 'm1', { onProgress: (e) => events.push(e) });
    const outcomes = events
      .filter((e) => e.stepOutcome !== undefined)
      .map((e) => [e.step, e.stepOutcome, e.message] as const);
    expect(outcomes).toHaveLength(7);
    expect(outcomes.find(([step]) => step === 'detach-isos')).toEqual([
      'detach-isos',
      'skipped',
      'step 4/7: detach-isos skipped (the master never had a CD-ROM)',
    ]);
    expect(outcomes.filter(([, outcome]) => outcome === 'done').map(([step]) => step)).not.toContain(
      'detach-isos',
    );
    // The memory provider skips post-install too: the spec has no post-install steps.
    expect(outcomes.filter(([, outcome]) => outcome === 'skipped').map(([step]) => step)).toEqual([
      'post-install',
      'detach-isos',
    ]);
    expect(outcomes.filter(([, outcome]) => outcome === 'done')).toHaveLength(5);
  });

  it("reports a standard step the provider does not supply as skipped with core's reason", async () => {
    const inner = memoryProvider();
    const supplied = ['create-and-install', 'post-install', 'detach-nics'];
    const ran: string[] = [];
    const provider = {
      ...inner,
      planMasterBuild(
        spec: Parameters<typeof inner.planMasterBuild>[0],
        name: string,
      ): MasterBuild<string[]> {
        const plan = inner.planMasterBuild(spec, name);
        return {
          initialState: () => ran,
          // Out of order on purpose, plus a step of the provider's own.
          steps: [
            { name: 'seal', run: async (c) => void c.state.push('seal') },
            ...plan.steps
              .filter((step) => supplied.includes(step.name))
              .reverse()
              .map((step) => ({
                name: step.name,
                run: async (c: BuildContext<string[]>) => {
                  c.state.push(step.name);
                  await step.run(c);
                },
              })),
          ],
          finish: (c) => plan.finish(c),
          discard: (c) => plan.discard(c),
        };
      },
    };
    const events: ProgressEvent[] = [];
    await runMasterBuild(provider, debianSpec(), 'm2', { onProgress: (e) => events.push(e) });
    const outcomes = events
      .filter((e) => e.stepOutcome !== undefined)
      .map((e) => [e.step, e.stepOutcome, e.message] as const);
    expect(outcomes.map(([step]) => step)).toEqual([...STANDARD_BUILD_STEPS, 'seal']);
    expect(ran).toEqual(['create-and-install', 'post-install', 'detach-nics', 'seal']);
    for (const step of ['install-agent', 'detach-isos', 'clean-udev-rules', 'reset-identity'] as const) {
      const reason = standardStepSkipReason(step);
      expect(reason).toBeTruthy();
      expect(outcomes.find(([name]) => name === step)).toEqual([
        step,
        'skipped',
        expect.stringContaining(`${step} skipped (${reason})`),
      ]);
    }
    expect(outcomes.find(([name]) => name === 'detach-nics')?.[1]).toBe('done');
  });

  it('refuses a plan without create-and-install, and post-install steps a provider cannot run', async () => {
    const inner = memoryProvider();
    const without = (missing: string) => ({
      ...inner,
      planMasterBuild(spec: Parameters<typeof inner.planMasterBuild>[0], name: string): MasterBuild {
        const plan = inner.planMasterBuild(spec, name);
        return { ...plan, steps: plan.steps.filter((step) => step.name !== missing) };
      },
    });
    await expect(runMasterBuild(without('create-and-install'), debianSpec(), 'm3')).rejects.toMatchObject({
      code: 'PROVIDER',
      message: expect.stringContaining('no create-and-install step'),
    });
    const withSteps = { ...debianSpec(), postInstall: [{ name: 'x', run: 'true' }] };
    await expect(runMasterBuild(without('post-install'), withSteps, 'm4')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      details: { field: 'postInstall' },
    });
    expect(inner.stats.builds).toBe(0);
  });
});
