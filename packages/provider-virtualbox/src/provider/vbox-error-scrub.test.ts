import { inspect } from 'node:util';
import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { scrubTransportError } from './vbox-error-scrub.js';
import { networkCode, readFault } from './vbox-errors.js';

const SECRET = 'pw-S3cr3t-993';
const body = `<SOAP-ENV:Envelope><vbox:IWebsessionManager_logon><password>${SECRET}</password></vbox:IWebsessionManager_logon></SOAP-ENV:Envelope>`;

// Shaped as axios and node-soap throw them: the request config, the client request and the
// response hang off the error, the system error is its cause.
function axiosLike(): Error {
  const system = Object.assign(new Error('read ECONNRESET'), {
    code: 'ECONNRESET',
    errno: -104,
    syscall: 'read',
  });
  const error = Object.assign(new Error('read ECONNRESET'), {
    code: 'ECONNRESET',
    config: { data: body, headers: { Authorization: `Basic ${SECRET}`, SOAPAction: '""' } },
    request: {
      _header: `POST / HTTP/1.1\r\nAuthorization: Basic ${SECRET}\r\n`,
      outputData: [{ data: body }],
    },
    response: { config: { data: body }, data: '<fault/>' },
    body,
    root: {
      Envelope: {
        Body: { Fault: { faultstring: 'boom', detail: { RuntimeFault: { resultCode: '-2135228415' } } } },
      },
    },
  });
  error.cause = system;
  return error;
}

describe('scrubTransportError', () => {
  it('keeps message, code, system facts and the SOAP fault; drops request, headers, response and body', () => {
    const scrubbed = scrubTransportError(axiosLike()) as Error;
    const text = `${inspect(scrubbed, { depth: Infinity, showHidden: true })}${JSON.stringify(scrubbed)}`;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('<password>');
    expect(scrubbed.message).toBe('read ECONNRESET');
    expect(networkCode(scrubbed)).toBe('ECONNRESET');
    expect((scrubbed.cause as { syscall?: string }).syscall).toBe('read');
    expect(readFault(scrubbed)?.resultCode).toBe(0x80bb0001);
  });

  it('scrubs the causes of a VmkitError in place, at any depth, and survives cycles', () => {
    const raw = axiosLike();
    const middle = new Error('wrapped', { cause: raw });
    (raw.cause as Error).cause = middle; // a cycle
    const error = new VmkitError('PROVIDER', 'listing nodes', { cause: middle, details: { url: 'u' } });
    const same = scrubTransportError(error);
    expect(same).toBe(error);
    expect(same.details).toEqual({ url: 'u' });
    expect(inspect(same, { depth: Infinity, showHidden: true })).not.toContain(SECRET);
  });

  it('leaves values that are not objects as they are', () => {
    expect(scrubTransportError('text')).toBe('text');
    expect(scrubTransportError(undefined)).toBe(undefined);
  });
});
