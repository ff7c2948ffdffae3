import { describe, expect, it } from 'vitest';
import {
  LibvirtErrorCode as C,
  classifyLibvirtCode,
  connectionError,
  LibvirtError,
} from './libvirt-error.js';

const remote = (code: number) =>
  new LibvirtError({ code, domain: 10, message: 'm', level: 2, int1: 0, int2: 0 }, 'DOMAIN_CREATE');

describe('libvirt error classification', () => {
  it.each([
    [C.NO_DOMAIN, 'NOT_FOUND', false, 'caller'],
    [C.NO_STORAGE_VOL, 'NOT_FOUND', false, 'caller'],
    [C.DOM_EXIST, 'PROVIDER', false, 'caller'],
    [C.OPERATION_INVALID, 'PROVIDER', false, 'caller'],
    [C.XML_ERROR, 'PROVIDER', false, 'caller'],
    [C.NO_CONNECT, 'PROVIDER', true, 'environment'],
    [C.RPC, 'PROVIDER', true, 'environment'],
    [C.OPERATION_TIMEOUT, 'PROVIDER', true, 'environment'],
    [C.RESOURCE_BUSY, 'PROVIDER', true, 'environment'],
    [C.AUTH_FAILED, 'PROVIDER', false, 'environment'],
    [C.ACCESS_DENIED, 'PROVIDER', false, 'environment'],
    [C.NO_SUPPORT, 'PROVIDER', false, 'environment'],
    [C.INTERNAL_ERROR, 'PROVIDER', false, 'service'],
    [C.OPERATION_FAILED, 'PROVIDER', false, 'service'],
  ])('libvirt code %i is %s, retryable=%s, fault=%s', (code, vmkitCode, retryable, fault) => {
    const error = remote(code);
    expect(error).toMatchObject({ code: vmkitCode, retryable, fault, libvirtCode: code });
    expect(classifyLibvirtCode(code)).toEqual({ retryable, fault });
  });

  it('calls an unknown code the hypervisor fault, final', () => {
    expect(classifyLibvirtCode(9999)).toEqual({ retryable: false, fault: 'service' });
  });

  it('makes connection failures retryable: the client reconnects on the next call', () => {
    const cause = new Error('ECONNRESET');
    expect(connectionError('connection to libvirtd lost', cause)).toMatchObject({
      code: 'PROVIDER',
      retryable: true,
      fault: 'environment',
      cause,
    });
  });
});
