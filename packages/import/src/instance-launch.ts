import type { OperatingSystem, TemplateOptions } from '@vmkit/core';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import type { ImportDeps } from './import-runner.js';
import type { LiveTask } from './live-task.js';
import type { ImportInstanceRequest, LaunchSpecification } from './task-model.js';

/** The note a completed `importInstance` task without a compute service carries. */
export const NO_INSTANCE_NOTE = 'no compute service: volume import only, no instance launched';

/** Group names as the compute service accepts them (checked when the task starts, not after the conversion). */
const GROUP = /^[a-z][a-z0-9-]{0,46}$/;

/** AWS's `Platform` values of ImportInstance, each with the OS family it means. */
const PLATFORM_FAMILIES: Readonly<Record<string, string>> = Object.freeze({
  Linux: 'linux',
  Windows: 'windows',
});

/**
 * The guest OS of an `importInstance` request: `os` as given, else one of the `platform` family
 * (version `imported`, arch `x86_64`). `platform` must be one of AWS's values, `Linux` or
 * `Windows`, and agree with `os.family` when both are given; the bad field is named otherwise.
 */
export function instanceOs(req: Pick<ImportInstanceRequest, 'platform' | 'os'>): OperatingSystem | undefined {
  const { platform, os } = req;
  if (platform === undefined) return os;
  const family =
    typeof platform === 'string' && Object.hasOwn(PLATFORM_FAMILIES, platform)
      ? PLATFORM_FAMILIES[platform]
      : undefined;
  if (family === undefined) throw invalidArgument('platform', "must be 'Linux' or 'Windows' (AWS's values)");
  if (os === undefined) return { family, version: 'imported', arch: 'x86_64' };
  if (os?.family !== family) {
    throw invalidArgument(
      'platform',
      `is ${platform} but os.family is ${String(os?.family)}: they must agree`,
    );
  }
  return os;
}

/** Checks a launch specification before any work starts, naming the bad field. */
export function checkLaunchSpecification(spec: LaunchSpecification | undefined): void {
  if (spec === undefined) return;
  if (typeof spec !== 'object' || spec === null)
    throw invalidArgument('launchSpecification', 'must be an object');
  if (spec.group !== undefined && (typeof spec.group !== 'string' || !GROUP.test(spec.group)))
    throw invalidArgument('launchSpecification.group', `must match ${GROUP}`);
  if (spec.instanceType !== undefined && (typeof spec.instanceType !== 'string' || !spec.instanceType))
    throw invalidArgument('launchSpecification.instanceType', 'must be a hardware profile id');
}

/**
 * Launches `importInstance`'s instance (`launching`): one node of the registered image with the
 * requested hardware profile (`instanceType`, else the smallest that fits) and options, its id
 * recorded on the task. Without a compute service the task stays a volume import and says so.
 */
export async function launchInstance(
  task: LiveTask,
  spec: LaunchSpecification | undefined,
  deps: ImportDeps,
): Promise<void> {
  const r = task.record;
  const compute = deps.options.compute;
  if (!compute) {
    r.note = NO_INSTANCE_NOTE;
    return;
  }
  if (!compute.createNodesInGroup || !compute.templateBuilder)
    throw new VmkitError(
      'UNSUPPORTED',
      'compute: cannot launch instances (no createNodesInGroup/templateBuilder)',
    );
  await task.stage('launching', 97, `instance of ${r.imageId}`);
  const builder = compute.templateBuilder().imageId(r.imageId!);
  if (spec?.instanceType) builder.hardwareId(spec.instanceType);
  else builder.smallest();
  const options: TemplateOptions = { ...spec?.options };
  const template = await builder.options(options).build();
  const [node] = await compute.createNodesInGroup(spec?.group ?? 'import', 1, template, {
    signal: task.signal,
  });
  r.instanceId = node!.id;
  r.note = `instance ${node!.id} (${node!.name}) launched`;
}
