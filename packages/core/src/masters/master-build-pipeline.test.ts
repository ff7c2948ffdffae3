import { describe, expect, it } from 'vitest';
import { debianSpec } from '../compute/service.fixture.js';
import type { MasterBuild } from '../spi/master-build.js';
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
});
