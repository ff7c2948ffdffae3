import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliPackageFile } from '../runtime/package-files.js';
import { CONFIG_JSON_SCHEMA_FILE, configJsonSchema, configJsonSchemaText } from './config-json-schema.js';
import { checkConfig } from './config-schema.js';

describe('the JSON Schema of vmkit.config.json', () => {
  it('is shipped fresh: the file is what the validating schema generates (npm run schema -w @vmkit/cli)', () => {
    expect(readFileSync(cliPackageFile(CONFIG_JSON_SCHEMA_FILE), 'utf8')).toBe(configJsonSchemaText());
  });

  it('is in the package (listed in package.json files)', () => {
    const pkg = JSON.parse(readFileSync(cliPackageFile('package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain(CONFIG_JSON_SCHEMA_FILE.split('/')[0]);
  });

  it('states the rules the command line checks: known keys only, the same patterns, $schema allowed', () => {
    type Section = { properties?: Record<string, { pattern?: string; const?: string }> };
    const schema = configJsonSchema() as {
      additionalProperties: boolean;
      properties: Record<string, Section & { anyOf?: Section[]; additionalProperties?: boolean }>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(['$schema', 'provider', 'store', 'images', 'ports']);
    // The provider is libvirt's or VirtualBox's options, chosen by type; other options pass through.
    const [libvirt, virtualbox] = schema.properties.provider?.anyOf ?? [];
    expect(libvirt?.properties?.type?.const).toBe('libvirt');
    expect(virtualbox?.properties?.type?.const).toBe('virtualbox');
    const prefix = new RegExp(libvirt?.properties?.namePrefix?.pattern as string);
    expect(prefix.test('vmkit-')).toBe(true);
    expect(prefix.test('a b')).toBe(false);
    expect(() => checkConfig({ provider: { namePrefix: 'a b' } })).toThrow(
      'provider.namePrefix: must be 1-20',
    );
  });

  it('the config of docs/cli.md, $schema included, passes the check', () => {
    const doc = readFileSync(cliPackageFile('../../docs/cli.md'), 'utf8');
    const block = /```json\n([\s\S]*?)```/.exec(doc)?.[1] as string;
    const config = JSON.parse(block) as { $schema: string };
    expect(config.$schema).toBe(`./node_modules/@vmkit/cli/${CONFIG_JSON_SCHEMA_FILE}`);
    expect(() => checkConfig(config)).not.toThrow();
  });

  it('every config of docs/cli.md (libvirt, VirtualBox) passes the check', () => {
    const doc = readFileSync(cliPackageFile('../../docs/cli.md'), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] as string));
    expect(blocks.map((b: { provider?: { type?: string } }) => b.provider?.type)).toEqual(
      expect.arrayContaining(['libvirt', 'virtualbox']),
    );
    for (const config of blocks) expect(() => checkConfig(config)).not.toThrow();
  });
});
