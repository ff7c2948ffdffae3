import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { masterSpecSchema } from '../validation/master-spec-schema.js';
import { redactText, redactUrl, scrubError } from './redact.js';
import { VmkitError } from './vmkit-error.js';

describe('redactUrl, redactText, scrubError', () => {
  it('hides userinfo, query values and the fragment of a URL, keeping host and path', () => {
    expect(redactUrl('https://user:pw@example.com:8443/a/b.iso?X-Amz-Signature=abc&v=1#tok')).toBe(
      'https://***@example.com:8443/a/b.iso?X-Amz-Signature=***&v=***',
    );
    expect(redactUrl('qemu+ssh://root:pw@host/system?keyfile=/k')).toBe(
      'qemu+ssh://***@host/system?keyfile=***',
    );
  });

  it('hides URLs, signatures and auth headers inside text', () => {
    const text = redactText(
      'GET http://u:secret@h/x?t=secret failed. Authorization: AWS4-HMAC-SHA256 Credential=AK/x, Signature=deadbeef',
    );
    expect(text).not.toMatch(/secret|deadbeef|AK\/x/);
    expect(text).toContain('http://***@h/x?t=***');
  });

  it('copies an error chain without responses, requests or echoed signatures', () => {
    const sdk = Object.assign(new Error('denied for http://u:secret@h/'), {
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403, requestId: 'r1', credentials: { secretAccessKey: 'secret' } },
      $response: { headers: { authorization: 'secret' } },
      SignatureProvided: 'secret',
      cause: Object.assign(new Error('socket'), { code: 'ECONNRESET', request: { body: 'secret' } }),
    });
    const wrapped = new VmkitError('STORE', 'S3 failed', { cause: scrubError(sdk) });
    const text = inspect(wrapped, { depth: Infinity, showHidden: true }) + JSON.stringify(wrapped);
    expect(text).not.toContain('secret');
    expect(wrapped.cause).toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403, requestId: 'r1' },
      cause: { message: 'socket', code: 'ECONNRESET' },
    });
  });

  it('keeps the fields named in options.keep as plain, redacted data', () => {
    const fault = { faultstring: 'no such machine', detail: { code: 7 }, at: 'http://u:secret@h/' };
    const soap = Object.assign(new Error('fault'), {
      root: { Envelope: { Body: { Fault: fault }, Header: { session: 'secret' } } },
      request: { body: '<password>secret</password>' },
    });
    const outer = new Error('outer', { cause: soap });
    const copy = scrubError(outer, { keep: ['root.Envelope.Body.Fault', 'missing.path'] });
    const inner = copy.cause as Error & { root?: unknown; missing?: unknown };
    expect(inner.root).toEqual({
      Envelope: { Body: { Fault: { ...fault, at: 'http://***@h/' } } },
    });
    expect(inner.missing).toBeUndefined();
    expect(inspect(copy, { depth: Infinity, showHidden: true }) + JSON.stringify(inner)).not.toContain(
      'secret',
    );
    // Without the option, the fault goes with everything else.
    expect((scrubError(soap) as { root?: unknown }).root).toBeUndefined();
  });

  it('keeps a VmkitError (same object and class), redacting it and scrubbing its causes, cycles too', () => {
    const raw = Object.assign(new Error('reset'), { code: 'ECONNRESET', config: { data: 'secret' } });
    const middle = new Error('wrapped', { cause: raw });
    raw.cause = middle; // a cycle
    const mine = new VmkitError('PROVIDER', 'GET http://u:secret@h/ failed', {
      cause: middle,
      details: { url: 'http://u:secret@h/', n: 1 },
    });
    const same = scrubError(mine);
    expect(same).toBe(mine);
    expect(same.message).toBe('GET http://***@h/ failed');
    expect(same.details).toEqual({ url: 'http://***@h/', n: 1 });
    expect((same.cause as Error).message).toBe('wrapped');
    expect(inspect(same, { depth: Infinity, showHidden: true }) + JSON.stringify(same)).not.toContain(
      'secret',
    );
    // A frozen one cannot be changed: it is copied instead.
    const frozen = Object.freeze(new VmkitError('STORE', 'x', { cause: raw }));
    const copy = scrubError(frozen);
    expect(copy).not.toBe(frozen);
    expect(VmkitError.is(copy, 'STORE')).toBe(true);
    expect(inspect(copy, { depth: Infinity, showHidden: true })).not.toContain('secret');
  });
});

describe('source.maxBytes', () => {
  it('is a positive whole number of bytes, named in the schema error', () => {
    const spec = (maxBytes: unknown) => ({
      id: 'a',
      os: { family: 'linux', version: '1', arch: 'x86_64' },
      source: { type: 'disk', url: 'https://example.com/d.qcow2', maxBytes },
    });
    expect(masterSpecSchema.safeParse(spec(1024)).success).toBe(true);
    for (const bad of [0, -1, 1.5, '10']) {
      const result = masterSpecSchema.safeParse(spec(bad));
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['source', 'maxBytes']);
    }
  });
});
