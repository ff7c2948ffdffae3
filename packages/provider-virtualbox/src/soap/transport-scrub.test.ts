import { inspect } from 'node:util';
import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { isNotFound, networkCode, readFault, vboxError } from './errors.js';

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

describe('vboxError scrubs what the transport threw (scrubError keeping the SOAP fault)', () => {
  it('keeps message, code, system facts and the SOAP fault; drops request, headers, response and body', () => {
    const error = vboxError(axiosLike(), 'logon', 'http://127.0.0.1:18083/');
    const scrubbed = error.cause as Error;
    const text = `${inspect(error, { depth: Infinity, showHidden: true })}${JSON.stringify(scrubbed)}`;
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
    const same = vboxError(error, 'listing nodes', 'http://127.0.0.1:18083/');
    expect(same).toBe(error);
    expect(same.details).toEqual({ url: 'u' });
    expect(inspect(same, { depth: Infinity, showHidden: true })).not.toContain(SECRET);
  });

  it('keeps a fault readable through the VmkitError it becomes', () => {
    const raw = axiosLike();
    delete (raw as { code?: string }).code;
    raw.cause = undefined;
    const error = vboxError(raw, 'finding', 'http://127.0.0.1:18083/');
    expect(VmkitError.is(error, 'NOT_FOUND')).toBe(true);
    expect(isNotFound(error)).toBe(true);
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.toContain(SECRET);
  });
});
