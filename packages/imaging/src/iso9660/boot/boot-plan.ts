import { invalidArgument } from '@vmkit/core/spi';
import type { MediaEntry, MediaSource } from '../../media-entry.js';
import type { MediaNode } from '../../media-tree.js';
import type { IsoLayout } from '../iso-layout.js';
import { SECTOR } from '../system-use.js';
import { encodeBootCatalog, type PlacedBootImage } from './el-torito-encode.js';
import { encodeHybridArea, GPT_BACKUP_BYTES } from './hybrid-system-area.js';
import { contentSize, type IsoBootOptions } from './iso-boot-options.js';

/** Default path of the boot catalogue file. */
export const DEFAULT_CATALOG_PATH = 'boot.catalog';

/** Largest BIOS boot image the writer patches in memory (boot information tables). */
const MAX_PATCHED_IMAGE = 64 * 1024 * 1024;

/** Patches of one BIOS boot image. */
export interface BootImagePatch {
  /** Sector of the image. */
  readonly lba: number;
  /** Patch the boot information table. */
  readonly bootInfoTable: boolean;
  /** Patch GRUB's boot address. */
  readonly grub2BootInfo: boolean;
}

/** What the writer does for El Torito once the image is laid out. */
export interface BootPlan {
  /** Sector of the boot catalogue. */
  readonly catalogLba: number;
  /** BIOS images to patch while they are written. */
  readonly patches: ReadonlyMap<MediaNode, BootImagePatch>;
  /** Hidden boot images, written after the files in this order. */
  readonly hidden: readonly MediaNode[];
  /** Writes the hybrid system area into the first 32 KiB; returns the backup GPT for the image's end. */
  systemArea(area: Uint8Array): Uint8Array | undefined;
}

/** The entries with the catalogue file added (its bytes are filled in by {@link planBoot}). */
export function withCatalog(
  entries: readonly MediaEntry[],
  boot: IsoBootOptions,
): { entries: MediaEntry[]; catalog: Uint8Array } {
  const path = boot.catalogPath ?? DEFAULT_CATALOG_PATH;
  const clean = (p: string) => p.replace(/\/+$/, '');
  if (entries.some((e) => typeof e?.path === 'string' && clean(e.path) === clean(path))) {
    throw invalidArgument(
      'options.boot.catalogPath',
      `'${path}' is already an entry; the writer adds the catalogue itself`,
    );
  }
  const catalog = new Uint8Array(SECTOR);
  return { entries: [...entries, { path, content: catalog, mode: 0o444 }], catalog };
}

function findNode(root: MediaNode, path: string): MediaNode | undefined {
  let node: MediaNode | undefined = root;
  for (const part of path.replace(/^\/+|\/+$/g, '').split('/')) {
    node = node?.children.find((c) => c.name === part);
  }
  return node;
}

/** Places the boot images, fills in the catalogue and plans the patches and the system area. */
export function planBoot(
  root: MediaNode,
  layout: IsoLayout,
  boot: IsoBootOptions,
  catalog: Uint8Array,
  seed: string,
): BootPlan {
  const placed: PlacedBootImage[] = [];
  const hidden: MediaNode[] = [];
  const patches = new Map<MediaNode, BootImagePatch>();
  let hiddenIndex = 0;
  const nodes = boot.images.map((image, i) => {
    const field = `options.boot.images[${i}].image`;
    const node =
      image.content !== undefined ? hiddenNode(image.image, image.content) : findNode(root, image.image);
    if (node?.kind !== 'file' || node.size === 0)
      throw invalidArgument(field, `'${image.image}' must be a non-empty file among the entries`);
    if (image.content !== undefined) hidden.push(node);
    const lba =
      image.content !== undefined ? (layout.hiddenLba[hiddenIndex++] ?? 0) : (layout.fileLba.get(node) ?? 0);
    const sectors512 = Math.ceil(node.size / 512);
    const loadSize = image.loadSize ?? (image.platform === 'bios' ? 4 : sectors512 > 0xffff ? 0 : sectors512);
    placed.push({ platform: image.platform, loadSize, lba });
    if (image.bootInfoTable || image.grub2BootInfo) {
      if (node.size > MAX_PATCHED_IMAGE)
        throw invalidArgument(field, `a patched boot image may be at most ${MAX_PATCHED_IMAGE} bytes`);
      patches.set(node, { lba, bootInfoTable: !!image.bootInfoTable, grub2BootInfo: !!image.grub2BootInfo });
    }
    return node;
  });
  catalog.set(encodeBootCatalog(placed));
  const catalogNode = findNode(root, boot.catalogPath ?? DEFAULT_CATALOG_PATH) as MediaNode;
  const catalogLba = layout.fileLba.get(catalogNode) ?? 0;
  const hybrid = boot.hybrid;
  const biosIndex = boot.images.findIndex((image) => image.platform === 'bios');
  const efiIndex = boot.images.findIndex((image) => image.platform === 'efi');
  return {
    catalogLba,
    patches,
    hidden,
    systemArea(area) {
      if (!hybrid) return undefined;
      const efiNode = nodes[efiIndex];
      return encodeHybridArea(area, hybrid, {
        totalBlocks: layout.totalSectors * 4,
        biosImageLba: placed[biosIndex]?.lba ?? 0,
        ...(efiNode ? { efiImage: { lba: placed[efiIndex]?.lba ?? 0, size: efiNode.size } } : {}),
        seed,
      });
    },
  };
}

/** Sizes of the hidden boot images of `boot`, in order (for the layout). */
export function hiddenSizes(boot: IsoBootOptions | undefined): number[] {
  return (boot?.images ?? []).flatMap((image) =>
    image.content !== undefined ? [contentSize(image.content)] : [],
  );
}

function hiddenNode(name: string, content: Uint8Array | MediaSource): MediaNode {
  return {
    name,
    path: name,
    kind: 'file',
    mode: 0o444,
    mtime: new Date(0),
    size: contentSize(content),
    ...(content instanceof Uint8Array ? { data: content } : { source: content }),
    children: [],
    entryIndex: -1,
  };
}

/** Trailing padding a hybrid image needs at least (room for the backup GPT), in bytes. */
export const HYBRID_MIN_PADDING = Math.ceil(GPT_BACKUP_BYTES / SECTOR) * SECTOR;
