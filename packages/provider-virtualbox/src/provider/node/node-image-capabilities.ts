import type { NodeImageCapabilities } from '@vmkit/core/spi';

/**
 * What VirtualBox makes images from: stopped nodes, their current disk copied with
 * `IMedium.cloneToBase` (a new base VDI holding the whole differencing chain), sealed by one
 * post-install boot of the new master. A running machine holds its disk locked for writing, so
 * running nodes are refused by core with the reason.
 */
export const VBOX_NODE_IMAGE_CAPABILITIES: NodeImageCapabilities = Object.freeze({
  stopped: true,
  running: false,
  seal: true,
});
