// One "process" of the cross-process build tests, on the built packages: a compute service over
// a blob store and a fake hypervisor. Every progress event is printed as a JSON line (so the
// parent can wait for a phase and kill it), then one line with what it built. Run directly it
// uses a filesystem store (VMKIT_STORE); store-s3's variant imports this module and passes a
// bucket of its test server.
//
// Two modes:
// - `raceForImage` (default): asks for the first image of VMKIT_IMAGES on the hypervisor shared
//   through the file VMKIT_STATE, and prints `{ done: { builds, builtAt, ... } }`.
// - `fleetHost` (VMKIT_FLEET=1): one host of a fleet, as a real one runs: its own in-memory
//   hypervisor (id `memory:<VMKIT_HOST>`), `shareMasters: true`, every image of VMKIT_IMAGES asked
//   for at once (as many build slots as images) in its own random order once the parent writes `go` on stdin. It prints
//   `{ ready }` when its service is up, `{ order }`, the first progress event of each kind per
//   image, every log line (`{ log: { level, message, fields } }`), `{ image }` or `{ failed }`
//   per image, and `{ done }` with its provider's counters, the store calls it made and their
//   summed time (a counting wrapper around the store), its CPU time from `go` and the times of its
//   start-up phases, then exits 0 only when every image is ready.
const importStarted = performance.now();
const { createComputeService, VmkitError } = await import('@vmkit/core');
const { fileSystemBlobStore } = await import('@vmkit/core/blobstore');
const { memoryProvider } = await import('@vmkit/core/testing');
const importMs = performance.now() - importStarted;

/** The value of a required environment variable. */
export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** Asks for the first image of VMKIT_IMAGES over `store`, printing progress and the outcome. */
export async function raceForImage(store) {
  const provider = memoryProvider({
    statePath: env('VMKIT_STATE'),
    faults: { buildDelayMs: Number(env('VMKIT_BUILD_DELAY_MS')) },
  });
  const images = JSON.parse(env('VMKIT_IMAGES'));
  const service = await createComputeService({
    provider,
    store,
    images,
    ports: { leaseDir: env('VMKIT_LEASES'), probe: false },
    buildLease: { ttlMs: Number(env('VMKIT_LEASE_TTL_MS')), renewMs: 250 },
  });
  const started = Date.now();
  const image = await service.ensureImage(images[0].id, {
    onProgress: (event) => print({ event, at: Date.now() - started }),
  });
  const done = {
    pid: process.pid,
    builds: provider.stats.builds,
    builtAt: image.builtAt,
    ms: Date.now() - started,
  };
  print({ done });
  await service.close();
}

/** The store operations a fleet host counts (every other method is counted as `other`). */
const COUNTED = {
  list: 'list',
  getBlob: 'get',
  putBlob: 'put',
  removeBlob: 'remove',
  blobExists: 'exists',
  watchBlob: 'watch',
};

/**
 * `store` with every call counted into `counts` by operation (list, get, put, remove, exists,
 * other), and the time the calls took (until their promise settled) summed into `times`.
 */
export function countingStore(store, counts, times = {}) {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const op = COUNTED[property] ?? 'other';
      return (...args) => {
        counts[op] = (counts[op] ?? 0) + 1;
        const started = performance.now();
        const result = value.apply(target, args);
        const add = () => {
          times[op] = (times[op] ?? 0) + (performance.now() - started);
        };
        if (result && typeof result.then === 'function') result.then(add, add);
        else add();
        return result;
      };
    },
  });
}

/** Whole milliseconds per operation. */
const rounded = (record) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Math.round(v)]));

/** What a failure was, as plain JSON: its class, vmkit code, message and its cause's code. */
function describeError(error) {
  return {
    name: error?.constructor?.name ?? typeof error,
    vmkit: error instanceof VmkitError,
    code: error?.code,
    retryable: error?.retryable,
    message: String(error?.message ?? error),
    cause: error?.cause ? String(error.cause.code ?? error.cause.message ?? error.cause) : undefined,
  };
}

