import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  simOf,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../provider-virtualbox/test-support/vbox-env.js';
import { runCliProcess } from '../test-support/spawn-cli.js';
import { vboxProject } from '../test-support/vbox-project.js';

// `vmkit up --firmware` through the real binary, on the VirtualBox simulator (its machines'
// firmwareType is what VirtualBox would boot with).

let env: VboxTestEnv;
let dir: string;
let vars: NodeJS.ProcessEnv;
const cli = (...args: string[]) => runCliProcess(args, dir, vars);

beforeAll(async () => {
  env = await vboxTestEnv();
  const bios = await isoMasterSpec(env, 'tiny');
  const efi = {
    ...(await isoMasterSpec(env, 'tiny-efi')),
    hardware: { ...bios.hardware, firmware: 'efi' as const },
  };
  ({ dir, vars } = await vboxProject(env, [bios, efi]));
});
afterAll(async () => {
  await env?.close();
});

describe('vmkit up --firmware', () => {
  it('clones EFI nodes of an EFI image, and refuses a firmware the image was not built for (exit 2, naming the field and the rule)', async () => {
    const up = await cli('up', 'uefi', '-n', '1', '-i', 'tiny-efi', '--firmware', 'efi', '--json');
    expect(up.code, up.stderr).toBe(0);
    const [node] = JSON.parse(up.stdout) as Array<{ name: string; hardware: { firmware?: string } }>;
    expect(
      simOf(env)
        .machines()
        .find((m) => m.name.endsWith(node?.name as string))?.firmwareType,
    ).toBe('EFI');
    const mismatch = await cli('up', 'web', '-n', '1', '-i', 'tiny', '--firmware', 'efi');
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(
      /hardware\.firmware: must be the firmware of image tiny, bios \(got efi\)/,
    );
    const bad = await cli('up', 'web', '-n', '1', '--firmware', 'uefi');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--firmware <bios\|efi>' argument 'uefi' is invalid\. must be 'bios' or 'efi'/,
    );
  });
});
