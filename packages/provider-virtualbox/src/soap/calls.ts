import { raceAbort, VmkitError } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import type { VboxApi } from './connection.js';
import { codeForResult } from './errors.js';

/** What `virtualbox-soap`'s generated classes carry: the SOAP client and the reference. */
interface Wrapped {
  __client: unknown;
  __object: string;
  __invoke(name: string, args: Record<string, unknown>): Promise<Record<string, unknown> | null>;
}

function wrapped(object: vbox.RootClass): Wrapped {
  return object as unknown as Wrapped;
}

/** The managed object reference of a wrapped object. */
export function refOf(object: vbox.RootClass): string {
  return wrapped(object).__object;
}

/** Wraps a plain reference (as struct results carry them) in one of `virtualbox-soap`'s classes. */
export function wrap<T extends vbox.RootClass>(
  Class: new (client: unknown, ref: string) => T,
  like: vbox.RootClass,
  ref: string,
): T {
  return new Class(wrapped(like).__client, ref);
}

function list<T>(value: unknown): T[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]) as T[];
}

/** One medium attachment, its references plain strings. */
export interface Attachment {
  readonly medium: string;
  readonly controller: string;
  readonly port: number;
  readonly device: number;
  readonly type: string;
}

/**
 * `IMachine.getMediumAttachments`: the generated method fails on an empty answer (node-soap
 * decodes it as `null`), so the call is made directly.
 */
export async function mediumAttachments(machine: vbox.IMachine): Promise<Attachment[]> {
  const r = await wrapped(machine).__invoke('IMachine_getMediumAttachments', { _this: refOf(machine) });
  return list<Record<string, unknown>>(r?.returnval).map((a) => ({
    medium: String(a.medium ?? ''),
    controller: String(a.controller ?? ''),
    port: Number(a.port),
    device: Number(a.device),
    type: String(a.type),
  }));
}

/** `IMachine.enumerateGuestProperties` (same `null` issue): name → value. */
export async function guestProperties(
  machine: vbox.IMachine,
  patterns: string,
): Promise<Map<string, string>> {
  const r = await wrapped(machine).__invoke('IMachine_enumerateGuestProperties', {
    patterns,
    _this: refOf(machine),
  });
  const names = list<string>(r?.names);
  const values = list<string>(r?.values);
  return new Map(names.map((n, i) => [String(n), String(values[i] ?? '')]));
}

/** `IMedium.getMachineIds` (same `null` issue): the machines using a medium. */
export async function machineIdsOf(medium: vbox.IMedium): Promise<string[]> {
  const r = await wrapped(medium).__invoke('IMedium_getMachineIds', { _this: refOf(medium) });
  return list<string>(r?.returnval).map(String);
}

/**
 * Waits for an IProgress to complete and turns a failed result into a {@link VmkitError} coded
 * by its result code. On abort, stops waiting (the operation itself finishes on the server).
 */
export async function waitProgress(
  progress: vbox.IProgress | null,
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  if (!progress) return;
  await raceAbort(progress.waitForCompletion(-1), signal, what);
  const rc = Number(await progress.getResultCode()) >>> 0;
  if (rc === 0) return;
  let text = '';
  try {
    const info = await progress.getErrorInfo();
    text = info ? await info.getText() : '';
  } catch {
    text = '';
  }
  throw new VmkitError(codeForResult(rc), `${what}: ${text || 'failed'} [0x${rc.toString(16)}]`, {
    details: { resultCode: rc },
  });
}

/** Closes a DVD image in VirtualBox's media registry (the file stays); not registered is fine. */
export async function closeDvd(api: VboxApi, path: string): Promise<void> {
  try {
    const dvd = await api.vbox.openMedium(
      path,
      'DVD' as vbox.DeviceType,
      'ReadOnly' as vbox.AccessMode,
      false,
    );
    await dvd.close();
  } catch {
    // Not registered (any more): nothing to close.
  }
}

/** `ISnapshot.getChildren` (same `null` issue for a snapshot without children): their references. */
export async function snapshotChildRefs(snapshot: vbox.ISnapshot): Promise<string[]> {
  const r = await wrapped(snapshot).__invoke('ISnapshot_getChildren', { _this: refOf(snapshot) });
  return list<unknown>(r?.returnval).map(String);
}
