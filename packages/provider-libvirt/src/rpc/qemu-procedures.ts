/**
 * Procedure numbers of libvirt's QEMU program (`src/remote/qemu_protocol.x`, program
 * `0x20008087`), for the procedures this client calls. Numbers never change once assigned.
 */
export const QemuProcedure = Object.freeze({
  /** `qemu_domain_agent_command`: a raw QEMU guest agent command (JSON) sent through libvirt. */
  DOMAIN_AGENT_COMMAND: 3,
} as const);

/** A procedure number of {@link QemuProcedure}. */
export type QemuProcedure = (typeof QemuProcedure)[keyof typeof QemuProcedure];

const NAMES = new Map<number, string>(Object.entries(QemuProcedure).map(([k, v]) => [v, `QEMU_${k}`]));

/** The name of a QEMU procedure number, for messages (`QEMU_DOMAIN_AGENT_COMMAND`), or `QEMU_#<n>`. */
export function qemuProcedureName(proc: number): string {
  return NAMES.get(proc) ?? `QEMU_#${proc}`;
}
