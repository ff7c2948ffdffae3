import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('admits at most n holders, in arrival order', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    const a = await sem.acquire();
    const b = await sem.acquire();
    const c = sem.acquire().then((r) => {
      order.push(3);
      return r;
    });
    const d = sem.acquire().then((r) => {
      order.push(4);
      return r;
    });
    a();
    (await c)();
    b();
    (await d)();
    expect(order).toEqual([3, 4]);
  });

  it('drops an aborted waiter without losing a permit', async () => {
    const sem = new Semaphore(1);
    const held = await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    held();
    const again = await sem.acquire();
    again();
    expect(typeof again).toBe('function');
    // Both permits' worth of work can still proceed: nothing leaked.
    const x = await sem.acquire();
    x();
  });
});
