/**
 * The key layout of an S3 blob store: container `c` is the key prefix `<prefix>c/`; blob `n` of
 * it is the key `<prefix>c/n`. A container exists when its marker, the empty object whose key is
 * the container prefix itself (`<prefix>c/`), exists. No valid blob name is empty, so the marker
 * never collides with a blob and listings skip it by key.
 */
export class S3KeyLayout {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The key prefix of a container's blobs, also its marker key. */
  containerPrefix(container: string): string {
    return `${this.#prefix}${container}/`;
  }

  /** The key of a blob. */
  blobKey(container: string, name: string): string {
    return `${this.#prefix}${container}/${name}`;
  }

  /** Key of a scratch object used to probe the server (outside every container). */
  probeKey(id: string): string {
    return `${this.#prefix}.vmkit-probe-${id}`;
  }
}
