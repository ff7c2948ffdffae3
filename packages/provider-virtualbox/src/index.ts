/**
 * `@vmkit/provider-virtualbox`: vmkit's provider for VirtualBox, over its SOAP web service
 * (vboxwebsrv) through `virtualbox-soap`.
 *
 * @packageDocumentation
 */

export type { VboxMasterData } from './provider/master/master-build.js';
export { VirtualBoxProvider, virtualBoxProvider } from './provider/virtualbox-provider.js';
export type {
  ResolvedVirtualBoxProviderOptions,
  VirtualBoxProviderOptions,
} from './provider/virtualbox-provider-options.js';
