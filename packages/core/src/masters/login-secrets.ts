import { createHash, scryptSync } from 'node:crypto';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { MasterSpec } from '../model/master-spec.js';
import { canonicalJson, specHash } from '../util/canonical-json.js';
import type { MasterRecord, StoredMasterSpec } from './master-record.js';

/**
 * scrypt's cost: 2^16 blocks of 1 KiB (64 MiB of memory), about 170 ms per digest on the
 * project's 2-core machines, paid once per configured spec and process (digests are memoised).
 */
const SCRYPT = { N: 1 << 16, r: 8, p: 1, maxmem: 160 * 1024 * 1024 } as const;
const PREFIX = `scrypt$N=${SCRYPT.N},r=${SCRYPT.r},p=${SCRYPT.p}$`;

/** The form of a stored login's `secretsDigest`: the scrypt parameters, then 32 bytes in base64url. */
export const SECRETS_DIGEST_PATTERN = /^scrypt\$N=\d{1,10},r=\d{1,3},p=\d{1,3}\$[A-Za-z0-9_-]{43}$/;

const MEMO_MAX = 256;
const memo = new Map<string, string>();

/** Whether a login holds a password or a private key. */
export function hasLoginSecrets(spec: { readonly login?: LoginCredentials | undefined }): boolean {
  return spec.login?.password !== undefined || spec.login?.privateKey !== undefined;
}

/**
 * The spec as a record keeps it: `login.password` and `login.privateKey` replaced by
 * `login.secretsDigest`, an scrypt digest of both salted with the image id. A spec without
 * secrets is returned as it is (so its hash is the one earlier versions gave it), and so is a
 * spec already stored.
 */
export function storedSpecOf(spec: MasterSpec): StoredMasterSpec {
  const login = spec.login;
  if (!login || !hasLoginSecrets(spec)) return spec;
  const { password, privateKey, ...rest } = login;
  return { ...spec, login: { ...rest, secretsDigest: secretsDigest(spec.id, password, privateKey) } };
}

/**
 * The identity of a spec: the SHA-256 of the canonical JSON of {@link storedSpecOf}. It can be
 * recomputed from a record (whose spec is stored), changes when a secret does, and is the plain
 * `specHash` for a spec without secrets.
 */
export function masterSpecHash(spec: MasterSpec): string {
  return specHash(storedSpecOf(spec));
}

/** A record without login secrets: a record written by an earlier version is rewritten so. */
export function withoutLoginSecrets(record: MasterRecord): MasterRecord {
  if (!hasLoginSecrets(record.spec)) return record;
  const spec = storedSpecOf(record.spec);
  return { ...record, spec, specHash: specHash(spec) };
}

/** A login as callers see it: the digest of a stored login is not theirs to see. */
export function publicLogin(login: LoginCredentials): LoginCredentials {
  if (!('secretsDigest' in login)) return login;
  const { secretsDigest: _, ...rest } = login as LoginCredentials & { secretsDigest?: string };
  return rest;
}

function secretsDigest(
  imageId: string,
  password: string | undefined,
  privateKey: string | undefined,
): string {
  const secrets = canonicalJson({ password, privateKey });
  const key = createHash('sha256').update(imageId).update('\u0000').update(secrets).digest('hex');
  const known = memo.get(key);
  if (known) return known;
  const salt = `vmkit-login-secrets:${imageId}`;
  const digest = `${PREFIX}${scryptSync(secrets, salt, 32, SCRYPT).toString('base64url')}`;
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value as string);
  memo.set(key, digest);
  return digest;
}
