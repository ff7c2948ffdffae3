/**
 * `@vmkit/provider-libvirt`: a vmkit provider for libvirt, over {@link LibvirtClient}, a
 * pure-TypeScript client of libvirt's remote RPC protocol (unix socket, TLS, TCP, SSH tunnel; no
 * native addon).
 *
 * Most callers need only {@link libvirtProvider}. The raw client ({@link LibvirtClient} and the
 * procedure groups it exposes) is public on purpose, for advanced callers who want libvirt calls
 * vmkit does not make; the wire layer under it (XDR, framing, transports) is not.
 *
 * @packageDocumentation
 */

// The provider
export { LibvirtProvider, libvirtProvider } from './provider/libvirt-provider.js';
export {
  DEFAULT_INSTALL_POWER_OFF_MS,
  DEFAULT_INSTALL_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  type LibvirtProviderOptions,
  type ResolvedLibvirtProviderOptions,
} from './provider/libvirt-provider-options.js';

// The raw client (advanced)
export {
  DomainEventId,
  DomainEventType,
  type DomainLifecycleEvent,
  type DomainLifecycleListener,
} from './client/domain-events.js';
export {
  DomainAffect,
  type DomainInterface,
  type DomainIpAddress,
  DomainMetadataType,
  DomainProcedures,
  DomainDiskErrorCode,
  DomainPausedReason,
  DomainShutoffReason,
  DomainState,
  DomainSaveFlags,
  DomainUndefineFlags,
  DomainXmlFlags,
  InterfaceAddressSource,
} from './client/domain-procedures.js';
export type { DomainHandle, NetworkHandle, StoragePoolHandle, StorageVolHandle } from './client/handles.js';
export { LibvirtClient, type LibvirtClientOptions } from './client/libvirt-client.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_COUNT,
  DEFAULT_KEEPALIVE_INTERVAL_MS,
  type ResolvedLibvirtClientOptions,
} from './client/libvirt-client-options.js';
export {
  type InterfaceHandle,
  InterfaceProcedures,
  LIST_INTERFACES_ACTIVE,
} from './client/interface-procedures.js';
export { NetworkProcedures } from './client/network-procedures.js';
export { QemuAgentTimeout, QemuProcedures } from './client/qemu-procedures-group.js';
export {
  DEFAULT_RECONNECT,
  type LibvirtReconnectOptions,
  type ResolvedReconnectPolicy,
} from './client/reconnect-policy.js';
export { RETRY_SAFE_PROCEDURES, wasInterrupted } from './client/retry-safety.js';
export {
  type StoragePoolInfo,
  StoragePoolState,
  StorageProcedures,
  type StorageVolInfo,
} from './client/storage-procedures.js';
export type { StreamTransferOptions, UploadSource } from './rpc/data-stream.js';
export type { LibvirtTlsOptions } from './transport/tls-credentials.js';

// Errors
export { LibvirtError, LibvirtErrorCode, type RemoteErrorInfo } from './errors/libvirt-error.js';
