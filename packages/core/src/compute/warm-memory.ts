import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import { sleep } from '../util/abort.js';

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
  dd if=/dev/zero of="$d/zero" bs=1048576 count="$n" 2>/dev/null
  rm -f "$d/zero"
  umount "$d"
  zeroed=$n
fi
rmdir "$d"
echo "VMKIT-WARM-ZERO $zeroed"
exit 0
`.replaceAll('@{', '${');

/** How long the zeroing may take (a few seconds for 200 MiB under TCG on a loaded host). */
const ZERO_TIMEOUT_MS = 180_000;
/** Pause between looks at the script. */
const POLL_MS = 100;

/**
 * Runs {@link WARM_ZERO_MEMORY_SCRIPT} in a warm template through its guest agent and waits for
 * it to end: the state must not be saved while the tmpfs is full. `TIMEOUT` (naming the node)
 * when it runs over three minutes, `PROVIDER` when the script fails to run at all.
 */
export async function zeroFreeGuestMemory(
  agent: GuestAgent,
  node: string,
  signal?: AbortSignal,
): Promise<void> {
  const pid = await agent.spawn(
    { path: '/bin/sh', args: ['-c', WARM_ZERO_MEMORY_SCRIPT] },
    signal ? { signal } : {},
  );
  const deadline = Date.now() + ZERO_TIMEOUT_MS;
  for (;;) {
    const status = await agent.processStatus(pid, signal ? { signal } : {});
    if (status.exited) {
      if (status.exitCode === 0) return;
      throw new VmkitError(
        'PROVIDER',
        `warm template ${node}: zeroing its free memory exited with ${status.exitCode ?? `signal ${status.signal}`}`,
        { details: { node } },
      );
    }
    if (Date.now() > deadline)
      throw new VmkitError(
        'TIMEOUT',
        `warm template ${node}: zeroing its free memory took over ${ZERO_TIMEOUT_MS} ms`,
        {
          details: { node },
        },
      );
    await sleep(POLL_MS, signal);
  }
}
