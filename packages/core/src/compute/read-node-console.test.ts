import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

describe('readNodeConsole', () => {
  it("reads a node's console through the provider's readNodeConsole, passing tailBytes", async () => {
    const p = provider();
    const asked: unknown[] = [];
    const service = await s.service({
      ...p,
      readNodeConsole: async (id: string, options?: { tailBytes?: number }) => {
        asked.push([id, options]);
        return 'login: ';
      },
    });
    const [node] = await service.createNodesInGroup('web', 1);
    expect(await service.readNodeConsole(node!.id, { tailBytes: 4096 })).toBe('login: ');
    expect(asked).toEqual([[node!.id, { tailBytes: 4096 }]]);
  });

  it('is NOT_FOUND for an unknown node, INVALID_ARGUMENT for a bad tailBytes, UNSUPPORTED naming the method without one', async () => {
    const p = provider();
    const service = await s.service({ ...p, readNodeConsole: async () => '' });
    const missing = await service.readNodeConsole('nope').catch((e: unknown) => e);
    expect(VmkitError.is(missing, 'NOT_FOUND')).toBe(true);
    const bad = await service.readNodeConsole('nope', { tailBytes: 0 }).catch((e: unknown) => e);
    expect([VmkitError.is(bad, 'INVALID_ARGUMENT'), (bad as VmkitError).details.field]).toEqual([
      true,
      'tailBytes',
    ]);
    const bare = await s.service(p);
    const error = await bare.readNodeConsole('nope').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/readNodeConsole/);
  });
});
