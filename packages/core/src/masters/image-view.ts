import type { Firmware, Hardware } from '../model/hardware.js';
import type { Image, ImageStatus } from '../model/image.js';
import type { MasterSpec } from '../model/master-spec.js';
import { publicLogin } from './login-secrets.js';
import type { MasterRecord } from './master-record.js';

/** The hardware nodes of an image get unless a template says otherwise. */
export function defaultHardwareOf(spec: MasterSpec): Hardware {
  return {
    id: `${spec.id}-default`,
    name: `${spec.name ?? spec.id} default`,
    cores: spec.hardware?.cores ?? 1,
    ramMiB: spec.hardware?.ramMiB ?? 512,
    diskGiB: spec.hardware?.diskGiB ?? 10,
    firmware: firmwareOf(spec),
  };
}

/** The firmware a master is built and booted with: its spec's, `bios` by default. */
export function firmwareOf(spec: MasterSpec): Firmware {
  return spec.hardware?.firmware ?? 'bios';
}

/** Builds the caller's view of an image. */
export function imageOf(
  spec: MasterSpec,
  hash: string,
  status: ImageStatus,
  detail: string | undefined,
  record: MasterRecord | undefined,
): Image {
  return Object.freeze({
    id: spec.id,
    name: spec.name ?? spec.id,
    os: spec.os,
    status,
    ...(detail ? { statusDetail: detail } : {}),
    defaultHardware: defaultHardwareOf(spec),
    ...(spec.login ? { login: publicLogin(spec.login) } : {}),
    specHash: hash,
    ...(record ? { builtAt: record.builtAt } : {}),
    ...(spec.warm ? { warm: warmView(record?.specHash === hash ? record.warm : undefined) } : {}),
  });
}

function warmView(state: MasterRecord['warm']): NonNullable<Image['warm']> {
  if (!state) return {};
  return { savedAt: state.savedAt, ...(state.stale ? { stale: true } : {}) };
}
