import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../util/logger.js';
import { type AnswerServer, startAnswerServer } from './answer-server.js';

let server: AnswerServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The server's URL as the host reaches it (the guest's address replaced by loopback). */
const local = (s: AnswerServer) => s.url.replace('10.0.2.2', '127.0.0.1');

describe('startAnswerServer', () => {
  it('serves its files and calls under the random prefix only; a malformed escape is a 404, not a crash', async () => {
    server = await startAnswerServer({
      files: new Map([['preseed.cfg', Buffer.from('d-i foo\n')]]),
      logger: silentLogger,
      label: 'm',
      calls: ['done'],
    });
    const base = local(server);
    expect(await (await fetch(`${base}/preseed.cfg`)).text()).toBe('d-i foo\n');
    // A guest sees the prefix (it is on its kernel line): a bad escape must not throw in the host.
    expect((await fetch(`${base}/%E0%A4%A`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/preseed.cfg`)).status).toBe(404);
    expect((await fetch(`${base}/preseed.cfg`, { method: 'POST' })).status).toBe(404);
    for (let i = 0; i < 5; i++) expect((await fetch(`${base}/done`, { method: 'POST' })).status).toBe(204);
    // Still answering after all of that, and a repeated call is kept once.
    expect((await fetch(`${base}/preseed.cfg`, { method: 'HEAD' })).status).toBe(200);
    expect(server.calls).toEqual(['done']);
    expect(server.served).toEqual(['preseed.cfg', 'preseed.cfg']);
  });
});
