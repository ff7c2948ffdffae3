import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { BoundSharedFolder } from '../model/shared-folder.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';

/** A shared folder as the hypervisor itself reports it (see `ProviderContractSubject.sharedFolders`). */
export interface SharedFolderSeen {
  /** The tag or share name. */
  readonly tag: string;
  /** The host directory. */
  readonly hostPath: string;
  /** Whether the hypervisor refuses writes to it; absent where it cannot tell (libvirt 9.0's virtiofs). */
  readonly readOnly?: boolean;
}

/** What the shared-folder check of the provider contract reads from the running suite. */
export interface SharedFolderSubject {
  readonly provider: HypervisorProvider;
  /** The run's unique name prefix. */
  readonly run: string;
  /** Nodes to destroy after the suite. */
  readonly made: string[];
  /** The suite's clone spec with overrides. */
  cloneSpec(name: string, overrides?: Partial<CloneSpec>): CloneSpec;
  /** The hypervisor's real objects, to compare before and after. */
  listReal(): Promise<string[]>;
  /** The subject's probe of a node's shared folders, read from the hypervisor (optional). */
  sharedFolders?(nodeId: string): Promise<readonly SharedFolderSeen[]>;
}

/**
 * Registers the contract's check of `CloneSpec.sharedFolders`: a provider whose capabilities name
 * a shared-folder type (`virtiofs`, `vboxsf`) clones a node with two folders (one read-only), which
 * the hypervisor reports by tag and host path (where the subject has a probe), starts it, and
 * destroys it without a trace; any other provider refuses the clone (`UNSUPPORTED` naming
 * `sharedFolders`) and makes nothing.
 */
export function itSharesFolders(get: () => SharedFolderSubject): void {
  it('shares host folders with a node where capabilities name a type, leaving nothing after destroy; refuses them elsewhere', async () => {
    const s = get();
    const caps = await s.provider.capabilities();
    const host = await mkdtemp(join(tmpdir(), 'vmkit-contract-share-'));
    try {
      const folders: BoundSharedFolder[] = [
        { tag: 'vmkit0', hostPath: host, guestPath: '/mnt/rw', readOnly: false },
        { tag: 'vmkit1', hostPath: tmpdir(), guestPath: '/mnt/ro', readOnly: true },
      ];
      const before = await s.listReal();
      const spec = s.cloneSpec(`${s.run}-share`, { sharedFolders: folders });
      if (!caps.sharedFolders) {
        const error = await s.provider.cloneNode(spec).catch((e: unknown) => e);
        expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
        expect((error as VmkitError).details.field).toBe('sharedFolders');
        expect(await s.listReal()).toEqual(before);
        return;
      }
      expect(['virtiofs', 'vboxsf']).toContain(caps.sharedFolders);
      const node = await s.provider.cloneNode(spec);
      s.made.push(node.id);
      if (s.sharedFolders) {
        const seen = [...(await s.sharedFolders(node.id))].sort((a, b) => a.tag.localeCompare(b.tag));
        expect(seen.map(({ tag, hostPath }) => ({ tag, hostPath }))).toEqual(
          folders.map(({ tag, hostPath }) => ({ tag, hostPath })),
        );
        for (const [i, f] of seen.entries())
          if (f.readOnly !== undefined) expect(f.readOnly).toBe(folders[i]?.readOnly);
      }
      await s.provider.startNode(node.id);
      expect((await s.provider.getNode(node.id))?.status).toBe('running');
      await s.provider.destroyNode(node.id);
      expect(await s.listReal()).toEqual(before);
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });
}
