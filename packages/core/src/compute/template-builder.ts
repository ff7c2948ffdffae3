import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import { noSuchImage } from '../masters/no-such-image.js';
import type { Hardware } from '../model/hardware.js';
import type { Image } from '../model/image.js';
import type { Template, TemplateOptions } from '../model/template.js';
import { validators } from '../validation/load-validators.js';

/** What a {@link TemplateBuilder} reads from the service. */
export interface TemplateSource {
  /** The images to choose from. */
  listImages(): Promise<Image[]>;
  /** The hardware profiles to choose from. */
  listHardwareProfiles(): Promise<Hardware[]>;
}

interface Criteria {
  imageId?: string;
  osFamily?: string;
  osVersion?: RegExp;
  osArch?: RegExp;
  minRam?: number;
  minCores?: number;
  minDisk?: number;
  hardwareId?: string;
  smallest?: boolean;
  options?: TemplateOptions;
}

/**
 * Picks an image and a hardware profile by criteria, jclouds-style:
 * `service.templateBuilder().osFamily('debian').minRam(512).smallest().options({ inboundPorts: [80] }).build()`.
 * Available images are preferred over ones still to be built; ties go to the lowest id.
 */
export class TemplateBuilder {
  readonly #source: TemplateSource;
  readonly #criteria: Criteria = {};

  constructor(source: TemplateSource) {
    this.#source = source;
  }

  /** Use exactly this image. */
  imageId(id: string): this {
    this.#criteria.imageId = id;
    return this;
  }

  /** Only images of this OS family (`debian`, `ubuntu`, ...). */
  osFamily(family: string): this {
    this.#criteria.osFamily = family.toLowerCase();
    return this;
  }

  /** Only images whose OS version matches (a regular expression or its source). */
  osVersionMatches(pattern: string | RegExp): this {
    this.#criteria.osVersion = toRegExp('osVersionMatches', pattern);
    return this;
  }

  /** Only images whose architecture matches. */
  osArchMatches(pattern: string | RegExp): this {
    this.#criteria.osArch = toRegExp('osArchMatches', pattern);
    return this;
  }

  /** At least this much memory, in MiB. */
  minRam(mib: number): this {
    this.#criteria.minRam = positive('minRam', mib);
    return this;
  }

  /** At least this many cores. */
  minCores(cores: number): this {
    this.#criteria.minCores = positive('minCores', cores);
    return this;
  }

  /** At least this much disk, in GiB. */
  minDisk(gib: number): this {
    this.#criteria.minDisk = positive('minDisk', gib);
    return this;
  }

  /** Use exactly this hardware profile. */
  hardwareId(id: string): this {
    this.#criteria.hardwareId = id;
    return this;
  }

  /** Pick the smallest hardware profile that meets the minimums. */
  smallest(): this {
    this.#criteria.smallest = true;
    return this;
  }

  /** Per-node options (network, ports, config drive, user data, tags, ...). */
  options(options: TemplateOptions): this {
    this.#criteria.options = validators().checkTemplateOptions(options, 'options');
    return this;
  }

  /** Resolves the template; `NOT_FOUND` names the criteria nothing matched. */
  async build(): Promise<Template> {
    const c = this.#criteria;
    const all = await this.#source.listImages();
    if (c.imageId !== undefined && !all.some((image) => image.id === c.imageId))
      throw noSuchImage(
        c.imageId,
        all.map((image) => image.id),
      );
    const images = all.filter(
      (image) =>
        (c.imageId === undefined || image.id === c.imageId) &&
        (c.osFamily === undefined || image.os.family === c.osFamily) &&
        (c.osVersion === undefined || c.osVersion.test(image.os.version)) &&
        (c.osArch === undefined || c.osArch.test(image.os.arch)),
    );
    if (images.length === 0)
      throw new VmkitError('NOT_FOUND', `no image matches ${describe(c)}`, {
        details: { criteria: describe(c) },
      });
    images.sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : 1));
    const image = images[0] as Image;
    return Object.freeze({ image, hardware: await this.#hardware(image), options: c.options ?? {} });
  }

  async #hardware(image: Image): Promise<Hardware> {
    const c = this.#criteria;
    const profiles = [image.defaultHardware, ...(await this.#source.listHardwareProfiles())];
    if (c.hardwareId !== undefined) {
      const found = profiles.find((p) => p.id === c.hardwareId);
      if (!found) throw new VmkitError('NOT_FOUND', `no hardware profile ${c.hardwareId}`);
      return found;
    }
    const fits = (h: Hardware) =>
      h.ramMiB >= (c.minRam ?? 0) && h.cores >= (c.minCores ?? 0) && h.diskGiB >= (c.minDisk ?? 0);
    const constrained =
      c.smallest || c.minRam !== undefined || c.minCores !== undefined || c.minDisk !== undefined;
    if (!constrained) return image.defaultHardware;
    const candidates = profiles
      .filter(fits)
      .sort((a, b) => a.ramMiB - b.ramMiB || a.cores - b.cores || a.diskGiB - b.diskGiB);
    const chosen = candidates[0];
    if (!chosen) throw new VmkitError('NOT_FOUND', `no hardware profile meets ${describe(c)}`);
    return chosen;
  }
}

function rank(image: Image): number {
  return image.status === 'available' ? 0 : image.status === 'building' ? 1 : 2;
}

function toRegExp(field: string, pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return pattern;
  try {
    return new RegExp(pattern);
  } catch {
    throw invalidArgument(field, `must be a valid regular expression (got ${JSON.stringify(pattern)})`);
  }
}

function positive(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw invalidArgument(field, `must be a non-negative number (got ${value})`);
  return value;
}

function describe(c: Criteria): string {
  const parts = Object.entries(c)
    .filter(([k, v]) => v !== undefined && k !== 'options')
    .map(([k, v]) => `${k}=${v instanceof RegExp ? v.source : String(v)}`);
  return parts.length > 0 ? parts.join(', ') : 'any image';
}
