// Writes (or, with --check, compares) schema/vmkit.config.schema.json: the JSON Schema of
// vmkit.config.json, generated from the schema the command line validates configs with.
// Run from the repository: `npm run schema -w @vmkit/cli` (tests check that the file is fresh).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMA_FILE, configJsonSchemaText } from '../src/config/config-json-schema.js';

const file = fileURLToPath(new URL(`../${CONFIG_JSON_SCHEMA_FILE}`, import.meta.url));
const text = configJsonSchemaText();
if (process.argv.includes('--check')) {
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${file} is stale: run \`npm run schema -w @vmkit/cli\``);
    process.exit(1);
  }
} else {
  await writeFile(file, text);
  console.log(`wrote ${file}`);
}
