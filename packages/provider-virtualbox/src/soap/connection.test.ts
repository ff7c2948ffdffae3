import { isClosedError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { resolveVirtualBoxProviderOptions } from '../provider/virtualbox-provider-options.js';
import { VboxConnection } from './connection.js';

describe('VboxConnection', () => {
  it('refuses to log on after close with the one closed error, without a connection attempt', async () => {
    // Nothing listens there: a logon attempt would fail with a connection error instead.
    const conn = new VboxConnection(resolveVirtualBoxProviderOptions({ url: 'http://127.0.0.1:9/' }));
    const first = conn.close();
    expect(conn.close()).toBe(first);
    await first;
    const refused = await conn.api().catch((error: unknown) => error);
    expect(isClosedError(refused)).toBe(true);
    expect(refused).toMatchObject({ message: 'the VirtualBox connection to http://127.0.0.1:9/ is closed' });
  });
});
