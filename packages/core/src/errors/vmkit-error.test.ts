import { describe, expect, it } from 'vitest';
import {
  classifyErrorCode,
  closedError,
  invalidArgument,
  isClosedError,
  toVmkitError,
  VmkitError,
  type VmkitErrorCode,
} from './vmkit-error.js';

describe('VmkitError classification', () => {
  it.each<[VmkitErrorCode, boolean, string]>([
    ['NOT_FOUND', false, 'caller'],
    ['CONFLICT', false, 'caller'],
    ['INVALID_ARGUMENT', false, 'caller'],
    ['ABORTED', false, 'caller'],
    ['PROVIDER', false, 'service'],
    ['STORE', false, 'service'],
    ['CORRUPT', false, 'service'],
    ['TIMEOUT', true, 'environment'],
    ['UNSUPPORTED', false, 'environment'],
  ])('defaults %s to retryable=%s, fault=%s', (code, retryable, fault) => {
    const error = new VmkitError(code, 'x');
    expect(error.retryable).toBe(retryable);
    expect(error.fault).toBe(fault);
    expect(classifyErrorCode(code)).toEqual({ retryable, fault });
  });

  it('takes retryable and fault from the options over the code', () => {
    const error = new VmkitError('STORE', 'throttled', { retryable: true, fault: 'environment' });
    expect(error).toMatchObject({ code: 'STORE', retryable: true, fault: 'environment' });
  });

  it('serialises code, message, classification and details, not the cause', () => {
    const error = new VmkitError('PROVIDER', 'boom', { details: { node: 'n1' }, cause: new Error('inner') });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'VmkitError',
      code: 'PROVIDER',
      message: 'boom',
      retryable: false,
      fault: 'service',
      details: { node: 'n1' },
    });
  });

  it('keeps the Symbol.for brand, so is() works across copies of the class', () => {
    const foreign = Object.assign(new Error('x'), { code: 'TIMEOUT' });
    Object.defineProperty(foreign, Symbol.for('vmkit.error'), { value: true });
    expect(VmkitError.is(foreign, 'TIMEOUT')).toBe(true);
    expect(VmkitError.is(new Error('x'))).toBe(false);
  });
});

describe('error helpers', () => {
  it('invalidArgument names the field and the rule, and keeps a cause', () => {
    const cause = new Error('EACCES');
    const error = invalidArgument('path', 'must be writable', { path: '/x' }, { cause });
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'path: must be writable' });
    expect(error.details).toEqual({ field: 'path', path: '/x' });
    expect(error.cause).toBe(cause);
    expect(invalidArgument('a', 'b').cause).toBeUndefined();
  });

  it('closedError is one CONFLICT with reason closed, recognised by isClosedError', () => {
    const error = closedError('the libvirt client for qemu:///system', { uri: 'qemu:///system' });
    expect(error).toMatchObject({
      code: 'CONFLICT',
      message: 'the libvirt client for qemu:///system is closed',
      retryable: false,
      fault: 'caller',
    });
    expect(error.details).toEqual({ uri: 'qemu:///system', reason: 'closed' });
    expect(isClosedError(error)).toBe(true);
    expect(isClosedError(new VmkitError('CONFLICT', 'busy'))).toBe(false);
    expect(isClosedError(new Error('closed'))).toBe(false);
  });

  it('toVmkitError passes vmkit errors through and classifies by the fallback code', () => {
    const original = new VmkitError('TIMEOUT', 't');
    expect(toVmkitError(original, 'STORE', 'x')).toBe(original);
    expect(toVmkitError(new Error('disk full'), 'STORE', 'writing')).toMatchObject({
      code: 'STORE',
      message: 'writing: disk full',
      fault: 'service',
    });
  });
});
