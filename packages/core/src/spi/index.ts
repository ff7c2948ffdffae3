/**
 * `@vmkit/core/spi`: what a hypervisor provider implements and the helpers it may use. See the
 * guide "Writing a provider"; every provider passes `describeProviderContract` from
 * `@vmkit/core/contract`.
 *
 * @packageDocumentation
 */

// The contract
export type { CloneSpec } from './clone-spec.js';
export type {
  ProviderWarmClones,
  SavedWarmState,
  WarmCloneResult,
  WarmStateRef,
} from './warm-clones.js';
export type { BoundSharedFolder, SharedFolderType } from '../model/shared-folder.js';
export { type SshEndpoint, sshEndpointOf } from '../guest/ssh/ssh-endpoint.js';
export type {
  GuestAgent,
  GuestAgentAccess,
  GuestAgentCallOptions,
  GuestFileChunk,
  GuestInterface,
  GuestInterfaceAddress,
  GuestProcessStatus,
  GuestSpawnRequest,
  ProviderGuestAccess,
} from './guest-agent.js';
export type {
  HostNetwork,
  HypervisorProvider,
  ProviderCapabilities,
  ProviderHost,
  ProviderNode,
} from './hypervisor-provider.js';
export {
  type BuildContext,
  type BuildStep,
  type MasterBuild,
  type MasterRef,
  STANDARD_BUILD_STEPS,
  type StandardBuildStep,
  standardStepSkipReason,
} from './master-build.js';
export type { MasterDiskExport, MasterDiskExportOptions, ProviderMasterExport } from './master-export.js';
export type { MasterDiskImport, ProviderMasterImport } from './master-import.js';
export type { NodeConsoleOptions, ProviderNodeConsole } from './node-console.js';
export {
  assertFreeSpace,
  GROWING_VOLUME_FLOOR_BYTES,
  isNoSpaceError,
  type NoSpaceFacts,
  noSpaceError,
  type SpaceNeed,
  type WritePlace,
} from './free-space.js';
export { masterRefError } from './master-ref-error.js';
export {
  GUEST_CLEANUP_STEPS,
  type GuestCleanupReport,
  type GuestCleanupStep,
  readGuestCleanup,
} from './guest-cleanup.js';
export { type GuestCleanupOutcome, reportGuestCleanup } from './guest-cleanup-report.js';
export { type PostInstallScriptOptions, postInstallScript } from './post-install-script.js';
export {
  type BuildRecord,
  MAX_NODE_RECORD_CHARS,
  NODE_RECORD_VERSION,
  type NodeRecord,
  type NodeRecordCodec,
  type NodeRecordExtension,
  newNodeRecord,
  nodeRecordCodec,
  recordedNode,
  type StoredRecord,
} from './node-record.js';
export type { CheckedNodeFields, NodeWarmOutcome } from './node-record-check.js';
export {
  nodeRecordError,
  onlyKeys,
  recordArray,
  recordObject,
  recordString,
} from './node-record-fields.js';
export type { DiskBytes, ProviderArtefact, ProviderHousekeeping } from './provider-artefacts.js';
export {
  type NodeImageCapabilities,
  type NodeImageRequest,
  type ProviderNodeImages,
  sealContext,
} from './node-images.js';
export type { ProviderNodeSnapshots, SnapshotCapabilities, SnapshotRequest } from './node-snapshots.js';

// Running a build as core does (for a provider's own tests)
export { type MasterBuildRunOptions, runMasterBuild } from '../masters/master-build-pipeline.js';

