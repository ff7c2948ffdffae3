import type { BuildContext, GuestCleanupOutcome } from '@vmkit/core/spi';
import type * as vbox from 'virtualbox-soap';
import type { LocalFile } from './master-source.js';

/** What the steps of one build share. */
export interface BuildState {
  machine?: string;
  disk?: LocalFile;
  iso?: LocalFile;
  /** The ISO of a `bootIso` master, registered as a DVD medium. */
  bootIso?: LocalFile;
  installed?: boolean;
  postInstalled?: boolean;
  /** What the guest clean-up of the post-install boot removed (absent: the build never booted it). */
  guestCleanup?: GuestCleanupOutcome;
  /** The answers drive (`unattended` by `drive`) while it exists, in the machine folder. */
  answersDrive?: string;
  /** The installer ISO remastered with the answers (`iso`/`initrd`), in the machine folder, while it exists. */
  answeredIso?: string;
  /** The post-install drive while it exists (a private file with an unguessable name). */
  postInstallDrive?: string;
  /** Server-side work an abort stopped us waiting for; discard waits for it before cleaning up. */
  pending?: vbox.IProgress;
}

/** The state of a new build (`MasterBuild.initialState`). */
export function initialBuildState(): BuildState {
  return {};
}

/** What each step of a VirtualBox master build is given. */
export type VboxBuildContext = BuildContext<BuildState>;
