/** A hardware profile: what a node gets. */
export interface Hardware {
  /** Profile id, e.g. `small`. */
  readonly id: string;
  /** Human-readable name. */
  readonly name?: string;
  /** Virtual CPUs. */
  readonly cores: number;
  /** Memory in MiB. */
  readonly ramMiB: number;
  /** Root disk size in GiB. */
  readonly diskGiB: number;
}

/** Hardware a master asks for; unset fields take the provider's defaults. */
export interface MasterHardware {
  /** Virtual CPUs. */
  readonly cores?: number;
  /** Memory in MiB. */
  readonly ramMiB?: number;
  /** Root disk size in GiB. */
  readonly diskGiB?: number;
}

/** The profiles `listHardwareProfiles` returns unless a provider says otherwise. */
export const DEFAULT_HARDWARE_PROFILES: readonly Hardware[] = Object.freeze([
  Object.freeze({ id: 'micro', name: 'Micro', cores: 1, ramMiB: 256, diskGiB: 1 }),
  Object.freeze({ id: 'small', name: 'Small', cores: 1, ramMiB: 1024, diskGiB: 10 }),
  Object.freeze({ id: 'medium', name: 'Medium', cores: 2, ramMiB: 4096, diskGiB: 20 }),
  Object.freeze({ id: 'large', name: 'Large', cores: 4, ramMiB: 8192, diskGiB: 40 }),
]);