// Helpers that providers and vmkit's packages share: errors, aborts, progress, concurrency, options, MACs
export { randomMac } from '../compute/network-binding.js';
export {
  classifyErrorCode,
  closedError,
  invalidArgument,
  isAbortError,
  isClosedError,
  toVmkitError,
  VmkitError,
  type VmkitErrorClass,
  type VmkitErrorCode,
  type VmkitErrorFault,
  type VmkitErrorOptions,
} from '../errors/vmkit-error.js';
export { redactText, redactUrl, type ScrubErrorOptions, scrubError } from '../errors/redact.js';
export {
  hostPortUnbindable,
  type UnbindableHostPort,
  unbindableHostPort,
} from '../errors/host-port-error.js';
export {
  DEFAULT_DOWNLOAD_MAX_BYTES,
  DEFAULT_MAX_REDIRECTS,
  type DownloadOptions,
  type OpenedDownload,
  openDownload,
} from './download.js';
export { type DownloadFileOptions, downloadFile } from './download-file.js';
export { abortedError, raceAbort, sleep, throwIfAborted } from '../util/abort.js';
export { waitForExit } from '../guest/agent-process.js';
export { isRetryable, type RetryOptions, retryRetryable } from '../util/retry.js';
export { mapLimit, mapSettled } from '../util/concurrency.js';
export { checkInteger, type IntegerRule, integerOption } from '../util/integer-option.js';
export { Lifecycle, type LifecycleHooks, type LifecycleState } from '../util/lifecycle.js';
export { type PrivateFileName, writeNewPrivateFile } from '../util/private-file.js';
export { combineListeners, emitProgress } from '../util/progress.js';

// Inside nodes: shell text, script output and guest addresses, as core's transports build them
export {
  asUserCommand,
  checkGuestPath,
  checkScriptRequest,
  isRootUser,
  MAX_OUTPUT_BYTES_LIMIT,
  SETUP_FAILURE_EXIT,
  scriptShellText,
  setupFailure,
  setupFailureError,
  shellCommand,
  shellQuote,
} from '../guest/shell-command.js';
export {
  type CopyDigest,
  CopyHasher,
  checkCopyInOptions,
  copyFinishError,
  copyFinishText,
  GUEST_CHECK_PROGRAM,
  sameHashText,
  tempBeside,
} from '../guest/copy-steps.js';
export {
  DEFAULT_MAX_OUTPUT_BYTES,
  OutputCollector,
  type PartialScriptOutput,
  ScriptOutput,
} from '../guest/output-collector.js';
export {
  isPrivateAddress,
  isReportableAddress,
  nicAddressesFromGuest,
  splitNicAddresses,
} from '../guest/nic-addresses-from-guest.js';

// Names whose home is `@vmkit/core`, repeated here so that a provider needs this entry only: the
// model the contract speaks in, vmkit's errors, logging and progress (see `api/re-exports.json`)
export type { ConfigDriveSpec } from '../model/config-drive-spec.js';
export type { DataVolumeSpec } from '../model/data-volume-spec.js';
export type { Firmware, Hardware } from '../model/hardware.js';
export type {
  BootIsoSource,
  DiskSource,
  IsoSource,
  KernelSource,
  MasterSpec,
  PostInstallStep,
} from '../model/master-spec.js';
export type { InstallFinished, UnattendedAnswers } from '../model/unattended.js';
export type { BoundNetwork, BoundNic, BoundPortForward } from '../model/network-spec.js';
export type { NicAddresses, NicAddressSource } from '../model/nic-addresses.js';
export type { NodeStatus } from '../model/node-metadata.js';
export type { NodeSnapshot } from '../model/node-snapshot.js';
export { type LogFields, type Logger, silentLogger } from '../util/logger.js';
export type { OperationOptions, ProgressEvent, ProgressListener } from '../util/progress.js';
export {
  type AnswerServer,
  type AnswerServerOptions,
  startAnswerServer,
} from '../unattended/answer-server.js';
export {
  type AnswerSession,
  type AnswerSessionOptions,
  openAnswerSession,
} from '../unattended/answer-session.js';
export {
  ANSWER_PLACEHOLDERS,
  type AnswerPlaceholder,
  renderAnswerTemplate,
} from '../unattended/answer-template.js';
export { type BootCommandAction, parseBootCommand, setOneScancodes } from '../unattended/boot-command.js';
export { sha512Crypt } from '../unattended/sha512-crypt.js';
