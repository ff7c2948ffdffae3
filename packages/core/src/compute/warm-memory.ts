import { VmkitError } from '../errors/vmkit-error.js';
import { waitForStatus } from '../guest/agent-process.js';
import type { GuestAgent, GuestProcessStatus } from '../spi/guest-agent.js';

/**
 * The shell script (POSIX sh, busybox-compatible) that zeroes a warm template's free memory just
 * before its state is saved: a private tmpfs is filled with zeros up to the guest's free memory
 * less a margin (three times the kernel's `min_free_kbytes` and 4 MiB: above the kernel's
 * watermarks, so nothing runs out of memory and little page cache is evicted), then emptied and unmounted. Linux does not clear the pages it frees, so the guest's
 * free memory holds what ran at boot (the kernel's own unpacking, the initramfs, programs that
 * exited); QEMU's migration stream carries every page that is not all zeros in full and a zero
 * page in a few bytes, so the saved stream — read by every clone's restore — shrinks to the memory
 * in use. It prints `VMKIT-WARM-ZERO <MiB>` and exits 0 when it could not mount or fill (nothing
 * is zeroed then; the state is only larger).
 */
export const WARM_ZERO_MEMORY_SCRIPT = `
PATH=/usr/sbin:/usr/bin:/sbin:/bin
free=
while read -r key value unit; do
  case $key in MemFree:) free=$value; break ;; esac
done </proc/meminfo
case $free in '' | *[!0-9]*) echo "VMKIT-WARM-ZERO 0"; exit 0 ;; esac
min=1024
read -r min </proc/sys/vm/min_free_kbytes 2>/dev/null
case $min in '' | *[!0-9]*) min=1024 ;; esac
n=$(( (free - 3 * min - 4096) / 1024 ))
[ "$n" -gt 0 ] || { echo "VMKIT-WARM-ZERO 0"; exit 0; }
d=/run/vmkit-zero.$$
mkdir -m 700 "$d" || { echo "VMKIT-WARM-ZERO 0"; exit 0; }
zeroed=0
if mount -t tmpfs -o "size=@{n}m,mode=700" vmkit-zero "$d" 2>/dev/null; then
  dd if=/dev/zero of="$d/zero" bs=1048576 count="$n" 2>/dev/null &
  echo $! >"$d.dd"
  wait $!
  rm -f "$d/zero" "$d.dd"
  umount "$d"
  zeroed=$n
fi
rmdir "$d"
echo "VMKIT-WARM-ZERO $zeroed"
exit 0
`.replaceAll('@{', '${');

/**
 * How long the filling may take (a few seconds for 200 MiB under TCG on a loaded host); past it,
 * the filling is stopped and what was zeroed stands.
 */
const ZERO_TIMEOUT_MS = 180_000;
/** How long the script may take to empty and unmount its tmpfs once its filling was stopped. */
const STOP_GRACE_MS = 30_000;
/** Pause between looks at the script. */
const POLL_MS = 100;

/**
 * Runs {@link WARM_ZERO_MEMORY_SCRIPT} in a warm template through its guest agent and waits for
 * it to end: the state must not be saved while the tmpfs is full. Zeroing is an optimisation: a
 * filling that runs over three minutes (a large guest on a loaded host) is stopped (its `dd`
 * killed through the agent; the script then empties and unmounts the tmpfs) and the save goes on
 * with what was zeroed. `TIMEOUT` (naming the node) only when the script has still not ended half
 * a minute after that, `PROVIDER` when it fails.
 */
export async function zeroFreeGuestMemory(
  agent: GuestAgent,
  node: string,
  signal?: AbortSignal,
  limits: { readonly fillMs?: number; readonly graceMs?: number } = {},
): Promise<void> {
  const opts = signal ? { signal } : {};
  const pid = await agent.spawn({ path: '/bin/sh', args: ['-c', WARM_ZERO_MEMORY_SCRIPT] }, opts);
  const wait = (timeoutMs: number, timeoutError?: { message: string; details: { node: string } }) =>
    waitForStatus(agent, pid, {
      ...opts,
      timeoutMs,
      pauseMs: POLL_MS,
      ...(timeoutError ? { timeoutError } : {}),
    });
  let status: GuestProcessStatus;
  try {
    status = await wait(limits.fillMs ?? ZERO_TIMEOUT_MS);
  } catch (error) {
    // Only the filling's own time limit stops it; an abort or the agent's failure ends the wait.
    if (!VmkitError.is(error, 'TIMEOUT') || signal?.aborted) throw error;
    // The script's `dd` runs in the background with its pid in /run/vmkit-zero.<script pid>.dd.
    await agent.spawn(
      { path: '/bin/sh', args: ['-c', `kill "$(cat /run/vmkit-zero.${pid}.dd)" 2>/dev/null; exit 0`] },
      opts,
    );
    status = await wait(limits.graceMs ?? STOP_GRACE_MS, {
      message: `warm template ${node}: zeroing its free memory did not end after its filling was stopped`,
      details: { node },
    });
  }
  if (status.exitCode === 0) return;
  throw new VmkitError(
    'PROVIDER',
    `warm template ${node}: zeroing its free memory exited with ${status.exitCode ?? `signal ${status.signal}`}`,
    { details: { node } },
  );
}
