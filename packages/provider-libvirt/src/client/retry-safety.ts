import { VmkitError } from '@vmkit/core/spi';
import { RemoteProcedure as P } from '../rpc/procedures.js';
import { REMOTE_RPC_PROGRAM, type RpcProgram } from '../rpc/rpc-program.js';

/**
 * Procedures of the remote program the client sends again, on the next connection, when the connection was lost before
 * their reply came: reads and look-ups (they change nothing), and removals whose repeat after a
 * removal that did happen fails in a way every caller takes as done (`NOT_FOUND` for a deleted
 * volume or undefined domain, "not running" for a destroyed domain). Creations (`DEFINE_XML`,
 * `VOL_CREATE_XML`, starting a domain, uploads) are not: one that reached the daemon may have
 * happened, so the caller has to look before it creates again (their error is marked `details.interrupted`).
 */
export const RETRY_SAFE_PROCEDURES: ReadonlySet<number> = new Set([
  P.CONNECT_GET_TYPE,
  P.CONNECT_GET_VERSION,
  P.CONNECT_GET_CAPABILITIES,
  P.CONNECT_GET_HOSTNAME,
  P.CONNECT_GET_URI,
  P.CONNECT_GET_LIB_VERSION,
  P.CONNECT_GET_SYSINFO,
  P.CONNECT_SUPPORTS_FEATURE,
  P.CONNECT_LIST_ALL_DOMAINS,
  P.CONNECT_LIST_ALL_STORAGE_POOLS,
  P.CONNECT_LIST_ALL_NETWORKS,
  P.CONNECT_LIST_ALL_INTERFACES,
  P.DOMAIN_GET_XML_DESC,
  P.DOMAIN_LOOKUP_BY_NAME,
  P.DOMAIN_LOOKUP_BY_UUID,
  P.DOMAIN_IS_ACTIVE,
  P.DOMAIN_GET_STATE,
  P.DOMAIN_GET_METADATA,
  P.DOMAIN_INTERFACE_ADDRESSES,
  P.DOMAIN_DESTROY_FLAGS,
  P.DOMAIN_UNDEFINE_FLAGS,
  P.DOMAIN_SNAPSHOT_GET_XML_DESC,
  P.DOMAIN_SNAPSHOT_LOOKUP_BY_NAME,
  P.DOMAIN_HAS_CURRENT_SNAPSHOT,
  P.DOMAIN_SNAPSHOT_CURRENT,
  P.DOMAIN_LIST_ALL_SNAPSHOTS,
  P.NETWORK_GET_XML_DESC,
  P.NETWORK_LOOKUP_BY_NAME,
  P.NETWORK_IS_ACTIVE,
  P.INTERFACE_GET_XML_DESC,
  P.STORAGE_POOL_LOOKUP_BY_NAME,
  P.STORAGE_POOL_GET_INFO,
  P.STORAGE_POOL_GET_XML_DESC,
  P.STORAGE_POOL_IS_ACTIVE,
  P.STORAGE_POOL_REFRESH,
  P.STORAGE_POOL_LIST_ALL_VOLUMES,
  P.STORAGE_VOL_LOOKUP_BY_NAME,
  P.STORAGE_VOL_LOOKUP_BY_KEY,
  P.STORAGE_VOL_LOOKUP_BY_PATH,
  P.STORAGE_VOL_GET_INFO,
  P.STORAGE_VOL_GET_XML_DESC,
  P.STORAGE_VOL_GET_PATH,
  P.STORAGE_VOL_DELETE,
]);

/**
 * The error of a call whose connection was lost before its reply came: `PROVIDER`, `retryable`,
 * `details.interrupted` true. Whether the daemon did what was asked is unknown: a caller that
 * retries a creation looks first (by name) whether it happened.
 */
export function interruptedCall(
  procedure: number,
  lost: VmkitError,
  program: RpcProgram = REMOTE_RPC_PROGRAM,
): VmkitError {
  const name = program.procedureName(procedure);
  return new VmkitError(
    'PROVIDER',
    `libvirt ${name} was interrupted: ${lost.message}; it may or may not have taken effect`,
    {
      cause: lost,
      retryable: true,
      fault: 'environment',
      details: { procedure: name, interrupted: true },
    },
  );
}

/**
 * Whether a call of `procedure` of `program` may be sent again after a lost connection: only
 * {@link RETRY_SAFE_PROCEDURES} of the remote program (a guest agent command may have run).
 */
export function retrySafe(program: RpcProgram, procedure: number): boolean {
  return program.id === REMOTE_RPC_PROGRAM.id && RETRY_SAFE_PROCEDURES.has(procedure);
}

/** True when `error` is the error of a call interrupted by a lost connection (`details.interrupted`): it may or may not have taken effect. */
export function wasInterrupted(error: unknown): error is VmkitError {
  return VmkitError.is(error) && error.details.interrupted === true;
}