const untilGo = () =>
  new Promise((resolve, reject) => {
    let got = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => {
      got += d;
      if (got.includes('go')) resolve();
    });
    process.stdin.on('end', () =>
      got.includes('go') ? resolve() : reject(new Error('stdin closed before go')),
    );
  });

const shuffled = (items) => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

/** One host of a fleet over `store` (see the head of this file). */
export async function fleetHost(store) {
  const host = env('VMKIT_HOST');
  // Never outlive the test that started it, whatever happens to the parent.
  setTimeout(
    () => {
      print({ fatal: 'lifetime exceeded' });
      process.exit(3);
    },
    Number(env('VMKIT_MAX_MS')),
  ).unref();
  const counts = {};
  const times = {};
  let started;
  const providerStarted = performance.now();
  const provider = memoryProvider({
    id: `memory:${host}`,
    faults: { buildDelayMs: Number(env('VMKIT_BUILD_DELAY_MS')) },
  });
  const log =
    (level) =>
    (message, fields = {}) =>
      print({ log: { level, message, fields }, ...(started ? { at: Date.now() - started } : {}) });
  const images = JSON.parse(env('VMKIT_IMAGES'));
  const ttlMs = Number(env('VMKIT_LEASE_TTL_MS'));
  const serviceStarted = performance.now();
  const service = await createComputeService({
    provider,
    store: countingStore(store, counts, times),
    images,
    shareMasters: true,
    // Every image's request reaches the lease at once (the default allows 2 builds at a time).
    concurrency: { builds: images.length },
    ports: { leaseDir: env('VMKIT_LEASES'), probe: false },
    buildLease: { ttlMs },
    logger: { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') },
  });
  const startup = { ...counts };
  const startupTimes = { ...times };
  // Milliseconds since the process started: imports, the provider, the compute service (catalogue load).
  const phases = {
    importMs: Math.round(importMs),
    providerMs: Math.round(serviceStarted - providerStarted),
    serviceMs: Math.round(performance.now() - serviceStarted),
    readyAt: Math.round(performance.now()),
  };
  print({ ready: { host, pid: process.pid, phases } });
  await untilGo();
  const goAt = Math.round(performance.now());
  const cpuAtGo = process.cpuUsage();
  const order = shuffled(images.map((i) => i.id));
  print({ order });
  started = Date.now();
  const ask = async (id) => {
    const seen = new Set();
    const onProgress = (event) => {
      // The first event of each kind (a transfer's or build step's fractions are not repeated).
      const kind = `${event.phase}|${event.step ?? ''}|${event.fraction === undefined ? event.message : ''}`;
      if (seen.has(kind)) return;
      seen.add(kind);
      print({ event, ask: id, at: Date.now() - started });
    };
    try {
      const image = await service.ensureImage(id, { onProgress });
      print({ image: { id, status: image.status, ms: Date.now() - started } });
      return true;
    } catch (error) {
      print({ failed: { id, error: describeError(error) } });
      return false;
    }
  };
  const outcomes = await Promise.all(order.map(ask));
  const ms = Date.now() - started;
  const ops = Object.fromEntries(Object.entries(counts).map(([op, n]) => [op, n - (startup[op] ?? 0)]));
  const opMs = rounded(
    Object.fromEntries(Object.entries(times).map(([op, t]) => [op, t - (startupTimes[op] ?? 0)])),
  );
  const cpu = process.cpuUsage(cpuAtGo);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const { builds, imports } = provider.stats;
  print({
    done: {
      host,
      pid: process.pid,
      builds,
      imports,
      ms,
      ops,
      opMs,
      cpuMs,
      goAt,
      phases,
      startupOps: startup,
    },
  });
  await service.close();
  if (outcomes.includes(false)) process.exitCode = 1;
}

if (process.env.VMKIT_STORE) {
  const store = fileSystemBlobStore({ root: env('VMKIT_STORE'), durable: false });
  await (process.env.VMKIT_FLEET ? fleetHost(store) : raceForImage(store));
}
