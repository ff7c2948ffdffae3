import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The byte triples of a SHA-512 digest in the order the `$6$` encoding takes them. */
const ORDER: ReadonlyArray<readonly [number, number, number]> = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

const sha512 = (...parts: Buffer[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `bytes` repeated to `length` bytes. */
function stretch(bytes: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += bytes.length) bytes.copy(out, i, 0, Math.min(bytes.length, length - i));
  return out;
}

function encode24(b2: number, b1: number, b0: number, chars: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < chars; i++) {
    out += ALPHABET[w & 0x3f];
    w >>= 6;
  }
  return out;
}

/**
 * The SHA-512 crypt hash of `password` (`$6$salt$...`, 5000 rounds), as glibc's `crypt(3)`,
 * `openssl passwd -6` and `mkpasswd -m sha-512` write it, for answer files that take a hashed
 * password (preseed's `passwd/root-password-crypted`, kickstart's `rootpw --iscrypted`). The salt
 * is 16 random characters unless given (at most 16 of `./0-9A-Za-z` are used).
 */
export function sha512Crypt(password: string, salt?: string): string {
  const s = (salt ?? [...randomBytes(16)].map((b) => ALPHABET[b & 0x3f]).join('')).slice(0, 16);
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(s, 'utf8');
  const B = sha512(P, S, P);
  const a = createHash('sha512').update(P).update(S).update(stretch(B, P.length));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  const A = a.digest();
  const DP = sha512(...Array.from({ length: P.length }, () => P));
  const Pp = stretch(DP, P.length);
  const DS = sha512(...Array.from({ length: 16 + (A[0] as number) }, () => S));
  const Sp = stretch(DS, S.length);
  let C = A;
  for (let i = 0; i < 5000; i++) {
    const h = createHash('sha512');
    h.update(i & 1 ? Pp : C);
    if (i % 3) h.update(Sp);
    if (i % 7) h.update(Pp);
    h.update(i & 1 ? C : Pp);
    C = h.digest();
  }
  const at = (i: number) => C[i] as number;
  const hash =
    ORDER.map(([x, y, z]) => encode24(at(x), at(y), at(z), 4)).join('') + encode24(0, 0, at(63), 2);
  return `$6$${s}$${hash}`;
}
