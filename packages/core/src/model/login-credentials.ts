/** How to log in to a node or master. Secrets are never written to logs. */
export interface LoginCredentials {
  /** The user name. */
  readonly user: string;
  /** A password, when the image uses one. */
  readonly password?: string;
  /** A PEM private key matching a key authorised in the guest. */
  readonly privateKey?: string;
  /** Whether `sudo` asks for the password. */
  readonly authenticateSudo?: boolean;
}
