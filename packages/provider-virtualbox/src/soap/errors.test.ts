import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import {
  hasResult,
  isNotFound,
  isSessionLost,
  networkCode,
  readFault,
  VBOX_RESULT,
  vboxError,
} from './errors.js';

// Errors shaped as node-soap throws them for vboxwebsrv's faults.
const runtimeFault = (code: number, text = 'text') => ({
  message: 'soap fault',
  root: {
    Envelope: {
      Body: {
        Fault: {
          faultcode: 'SOAP-ENV:Client',
          faultstring: `VirtualBox error: apirc=0x${code.toString(16)} ${text} (0x${code.toString(16)})`,
          detail: { RuntimeFault: { resultCode: String(code | 0), returnval: 'ref' } },
        },
      },
    },
  },
});
const URL = 'http://127.0.0.1:18083/';

describe('vboxError maps faults by result code, keeping the fault in the (scrubbed) cause', () => {
  it.each([
    [VBOX_RESULT.OBJECT_NOT_FOUND, 'NOT_FOUND'],
    [VBOX_RESULT.INVALID_VM_STATE, 'CONFLICT'],
    [VBOX_RESULT.INVALID_OBJECT_STATE, 'CONFLICT'],
    [VBOX_RESULT.INVALID_SESSION_STATE, 'CONFLICT'],
    [VBOX_RESULT.OBJECT_IN_USE, 'CONFLICT'],
    [VBOX_RESULT.ACCESS_DENIED, 'PROVIDER'],
    [VBOX_RESULT.FILE_ERROR, 'PROVIDER'],
  ])('0x%s', (code, expected) => {
    const raw = runtimeFault(code);
    const error = vboxError(raw, 'doing it', URL);
    expect(error.code).toBe(expected);
    expect(readFault(error.cause)).toEqual(readFault(raw));
    expect(error.message).toMatch(/^doing it: VirtualBox error: /);
    expect(error.details.resultCode).toBe(code);
  });

  it('reads the signed result code of the RuntimeFault detail as unsigned', () => {
    expect(readFault(runtimeFault(0x80bb0001))?.resultCode).toBe(0x80bb0001);
    expect(isNotFound(runtimeFault(0x80bb0001))).toBe(true);
    expect(
      hasResult(new VmkitError('PROVIDER', 'x', { details: { resultCode: 0x80bb0002 } }), 0x80bb0002),
    ).toBe(true);
  });

  it('an InvalidObjectFault is PROVIDER saying the websession is gone', () => {
    const raw = {
      root: {
        Envelope: {
          Body: { Fault: { faultstring: 'bad', detail: { InvalidObjectFault: { badObjectID: 'x' } } } },
        },
      },
    };
    const error = vboxError(raw, 'listing', URL);
    expect(error.code).toBe('PROVIDER');
    expect(error.message).toMatch(/no longer knows a reference/);
    expect(readFault(raw)?.invalidObject).toBe(true);
    // vboxwebsrv restarted: logging on again and trying again can succeed.
    expect(error.retryable).toBe(true);
    expect(isSessionLost(error)).toBe(true);
    expect(isSessionLost(raw)).toBe(true);
  });

  it('a refused connection is PROVIDER naming the endpoint', () => {
    const raw = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(networkCode({ cause: raw })).toBe('ECONNREFUSED');
    const error = vboxError(raw, 'logon', URL);
    expect(error.code).toBe('PROVIDER');
    expect(error.message).toBe(`logon: cannot reach vboxwebsrv at ${URL} (ECONNREFUSED)`);
    expect(error.retryable).toBe(true);
    expect(isSessionLost(error)).toBe(true);
    const reset = vboxError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'x', URL);
    expect(reset.retryable).toBe(true);
  });

  it('faults with a result code are not a lost session, and not retryable', () => {
    const error = vboxError(runtimeFault(0x80bb0001), 'finding', URL);
    expect(error.retryable).toBe(false);
    expect(isSessionLost(error)).toBe(false);
  });

  it('passes vmkit errors through and wraps anything else as PROVIDER', () => {
    const mine = new VmkitError('ABORTED', 'stop');
    expect(vboxError(mine, 'x', URL)).toBe(mine);
    expect(vboxError(new Error('odd'), 'x', URL).message).toBe(`x: odd (vboxwebsrv at ${URL})`);
  });
});
