import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { makeEd25519KeyPair, type SshKeyPair, sshString } from './ssh-key-pair.js';

const generate = promisify(generateKeyPair);

/** The host key types {@link makeSshHostKeys} makes, by the name in `/etc/ssh/ssh_host_<type>_key`. */
export type SshHostKeyType = 'rsa' | 'ecdsa' | 'ed25519';

/** An SSH mpint of a positive big-endian integer: no leading zero bytes, one added when the top bit is set. */
function mpint(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const bytes = value.subarray(start);
  return sshString((bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** A JWK field's bytes. */
function field(jwk: { [key: string]: unknown }, name: string): Buffer {
  const value = jwk[name];
  if (typeof value !== 'string') throw new Error(`key without ${name}`);
  return Buffer.from(value, 'base64url');
}

/** An RSA key pair: the private key as PEM (PKCS #1, which OpenSSH reads), the public key line. */
async function makeRsaKeyPair(comment: string): Promise<SshKeyPair> {
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: 3072 });
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString('ssh-rsa'), mpint(field(jwk, 'e')), mpint(field(jwk, 'n'))]);
  return {
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}`,
  };
}

/** An ECDSA P-256 key pair: the private key as PEM (SEC 1, which OpenSSH reads), the public key line. */
async function makeEcdsaKeyPair(comment: string): Promise<SshKeyPair> {
  const { privateKey, publicKey } = await generate('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), field(jwk, 'x'), field(jwk, 'y')]);
  const blob = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(point)]);
  return {
    privateKey: privateKey.export({ type: 'sec1', format: 'pem' }) as string,
    publicKey: `ecdsa-sha2-nistp256 ${blob.toString('base64')} ${comment}`,
  };
}

/** The types {@link makeSshHostKeys} makes when asked for no particular ones. */
const ALL_TYPES: readonly SshHostKeyType[] = ['rsa', 'ecdsa', 'ed25519'];

/** The maker of each host key type. */
const MAKERS: Record<SshHostKeyType, (comment: string) => Promise<SshKeyPair>> = {
  rsa: makeRsaKeyPair,
  ecdsa: makeEcdsaKeyPair,
  ed25519: makeEd25519KeyPair,
};

/**
 * Fresh SSH host keys of `types` (default all: RSA 3072, ECDSA P-256, ed25519), made on the host
 * with Node's crypto: a warm clone's host keys are written from these instead of being made by
 * `ssh-keygen` in the guest, where an RSA key costs seconds under emulation. The private keys are
 * in forms OpenSSH reads (PEM for RSA and ECDSA, `openssh-key-v1` for ed25519), the public key
 * lines carry `comment`.
 */
export async function makeSshHostKeys(
  comment: string,
  types: readonly SshHostKeyType[] = ALL_TYPES,
): Promise<Partial<Record<SshHostKeyType, SshKeyPair>>> {
  const pairs = await Promise.all(types.map((t) => MAKERS[t](comment)));
  return Object.fromEntries(types.map((t, i) => [t, pairs[i]]));
}
