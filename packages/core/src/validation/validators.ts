import type { MasterRecord } from '../masters/master-record.js';
import type { Hardware } from '../model/hardware.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { TemplateOptions } from '../model/template.js';
import { masterRecordSchema } from './master-record-schema.js';
import { hardwareProfileSchema, masterSpecSchema } from './master-spec-schema.js';
import { parseOrThrow } from './parse.js';
import { templateOptionsSchema } from './template-options-schema.js';

// The zod-backed checks, loaded on first use (see load-validators.ts) so that importing
// `@vmkit/core` does not pay for zod. Each throws `INVALID_ARGUMENT` naming the field and the rule.

/** Checks a master spec; `label` prefixes field names. */
export function checkMasterSpec(input: unknown, label: string): MasterSpec {
  return parseOrThrow(masterSpecSchema, input, label);
}

/** Checks template options. */
export function checkTemplateOptions(input: unknown, label: string): TemplateOptions {
  return parseOrThrow(templateOptionsSchema, input, label);
}

/** Checks a hardware profile. */
export function checkHardware(input: unknown, label: string): Hardware {
  return parseOrThrow(hardwareProfileSchema, input, label);
}

/** Checks persisted master metadata (untrusted input). */
export function checkMasterRecord(input: unknown, label: string): MasterRecord {
  return parseOrThrow(masterRecordSchema, input, label);
}
