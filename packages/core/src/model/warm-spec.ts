/**
 * What a warm master's template must show before its running state is saved: the guest agent
 * answers, vmkit logs in over SSH (with the template group's key, so the service needs
 * `credentials`; on port 22: the guest's first-boot set-up has authorised the key), a TCP port
 * accepts connections, or an HTTP path answers 2xx (on port 80 unless given). Through a NAT port
 * forward a port "accepts" before the guest has booted (QEMU's user networking answers for it):
 * prefer `ssh` or `http` there.
 */
export type WarmReadiness =
  | 'agent'
  | 'ssh'
  | { readonly port: number }
  | { readonly http: string; readonly port?: number };

/**
 * A warm master (`MasterSpec.warm`): after the master is sealed, vmkit boots it once as a
 * template, waits for `until`, and saves its running state beside the master; warm clones
 * (`createNodesInGroup(..., { warm: true })`) resume from that state instead of booting.
 */
export interface WarmSpec {
  /** The readiness signal the template is saved at. */
  readonly until: WarmReadiness;
  /** Memory kept in the state image: `keep` (the only mode: the whole guest memory). */
  readonly memory?: 'keep';
  /** Gives up the template's wait with `TIMEOUT` after this long (default 5 minutes). */
  readonly timeoutMs?: number;
  /**
   * A shell script run as root in each clone after vmkit reset its identity (hostname, machine-id,
   * SSH host keys) from the clone's config drive, before the node is reported running: where a
   * guest refreshes what it derived from the template's identity. It gets `VMKIT_INSTANCE_ID`,
   * `VMKIT_HOSTNAME` and `VMKIT_DRIVE` (the drive's mount point while it runs). At most 64 KiB.
   */
  readonly resumeScript?: string;
}
