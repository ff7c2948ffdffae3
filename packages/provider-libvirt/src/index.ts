/**
 * `@vmkit/provider-libvirt`: a vmkit provider for libvirt, over {@link LibvirtClient}, a
 * pure-TypeScript client of libvirt's remote RPC protocol (unix socket, TCP, SSH tunnel; no
 * native addon).
 *
 * @packageDocumentation
 */

export * from './client/domain-events.js';
export * from './client/domain-procedures.js';
export * from './client/handles.js';
export * from './client/libvirt-client.js';
export * from './client/network-procedures.js';
export type * from './client/rpc-caller.js';
export * from './client/storage-procedures.js';
export * from './errors/libvirt-error.js';
export * from './provider/domain-xml.js';
export * from './provider/libvirt-provider.js';
export * from './provider/libvirt-provider-options.js';
export * from './provider/node-metadata.js';
export * from './rpc/data-stream.js';
export * from './rpc/packet.js';
export * from './rpc/procedures.js';
export * from './rpc/protocol.js';
export * from './rpc/remote-error.js';
export * from './rpc/rpc-connection.js';
export * from './rpc/xdr/xdr-error.js';
export * from './rpc/xdr/xdr-reader.js';
export * from './rpc/xdr/xdr-writer.js';
export * from './transport/libvirt-uri.js';
export * from './transport/open-transport.js';
export * from './transport/ssh-command.js';
