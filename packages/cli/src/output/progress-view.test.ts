import { PassThrough } from 'node:stream';
import type { ProgressEvent } from '@vmkit/core';
import { describe, expect, it } from 'vitest';
import { ProgressView } from './progress-view.js';

const build = (stepIndex: number, step: string, fraction: number): ProgressEvent => ({
  phase: 'build',
  imageId: 'tiny',
  step,
  stepIndex,
  stepCount: 2,
  fraction,
  message: `${step} working`,
});

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
}

describe('ProgressView', () => {
  it('prints plain lines once per quarter of each step, with the step’s own completion', async () => {
    const out = capture();
    const view = await ProgressView.create({ stream: out.stream, bars: false });
    // The build reports the whole build's fraction: step 2 of 2 at 0.75 overall is half of step 2.
    for (const f of [0, 0.1, 0.2, 0.25, 0.5]) view.listener(build(1, 'install', f));
    for (const f of [0.5, 0.75, 0.8, 1]) view.listener(build(2, 'reset', f));
    view.listener({ phase: 'clone', node: 'web-1', fraction: 0.4, message: 'linked clone created' });
    view.stop();
    expect(out.text().split('\n').filter(Boolean)).toEqual([
      'build tiny 1/2 install: 0% install working',
      'build tiny 1/2 install: 40% install working',
      'build tiny 1/2 install: 50% install working',
      'build tiny 1/2 install: 100% install working',
      'build tiny 2/2 reset: 0% reset working',
      'build tiny 2/2 reset: 50% reset working',
      'build tiny 2/2 reset: 100% reset working',
      'clone web-1: 40% linked clone created',
    ]);
  });

  it('draws one bar per step with cli-progress when bars are wanted', async () => {
    const out = capture();
    Object.assign(out.stream, {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const view = await ProgressView.create({ stream: out.stream, bars: true });
    view.listener(build(1, 'install', 0.5));
    view.listener(build(2, 'reset', 1));
    view.stop();
    expect(out.text()).toMatch(/build tiny 1\/2 install \|[\u2588\u2591]{24}\| 100%/);
    expect(out.text()).toMatch(/build tiny 2\/2 reset \|\u2588{24}\| 100%/);
  });
});
