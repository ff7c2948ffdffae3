import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../../test-support/test-guest.js';
import { LibvirtClient } from '../../client/libvirt-client.js';
import { volumeXml } from '../xml/storage-xml.js';
import { isPoolBusy, PoolStorage } from './pool-storage.js';

// libvirt refuses to rescan a pool while a volume of any client is being built in it (a copy, an
// allocation: "pool has asynchronous jobs running"). On a shared host another process is often
// making a volume: vmkit's rescans (before reading a console log, before measuring free space)
// must wait for the job to end, not fail the build. Seen failing a real build under load before
// the fix. The job here: a full copy of a sparse 2 GiB volume (seconds of libvirt's own work).

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('busy');
const GiB = 2 ** 30;

describe('the pool rescan while another client uploads into the pool (qemu:///system)', () => {
  let uploader: LibvirtClient;
  let probe: LibvirtClient;
  let ours: LibvirtClient;
  beforeAll(async () => {
    [uploader, probe, ours] = await Promise.all([
      LibvirtClient.connect(URI),
      LibvirtClient.connect(URI),
      LibvirtClient.connect(URI),
    ]);
  });
  /** Every copy started, awaited before the sweep: libvirt refuses to delete a volume it is still building. */
  const copies: Promise<unknown>[] = [];
  afterAll(async () => {
    await Promise.allSettled(copies);
    await sweep(URI, prefix, POOL);
    await Promise.all([uploader?.close(), probe?.close(), ours?.close()]);
  });

  /** Starts a copy of a sparse 2 GiB volume and returns once libvirt refuses a rescan for it. */
  async function busyPool(name: string): Promise<{ copy: Promise<unknown> }> {
    const pool = await uploader.storage.poolLookupByName(POOL);
    const source = await uploader.storage.volCreateXml(
      pool,
      volumeXml({ name: `${prefix}${name}-src.raw`, capacityBytes: 2 * GiB, format: 'raw' }),
    );
    const copy = uploader.storage.volCreateXmlFrom(
      pool,
      volumeXml({ name: `${prefix}${name}-copy.raw`, capacityBytes: 2 * GiB, format: 'raw' }),
      source,
    );
    copies.push(copy);
    // Observed, not assumed: libvirt itself refuses a rescan now.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const refused = await probe.storage.poolRefresh(pool).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (refused !== undefined) {
        expect(isPoolBusy(refused), String(refused)).toBe(true);
        return { copy }; // wrapped: an async function returning the promise would wait for it
      }
      if (Date.now() > deadline) throw new Error('the copy never made the pool busy');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('waits until the job ends, then rescans', async () => {
    const { copy } = await busyPool('wait');
    // vmkit's rescan, on its own connection; its refusals are counted as libvirt answers them.
    let busyAnswers = 0;
    let sawBusy: () => void = () => {};
    const busySeen = new Promise<void>((r) => {
      sawBusy = r;
    });
    const refresh = ours.storage.poolRefresh.bind(ours.storage);
    ours.storage.poolRefresh = async (p) => {
      try {
        return await refresh(p);
      } catch (error) {
        if (isPoolBusy(error)) {
          busyAnswers++;
          sawBusy();
        }
        throw error;
      }
    };
    const storage = new PoolStorage(ours, POOL, '/unused-the-pool-exists');
    const rescanned = storage.refresh();
    await busySeen; // the rescan met the busy pool and is waiting
    await expect(rescanned).resolves.toBeUndefined();
    await copy;
    expect(busyAnswers).toBeGreaterThanOrEqual(1);
  });

  it('gives up when its signal fires while the pool stays busy', async () => {
    const { copy } = await busyPool('abort');
    const storage = new PoolStorage(ours, POOL, '/unused-the-pool-exists');
    const controller = new AbortController();
    let answers = 0;
    const refresh = ours.storage.poolRefresh.bind(ours.storage);
    ours.storage.poolRefresh = async (p) => {
      try {
        return await refresh(p);
      } catch (error) {
        if (isPoolBusy(error) && ++answers === 2) setImmediate(() => controller.abort()); // during the pause
        throw error;
      }
    };
    await expect(storage.refresh(controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(answers).toBe(2);
    await copy;
  });
});
