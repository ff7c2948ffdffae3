import type { SnapshotCapabilities } from '@vmkit/core/spi';

/**
 * What VirtualBox snapshots: a stopped machine (offline) or a running one with its saved state
 * (`takeSnapshot` with `pause`: online); a restore needs a machine that is not running. Nodes
 * have no data volumes on VirtualBox.
 */
export const VBOX_SNAPSHOT_CAPABILITIES: SnapshotCapabilities = Object.freeze({
  stopped: true,
  runningWithMemory: true,
  runningDiskOnly: false,
  revertRunning: false,
  dataVolumes: false,
});
