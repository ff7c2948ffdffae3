/** VirtualBox result codes the simulator answers with (unsigned, as the SDK reference lists them). */
export const ResultCode = Object.freeze({
  E_INVALIDARG: 0x80070057,
  E_ACCESSDENIED: 0x80070005,
  E_FAIL: 0x80004005,
  VBOX_E_OBJECT_NOT_FOUND: 0x80bb0001,
  VBOX_E_INVALID_VM_STATE: 0x80bb0002,
  VBOX_E_FILE_ERROR: 0x80bb0004,
  VBOX_E_IPRT_ERROR: 0x80bb0005,
  VBOX_E_INVALID_OBJECT_STATE: 0x80bb0007,
  VBOX_E_NOT_SUPPORTED: 0x80bb0009,
  VBOX_E_INVALID_SESSION_STATE: 0x80bb000b,
  VBOX_E_OBJECT_IN_USE: 0x80bb000c,
});

/**
 * A fault the simulator answers with. `kind` picks the SOAP shape: `runtime` is vboxwebsrv's
 * RuntimeFault (a result code and an IVirtualBoxErrorInfo reference), `invalidObject` its
 * InvalidObjectFault, `client` a gSOAP validation fault (faultcode `SOAP-ENV:Client`, no detail),
 * `server` a bare fault without detail (what a failed logon gets). `misuse` marks a request that
 * broke a rule of the API (counted as rejected) as opposed to an answer a careful client can get
 * (an unknown name, a lock held by someone else).
 */
export class SimFault extends Error {
  constructor(
    readonly kind: 'runtime' | 'invalidObject' | 'client' | 'server',
    message: string,
    readonly resultCode = 0,
    readonly misuse = true,
    readonly badObjectId = '',
  ) {
    super(message);
  }
}

/** A RuntimeFault with a result code; `misuse` false for answers that are not the client's fault. */
export function runtime(code: number, text: string, misuse = false): SimFault {
  return new SimFault('runtime', text, code, misuse);
}

/** A RuntimeFault for a request that broke an API rule (counted as rejected). */
export function violation(code: number, text: string): SimFault {
  return new SimFault('runtime', text, code, true);
}

/** vboxwebsrv's InvalidObjectFault for a reference it does not know (counted as rejected). */
export function invalidObject(ref: string): SimFault {
  return new SimFault('invalidObject', `Invalid managed object reference "${ref}"`, 0, true, ref);
}

/** A gSOAP validation fault (counted as rejected). */
export function clientFault(text: string): SimFault {
  return new SimFault('client', text, 0, true);
}
