import type { MasterHardware } from './hardware.js';
import type { LoginCredentials } from './login-credentials.js';
import type { NetworkSpec } from './network-spec.js';
import type { OperatingSystem } from './operating-system.js';
import type { InstallFinished, UnattendedAnswers } from './unattended.js';
import type { WarmSpec } from './warm-spec.js';

/** A ready disk image to import as the master's disk. Give `path` or `url`. */
export interface DiskSource {
  readonly type: 'disk';
  /** Local path of the image. */
  readonly path?: string;
  /** URL of the image (`http:`, `https:` or `file:`). */
  readonly url?: string;
  /**
   * The most bytes a download of `url` may bring (default 64 GiB, `DEFAULT_DOWNLOAD_MAX_BYTES`
   * of `@vmkit/core/spi`); a larger download is stopped and its partial file removed.
   */
  readonly maxBytes?: number;
  /** Disk format (default: detected). */
  readonly format?: 'raw' | 'qcow2' | 'vmdk' | 'vdi' | 'vhd' | 'vhdx';
  /** Expected SHA-256 of the image, lower-case hex; verified before use. */
  readonly sha256?: string;
}

/** An installer ISO to boot and install from. Give `path` or `url`. */
export interface IsoSource {
  readonly type: 'iso';
  /** Local path of the ISO. */
  readonly path?: string;
  /** URL of the ISO. */
  readonly url?: string;
  /**
   * The most bytes a download of `url` may bring (default 64 GiB, `DEFAULT_DOWNLOAD_MAX_BYTES`
   * of `@vmkit/core/spi`); a larger download is stopped and its partial file removed.
   */
  readonly maxBytes?: number;
  /** Expected SHA-256 of the ISO, lower-case hex. */
  readonly sha256?: string;
  /**
   * Unattended-install answers for the installer (preseed, kickstart, autoinstall...) and how it
   * gets them: `http`, `iso`, `initrd` or `drive` (see {@link UnattendedAnswers}); `{{http}}` in
   * `kernelParams` becomes the answer server's URL. libvirt reads it; other providers refuse it.
   */
  readonly unattended?: UnattendedAnswers;
  /** How long the installer may run before the build fails with `TIMEOUT` (default: the provider's). */
  readonly installTimeoutMs?: number;
  /**
   * What says the install finished: the guest's power-off (`'poweroff'`, the default), a guest
   * port answering (`{ port }`) or the guest's request of `{{http}}/<call>` (`{ call }`, with the
   * `http` delivery); see {@link InstallFinished}.
   */
  readonly installFinished?: InstallFinished;
  /**
   * Keys typed at the boot loader's or installer's prompt once the machine started and
   * `bootWait` passed, in Packer's key syntax (text, `<enter>`, `<esc>`, `<tab>`,
   * `<bs>`, `<del>`, arrows, `<f1>`…`<f12>`, `<waitN>`, `<leftShiftOn>`/`<leftShiftOff>`...; see
   * `parseBootCommand` of `@vmkit/core/spi`), through the hypervisor's keyboard. `{{http}}` and
   * the other answer placeholders expand. An unknown key name is refused naming it.
   */
  readonly bootCommand?: readonly string[];
  /** Milliseconds between the installer's start and the first typed key (default 10 000 with a `bootCommand`). */
  readonly bootWait?: number;
  /**
   * Kernel parameters added to every kernel line of the ISO's boot configurations (isolinux,
   * GRUB, the `grub.cfg` inside its EFI image) before it boots, such as
   * `auto=true priority=critical url="http://10.0.2.2/preseed.cfg"`: keys of letters, digits,
   * `_-.`; values may be double-quoted to hold spaces; at most 1024 characters. The provider
   * remasters the ISO (`remasterBootIso` of `@vmkit/imaging`); the ISO must stay bootable.
   */
  readonly kernelParams?: string;
}

/**
 * A bootable live ISO the nodes boot from as a CD-ROM (with their config drive), with no
 * installation and no disk of their own, as Ironic's ramdisk deploy does. Give `path` or `url`.
 * The master is the ISO itself, remastered with `kernelParams` when given.
 */
export interface BootIsoSource {
  readonly type: 'bootIso';
  /** Local path of the ISO. */
  readonly path?: string;
  /** URL of the ISO. */
  readonly url?: string;
  /**
   * The most bytes a download of `url` may bring (default 64 GiB, `DEFAULT_DOWNLOAD_MAX_BYTES`
   * of `@vmkit/core/spi`); a larger download is stopped and its partial file removed.
   */
  readonly maxBytes?: number;
  /** Expected SHA-256 of the ISO, lower-case hex. */
  readonly sha256?: string;
  /** Kernel parameters added to every kernel line of the ISO (same rules as {@link IsoSource.kernelParams}). */
  readonly kernelParams?: string;
}

