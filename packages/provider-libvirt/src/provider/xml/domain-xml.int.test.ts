import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DOMAIN_XML_CASES } from '../../../test-support/domain-xml-cases.js';
import { buildDomainXml } from './domain-xml.js';
import { dirPoolXml, volumeXml } from './storage-xml.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vmkit-xml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(xml: string, schema: string): Promise<string> {
  const file = join(dir, `${schema}-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const { stdout, stderr } = await run('virt-xml-validate', [file, schema]);
  return `${stdout}${stderr}`;
}

describe("generated XML against libvirt's RNG schemas (virt-xml-validate)", () => {
  for (const [name, spec] of Object.entries(DOMAIN_XML_CASES)) {
    it(`domain: ${name}`, async () => {
      expect(await validate(buildDomainXml(spec), 'domain')).toMatch(/validates/);
    });
  }

  it('storage pool and volumes (plain, overlay with backing store)', async () => {
    expect(await validate(dirPoolXml('vmkit', '/var/lib/libvirt/vmkit'), 'storagepool')).toMatch(/validates/);
    expect(
      await validate(volumeXml({ name: 'a.raw', capacityBytes: 4096, format: 'raw' }), 'storagevol'),
    ).toMatch(/validates/);
    const overlay = volumeXml({
      name: 'n.qcow2',
      capacityBytes: 1 << 30,
      format: 'qcow2',
      backing: { path: '/var/lib/libvirt/vmkit/m.qcow2', format: 'qcow2' },
    });
    expect(await validate(overlay, 'storagevol')).toMatch(/validates/);
  });

  it('rejects an invalid document (the validator is really checking)', async () => {
    await expect(validate('<domain type="qemu"><nonsense/></domain>', 'domain')).rejects.toThrow();
  });
});
