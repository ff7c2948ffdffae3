/** Where a NIC's addresses were read. */
export type NicAddressSource = 'agent' | 'lease' | 'arp' | 'guest-properties';

/** The addresses a guest really has on one NIC. */
export interface NicAddresses {
  /** The NIC's slot, as in `BoundNic.slot`. */
  readonly slot: number;
  /** Its MAC address. */
  readonly mac: string;
  /** Its addresses (no prefix); absent while not known yet (no agent answer, no lease). */
  readonly addresses?: readonly string[];
  /** Where they were read, when known. */
  readonly source?: NicAddressSource;
}
