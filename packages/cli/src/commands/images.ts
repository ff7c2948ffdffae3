import type { Image } from '@vmkit/core';
import { Command } from 'commander';
import { formatTable } from '../output/format.js';
import type { CliIo } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

function imageRows(images: readonly Image[]): string[][] {
  return [
    ['IMAGE', 'STATUS', 'OS', 'BUILT', 'WARM'],
    ...images.map((i) => [
      i.id,
      i.status,
      `${i.os.family} ${i.os.version} ${i.os.arch}`,
      i.builtAt ?? '-',
      warmColumn(i.warm),
    ]),
  ];
}

/** `-` for a cold image; `saved`, `not saved` or `stale` for a warm one (see docs/warm-clones.md). */
function warmColumn(warm: Image['warm']): string {
  if (!warm) return '-';
  if (warm.stale) return 'stale';
  return warm.savedAt ? 'saved' : 'not saved';
}

/** `vmkit images`: the configured and built images with their status. */
export function imagesCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('images').description('list images (configured or built) and their status'),
    'vmkit images --json | jq -r ".[].id"',
  );
  return defineAction(command, io, async (ctx) => {
    const { missingSources = {} } = await ctx.settings();
    const images = (await ctx.withService((service) => service.listImages(), { readOnly: true })).map(
      (image) => {
        const missing = image.status === 'buildable' ? missingSources[image.id] : undefined;
        return missing ? { ...image, status: 'broken' as const, statusDetail: missing.reason } : image;
      },
    );
    for (const image of images) {
      if (!ctx.json && image.status === 'broken' && image.statusDetail)
        ctx.note(`image ${image.id} is broken: ${image.statusDetail}`);
    }
    if (ctx.json) ctx.printJson(images);
    else
      ctx.print(
        images.length === 0 ? 'no images (add some to vmkit.config.json)' : formatTable(imageRows(images)),
      );
  });
}

/** `vmkit build IMAGE`: builds the image's master now (a bar per build step). */
export function buildCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('build')
      .description("build an image's master now, if it is not built yet (a progress bar per build step)")
      .argument('<image>', 'image id, as in vmkit images'),
    'vmkit build debian-12',
  );
  return defineAction(command, io, async (ctx, imageId: string) => {
    const { assertSourcePresent } = await import('../config/source-paths.js');
    assertSourcePresent(await ctx.settings(), imageId);
    const view = await ctx.progress();
    try {
      const image = await ctx.withService((service, signal) =>
        service.ensureImage(imageId, { signal, onProgress: view.listener }),
      );
      view.stop();
      if (ctx.json) ctx.printJson(image);
      else ctx.print(formatTable(imageRows([image])));
    } finally {
      view.stop();
    }
  });
}
