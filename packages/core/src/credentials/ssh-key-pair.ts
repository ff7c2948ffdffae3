/** An SSH key pair as OpenSSH writes it. */
export interface SshKeyPair {
  /** The private key, `-----BEGIN OPENSSH PRIVATE KEY-----` (unencrypted). */
  readonly privateKey: string;
  /** The public key line, `ssh-ed25519 AAAA… comment`. */
  readonly publicKey: string;
}

/** ssh2's utilities, loaded on first use so that importing core does not load ssh2. */
async function ssh2Utils() {
  const { default: ssh2 } = await import('ssh2');
  return ssh2.utils;
}

/** Makes an ed25519 key pair in OpenSSH's formats (ssh2's generator), `comment` on the public key. */
export async function makeEd25519KeyPair(comment: string): Promise<SshKeyPair> {
  const utils = await ssh2Utils();
  const pair = utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}

/**
 * The public key line (`type base64`) of an OpenSSH private key, or `undefined` when it cannot be
 * read (the error would quote nothing of the key).
 */
export async function publicKeyOf(privateKey: string): Promise<string | undefined> {
  const utils = await ssh2Utils();
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return undefined;
  return `${key.type} ${key.getPublicSSH().toString('base64')}`;
}
