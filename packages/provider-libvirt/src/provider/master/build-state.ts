import type { GuestCleanupReport } from '@vmkit/core/spi';
import type { LibvirtMasterData } from '../libvirt-context.js';

/** Names of what a master build makes, from the master's name. */
export function masterNames(prefix: string, masterName: string) {
  const base = `${prefix}m-${masterName}`;
  return {
    volume: `${base}.qcow2`,
    kernel: `${base}.vmlinuz`,
    initrd: `${base}.initrd`,
    iso: `${base}.iso`,
    nvram: `${base}-VARS.fd`,
    answersInitrd: `${base}.answers.initrd`,
    answersDrive: `${base}.answers.iso`,
    installer: `${prefix}install-${masterName}`,
    consoleLog: `${prefix}install-${masterName}.log`,
  };
}

/** What a build made so far, kept in the build context between steps. */
export interface BuildState {
  volumes: string[];
  data?: LibvirtMasterData;
  installer?: string;
  /** Set once the post-install steps ran; a second run of the step does nothing. */
  postInstalled?: boolean;
  /** What the guest clean-up removed in the post-install boot (absent: the build never booted it). */
  guestCleanup?: GuestCleanupReport;
}

/** The state of a new build (`MasterBuild.initialState`). */
export function initialBuildState(): BuildState {
  return { volumes: [] };
}

/** The names {@link masterNames} gives. */
export type MasterNames = ReturnType<typeof masterNames>;
