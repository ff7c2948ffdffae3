/**
 * `@vmkit/provider-virtualbox/testing`: a strict simulator of VirtualBox's web service
 * (vboxwebsrv) for tests that cannot run VirtualBox.
 *
 * @packageDocumentation
 */

export { SIM_BYTES_PER_WRITE } from './sim/handlers-media.js';
export type { MediumWrite, SimBehaviour } from './sim/sim-world.js';
export { startVboxSimulator, VboxSimulator } from './vbox-simulator.js';
export {
  DEFAULT_BEHAVIOUR,
  type SimFaultRule,
  type SimGuestRun,
  type SimHostInterface,
  type SimInstallerFetch,
  type SimMachineInfo,
  type SimMediumInfo,
  type SimRejection,
  type SimRuntimeError,
  type VboxSimulatorOptions,
} from './vbox-simulator-options.js';
