/**
 * `@vmkit/provider-virtualbox`: vmkit's provider for VirtualBox, over its SOAP web service
 * (vboxwebsrv) through `virtualbox-soap`.
 *
 * @packageDocumentation
 */

export type { VboxMasterData } from './provider/master/master-build.js';
export { VirtualBoxProvider, virtualBoxProvider } from './provider/virtualbox-provider.js';
export {
  DEFAULT_INSTALL_TIMEOUT_MS,
  DEFAULT_LOCK_RETRIES,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_RECONCILE_AFTER_MS,
  DEFAULT_RECONNECT_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  type ResolvedVirtualBoxProviderOptions,
  type VirtualBoxProviderOptions,
} from './provider/virtualbox-provider-options.js';
