import { VmkitError } from '@vmkit/core/spi';

/** One line of an OVA manifest: `SHA256(disk.vmdk)= 0123...`. */
export interface ManifestEntry {
  readonly algorithm: 'sha1' | 'sha256';
  readonly file: string;
  readonly digest: string;
}

const LINE = /^(SHA1|SHA256)\s*\(([^)]+)\)\s*=\s*([0-9a-fA-F]+)\s*$/;

function corrupt(message: string): VmkitError {
  return new VmkitError('CORRUPT', `OVA manifest: ${message}`, { details: { rule: 'ova-manifest' } });
}

/** Parses a manifest; any line that is not a SHA1 or SHA256 digest is refused. */
export function parseManifest(text: string): ManifestEntry[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const m = LINE.exec(line.trim());
      if (!m) throw corrupt(`line "${line.slice(0, 80)}" is not ALG(file)= digest`);
      return {
        algorithm: m[1]!.toLowerCase() as 'sha1' | 'sha256',
        file: m[2]!,
        digest: m[3]!.toLowerCase(),
      };
    });
}

/** Checks every manifest entry against the digests of the members extracted. */
export function checkManifest(
  entries: readonly ManifestEntry[],
  digests: ReadonlyMap<string, { sha1: string; sha256: string }>,
): void {
  for (const e of entries) {
    const got = digests.get(e.file);
    if (!got) throw corrupt(`lists ${e.file}, which is not in the archive`);
    if (got[e.algorithm] !== e.digest)
      throw corrupt(
        `${e.algorithm.toUpperCase()} of ${e.file} is ${got[e.algorithm]}, the manifest says ${e.digest}`,
      );
  }
}