/** A kernel and initrd booted directly to run an installer. */
export interface KernelSource {
  readonly type: 'kernel';
  /** Path of the kernel image. */
  readonly kernel: string;
  /** Path of the initrd. */
  readonly initrd: string;
  /**
   * Kernel command line. `{{http}}` (and the other placeholders of {@link UnattendedAnswers})
   * expand for the installer's boot; words holding `{{http}}` are left out of the nodes' boot.
   */
  readonly cmdline?: string;
  /**
   * Unattended-install answers and how the installer gets them: `http`, `initrd` or `drive`
   * (see {@link UnattendedAnswers}). libvirt reads it; other providers refuse it.
   */
  readonly unattended?: UnattendedAnswers;
  /** How long the installer may run before the build fails with `TIMEOUT` (default: the provider's). */
  readonly installTimeoutMs?: number;
  /**
   * What says the install finished: the guest's power-off (`'poweroff'`, the default), a guest
   * port answering (`{ port }`) or the guest's request of `{{http}}/<call>` (`{ call }`, with the
   * `http` delivery); see {@link InstallFinished}.
   */
  readonly installFinished?: InstallFinished;
  /**
   * Keys typed at the boot loader's or installer's prompt once the machine started and
   * `bootWait` passed, in Packer's key syntax (text, `<enter>`, `<esc>`, `<tab>`,
   * `<bs>`, `<del>`, arrows, `<f1>`…`<f12>`, `<waitN>`, `<leftShiftOn>`/`<leftShiftOff>`...; see
   * `parseBootCommand` of `@vmkit/core/spi`), through the hypervisor's keyboard. `{{http}}` and
   * the other answer placeholders expand. An unknown key name is refused naming it.
   */
  readonly bootCommand?: readonly string[];
  /** Milliseconds between the installer's start and the first typed key (default 10 000 with a `bootCommand`). */
  readonly bootWait?: number;
}

/**
 * A Vagrant box (libvirt or VirtualBox) whose disk becomes the master's. Give `path` or `url`.
 * Reading boxes is not core's: the compute service needs a reader in its `sources.box` option
 * (`@vmkit/import`'s `vagrantBoxReader()`), which unpacks the box once and registers the image as
 * a `disk` master with the box's hardware defaults and its login (user `vagrant`).
 */
export interface BoxSource {
  readonly type: 'box';
  /** Local path of the `.box` file. */
  readonly path?: string;
  /** URL of the box (`http:` or `https:`). */
  readonly url?: string;
  /** The most bytes the box may hold (default: the reader's limit). */
  readonly maxBytes?: number;
  /** Expected SHA-256 of the box file, lower-case hex. */
  readonly sha256?: string;
  /** The provider its `metadata.json` must name (default: either). */
  readonly provider?: 'libvirt' | 'virtualbox';
}

/** Where a master's disk comes from. */
export type MasterSource = DiskSource | IsoSource | KernelSource | BootIsoSource | BoxSource;

/** A named command run in the master after installation, before it is sealed. */
export interface PostInstallStep {
  /** Step name, unique within the spec. */
  readonly name: string;
  /** Shell script run as root in the guest. */
  readonly run: string;
}

/**
 * Everything needed to build a master image. The sha256 of its canonical JSON form
 * identify the build: a changed spec means a new master.
 */
export interface MasterSpec {
  /** Image id: lower-case letters, digits, `.`, `_`, `-`; 1-63 characters; starts with a letter or digit. */
  readonly id: string;
  /** Human-readable name (default: the id). */
  readonly name?: string;
  /** The operating system the master runs. */
  readonly os: OperatingSystem;
  /** Where its disk comes from. */
  readonly source: MasterSource;
  /** Hardware of the master, also the default for its nodes. */
  readonly hardware?: MasterHardware;
  /** How to log in to nodes cloned from it. */
  readonly login?: LoginCredentials;
  /** Commands run after installation. */
  readonly postInstall?: readonly PostInstallStep[];
  /**
   * Makes the image warm: its nodes can resume a saved running template instead of booting
   * (`createNodesInGroup(..., { warm: true })`); see the guide "Warm clones".
   */
  readonly warm?: WarmSpec;
  /**
   * Not supported: no provider reads it, so a spec giving it is refused (`INVALID_ARGUMENT`
   * naming `network`). A build installs without a NIC (one user-mode NIC with the `http` answer
   * delivery) and runs its post-install steps with one NAT NIC; nodes get their NICs from `TemplateOptions.network`. Records saved with it still load.
   *
   * @deprecated Never read; kept only so that records written with it stay readable.
   */
  readonly network?: NetworkSpec;
}
