import { z } from 'zod';
import { configSchema } from './config-schema.js';

/** Where the JSON Schema of `vmkit.config.json` ships, inside the package. */
export const CONFIG_JSON_SCHEMA_FILE = 'schema/vmkit.config.schema.json';

/**
 * The JSON Schema of `vmkit.config.json`, generated from {@link configSchema} (the schema the
 * command line validates a config with), as `schema/vmkit.config.schema.json` holds it.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { target: 'draft-2020-12', io: 'input' }),
    title: 'vmkit.config.json',
  };
}

/** The file's text: the schema as 2-space JSON with a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
