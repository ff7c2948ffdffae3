/** How an installer is handed its answer files (see {@link UnattendedAnswers.delivery}). */
export type UnattendedDelivery = 'http' | 'iso' | 'initrd' | 'drive';

/** An answer file read from the host when the build starts, rendered like inline ones. */
export interface UnattendedFileRef {
  /** Local path of the file (a template, as inline files are). */
  readonly path: string;
}

/**
 * Unattended-install answers (preseed, kickstart, autoinstall...) and how the installer gets them.
 *
 * Each file is a template: `{{http}}` becomes the answer server's base URL as the guest sees it
 * (`http://10.0.2.2:PORT/<per-build path>` under user networking), `{{hostname}}` the spec's id,
 * `{{user}}` the spec's login user (default `root`), `{{publicKey}}` the OpenSSH public key of
 * its private key and `{{passwordHash}}` the SHA-512 crypt hash (`$6$...`) of its password, salted
 * anew per build (the password itself is never a placeholder). Any other `{{name}}` is refused. The same placeholders work in the source's
 * `kernelParams` (ISO) or `cmdline` (kernel).
 */
export interface UnattendedAnswers {
  /**
   * Answer files by name (`preseed.cfg`, `ks.cfg`, `user-data`): content inline, or `{ path }`.
   * Names are 1-64 of letters, digits, `.`, `_`, `-`, never `.` or `..` alone, never a `/`.
   */
  readonly files: Readonly<Record<string, string | UnattendedFileRef>>;
  /**
   * How the installer reads them (one or several): `http` (served by vmkit for the length of the
   * build, the `{{http}}` URL; the installer gets a user-mode NIC), `initrd` (appended to the
   * installer's initrd as a second gzip'd cpio archive, files at its root; for an ISO, every
   * initrd its isolinux/GRUB configurations load),
   * `drive` (an ISO 9660 CD-ROM labelled {@link UnattendedAnswers.driveLabel}, built in-process),
   * `iso` (added at the root of the installer ISO by the remaster, `iso` sources; `kernelParams`
   * must then point the installer at them, e.g. `file=/cdrom/preseed.cfg`).
   */
  readonly delivery: readonly UnattendedDelivery[];
  /** Volume label of the `drive` delivery (default `OEMDRV`; `CIDATA` for Ubuntu's autoinstall). */
  readonly driveLabel?: string;
}

/**
 * How vmkit knows an installer finished (`installFinished` of an `iso` or `kernel` source):
 * - `'poweroff'` (the default): the guest powers itself off;
 * - `{ port }`: a TCP port of the guest answers through the installer's port forward: a
 *   connection brings bytes from the guest (its banner, as SSH's, or its answer to the
 *   `HEAD / HTTP/1.0` request vmkit sends), tried every second; a connection only accepted does not
 *   count (QEMU's forward accepts before the guest's network is up);
 * - `{ call }`: the guest requests `{{http}}/<call>` from vmkit's answer server (needs the `http`
 *   delivery; the name follows the answer file names' rules and must not be one of them).
 *
 * With `port` or `call` vmkit then asks the guest to power off (ACPI) and, when it has not after
 * 60 s, turns it off; a guest that powers itself off first is finished too.
 */
export type InstallFinished = 'poweroff' | { readonly port: number } | { readonly call: string };
