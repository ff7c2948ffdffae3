import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providerNamespace } from '../masters/master-repository.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { specHash } from '../util/canonical-json.js';
import { debianSpec, outcome, recordingLogger, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

const efiSpec = (id = 'efi') =>
  debianSpec(id, { hardware: { cores: 1, ramMiB: 256, diskGiB: 1, firmware: 'efi' } });

describe('hardware.firmware', () => {
  it('gives nodes their master firmware: bios by default, efi from the spec', async () => {
    const p = memoryProvider();
    const service = await s.service(p, { images: [debianSpec('bios'), efiSpec()] });
    expect((await service.getImage('efi'))?.defaultHardware.firmware).toBe('efi');
    const template = (imageId: string) => service.templateBuilder().imageId(imageId).build();
    const [plain] = await service.createNodesInGroup('plain', 1, await template('bios'));
    const [efi] = await service.createNodesInGroup('efi', 1, await template('efi'));
    expect(plain?.hardware.firmware).toBe('bios');
    expect(efi?.hardware.firmware).toBe('efi');
    // As the provider keeps it, not only as the call returned it.
    expect((await service.getNode(efi?.id as string))?.hardware.firmware).toBe('efi');
  });

  it('refuses a node asking for another firmware than its master, before anything is built', async () => {
    const p = memoryProvider();
    const service = await s.service(p, { images: [debianSpec('bios'), efiSpec()] });
    for (const [imageId, firmware] of [
      ['bios', 'efi'],
      ['efi', 'bios'],
    ] as const) {
      const template = await service
        .templateBuilder()
        .imageId(imageId)
        .options({ hardware: { firmware } })
        .build();
      expect(await outcome(service.createNodesInGroup('x', 1, template))).toMatch(
        new RegExp(
          `^INVALID_ARGUMENT hardware\\.firmware: .*installed for ${imageId} and does not boot under ${firmware}`,
        ),
      );
    }
    expect(p.stats.builds).toBe(0);
  });

  it('validates the field in specs and template options, naming it and the rule', async () => {
    const p = memoryProvider();
    expect(
      await outcome(s.service(p, { images: [debianSpec('x', { hardware: { firmware: 'uefi' as never } })] })),
    ).toMatch(/^INVALID_ARGUMENT .*hardware\.firmware.*must be 'bios' or 'efi'/);
    const service = await s.service(memoryProvider());
    expect(
      await outcome(service.createNodesInGroup('x', 1, { hardware: { firmware: 'legacy' as never } })),
    ).toMatch(/^INVALID_ARGUMENT .*hardware\.firmware.*must be 'bios' or 'efi'/);
  });

  it('refuses efi early on a provider whose capabilities lack it (nothing built, no node)', async () => {
    const p = memoryProvider();
    const caps = await p.capabilities();
    p.capabilities = async () => ({ ...caps, firmware: ['bios'] });
    const service = await s.service(p, { images: [efiSpec()] });
    expect(await outcome(service.ensureImage('efi'))).toMatch(
      /^UNSUPPORTED hardware\.firmware: hardware\.firmware: memory cannot boot efi firmware/,
    );
    expect(await outcome(service.createNodesInGroup('x', 1))).toMatch(/^UNSUPPORTED hardware\.firmware/);
    expect(p.stats.builds).toBe(0);
    expect(await service.listNodes()).toEqual([]);
  });

  it('quarantines a stored master record whose spec names an unknown firmware', async () => {
    const statePath = join(s.dir, 'hv.json');
    const a = await s.service(memoryProvider({ statePath }), { images: [efiSpec()] });
    await a.ensureImage('efi');
    await a.close();
    const prefix = `${providerNamespace(`memory:${statePath}`)}/`;
    const name = `${prefix}efi.json`;
    const record = JSON.parse((await (await s.store.getBlob('vmkit-images', name))?.text()) as string);
    const spec = { ...record.spec, hardware: { ...record.spec.hardware, firmware: 'uefi' } };
    await s.store.putBlob(
      'vmkit-images',
      name,
      JSON.stringify({ ...record, spec, specHash: specHash(spec) }),
    );
    const logger = recordingLogger();
    await s.service(memoryProvider({ statePath }), { images: [], logger });
    expect(logger.warnings.map((w) => String(w.fields?.reason))).toEqual(
      expect.arrayContaining([expect.stringMatching(/spec\.hardware\.firmware.*must be 'bios' or 'efi'/)]),
    );
  });
});
