import { generateKeyPairSync, randomBytes } from 'node:crypto';

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

/** The key type name OpenSSH writes for ed25519 keys. */
const ED25519 = 'ssh-ed25519';

/** An SSH wire string: a big-endian uint32 length, then the bytes (RFC 4251, section 5). */
export function sshString(value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A big-endian uint32. */
function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/**
 * Makes an ed25519 key pair in OpenSSH's formats, `comment` on the public key: the key from
 * Node's crypto, written here as OpenSSH's `openssh-key-v1` container (unencrypted: cipher and
 * KDF `none`, one key; the private section's two equal check words, the public key, the 64-byte
 * seed-and-public private key, the comment, then padding 1, 2, 3… to a multiple of 8). ssh2's
 * own generator is not used: it drops a leading zero byte of the public key (about one key in
 * 160), which makes a key that neither OpenSSH nor ssh2 can read.
 */
export async function makeEd25519KeyPair(comment: string): Promise<SshKeyPair> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d as string, 'base64url');
  const pub = Buffer.from(jwk.x as string, 'base64url');
  if (seed.length !== 32 || pub.length !== 32) throw new Error('ed25519 key of unexpected size');
  const publicBlob = Buffer.concat([sshString(ED25519), sshString(pub)]);
  const check = randomBytes(4).readUInt32BE();
  const section = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(ED25519),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1));
  const container = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([section, padding])),
  ]);
  const body = container.toString('base64').replace(/.{1,70}/g, '$&\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `${ED25519} ${publicBlob.toString('base64')} ${comment}`,
  };
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
