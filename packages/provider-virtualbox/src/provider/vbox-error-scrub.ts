import { VmkitError } from '@vmkit/core/spi';

/** Facts of a system or HTTP client error that hold no request data. */
const SAFE_FIELDS = ['code', 'errno', 'syscall', 'address', 'port', 'status'] as const;

/** How deep a chain of causes is followed (longer chains end in a note). */
const MAX_DEPTH = 8;

/** The parsed SOAP fault of a node-soap error (what `readFault` reads), copied as plain data. */
function faultOf(error: object): unknown {
  const fault = (error as { root?: { Envelope?: { Body?: { Fault?: unknown } } } }).root?.Envelope?.Body
    ?.Fault;
  if (fault === undefined || fault === null || typeof fault !== 'object') return undefined;
  try {
    return JSON.parse(JSON.stringify(fault));
  } catch {
    return undefined;
  }
}

function scrubOne(error: unknown, depth: number, seen: Set<unknown>): unknown {
  if (typeof error !== 'object' || error === null) return error;
  if (seen.has(error) || depth >= MAX_DEPTH) return new Error('(further causes left out)');
  seen.add(error);
  if (VmkitError.is(error)) {
    // Our own errors keep their class, code and details; only what they wrap is replaced.
    if (error.cause !== undefined)
      Object.defineProperty(error, 'cause', {
        value: scrubOne(error.cause, depth + 1, seen),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    return error;
  }
  const source = error as Error & Record<string, unknown>;
  const copy = new Error(typeof source.message === 'string' ? source.message : String(error));
  copy.name = typeof source.name === 'string' ? source.name : 'Error';
  if (typeof source.stack === 'string') copy.stack = source.stack;
  const extra: Record<string, unknown> = {};
  for (const field of SAFE_FIELDS) {
    const value = source[field];
    if (typeof value === 'string' || typeof value === 'number') extra[field] = value;
  }
  const fault = faultOf(source);
  if (fault !== undefined) extra.root = { Envelope: { Body: { Fault: fault } } };
  Object.assign(copy, extra);
  if (source.cause !== undefined) copy.cause = scrubOne(source.cause, depth + 1, seen);
  return copy;
}

/**
 * What may leave the VirtualBox transport of an error: node-soap and axios errors carry the HTTP
 * request (its body is the SOAP call: the logon's `<password>`, websession ids), its headers and
 * the response, at any depth of `cause`. The copy keeps only the message, name, stack, the system
 * error facts (`code`, `errno`, `syscall`, `address`, `port`, `status`) and the parsed SOAP fault
 * (`root.Envelope.Body.Fault`, which `readFault` reads), for each cause down the chain. A
 * {@link VmkitError} is kept (same object) with its `cause` replaced by the scrubbed copy.
 */
export function scrubTransportError(error: VmkitError): VmkitError;
export function scrubTransportError(error: unknown): unknown;
export function scrubTransportError(error: unknown): unknown {
  return scrubOne(error, 0, new Set());
}
