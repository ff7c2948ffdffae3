import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SharedFolder } from '../model/shared-folder.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { MemoryProvider } from '../testing/memory-provider.js';
import { outcome, provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
let host: string;
beforeEach(async () => {
  s = await scratch();
  host = mkdtempSync(join(tmpdir(), 'vmkit-share-host-'));
});
afterEach(async () => {
  await s.dispose();
  rmSync(host, { recursive: true, force: true });
});

/** A memory provider that says it shares folders through virtiofs and records what it was asked. */
function sharingProvider(): { p: MemoryProvider; asked: CloneSpec[] } {
  const p = provider();
  const asked: CloneSpec[] = [];
  const caps = p.capabilities.bind(p);
  const clone = p.cloneNode.bind(p);
  p.capabilities = async () => ({ ...(await caps()), sharedFolders: 'virtiofs' });
  p.cloneNode = async (spec, options) => {
    asked.push(spec);
    const { sharedFolders: _, ...rest } = spec;
    return clone(rest, options);
  };
  return { p, asked };
}

describe('sharedFolders', () => {
  it('hands the provider each folder with its tag, and a config drive whose user data mounts them beside the template own', async () => {
    const { p, asked } = sharingProvider();
    const service = await s.service(p);
    const sharedFolders: SharedFolder[] = [
      { hostPath: host, guestPath: '/mnt/a/b' },
      { hostPath: host, guestPath: '/mnt/a', readOnly: true },
    ];
    await service.createNodesInGroup('web', 2, { sharedFolders, userData: '#cloud-config\nruncmd: [ls]\n' });
    expect(asked).toHaveLength(2);
    for (const spec of asked) {
      expect(spec.sharedFolders).toEqual([
        { tag: 'vmkit0', hostPath: host, guestPath: '/mnt/a/b', readOnly: false },
        { tag: 'vmkit1', hostPath: host, guestPath: '/mnt/a', readOnly: true },
      ]);
      const userData = String(spec.configDrive?.userData);
      expect(userData).toMatch(/^Content-Type: multipart\/mixed; boundary="==vmkit-[0-9a-f]{24}=="\n/);
      expect(userData).toContain(Buffer.from('#cloud-config\nruncmd: [ls]\n').toString('base64'));
      // Parents first, whatever the template's order.
      expect(userData).toContain("vmkit_share vmkit1 ro '/mnt/a'\nvmkit_share vmkit0 rw '/mnt/a/b'\n");
      expect(userData).toContain('mount -t virtiofs');
    }
  });

  it('implies a config drive whose user data is the boothook alone when the template has none', async () => {
    const { p, asked } = sharingProvider();
    const service = await s.service(p);
    await service.createNodesInGroup('web', 1, {
      sharedFolders: [{ hostPath: host, guestPath: "/srv/it's here" }],
    });
    const drive = asked[0]?.configDrive;
    expect(drive?.format).toBe('nocloud');
    expect(String(drive?.userData)).toMatch(/^#cloud-boothook\n#!\/bin\/sh\n/);
    expect(String(drive?.userData)).toContain("vmkit_share vmkit0 rw '/srv/it'\\''s here'\n");
  });

  it('refuses bad folders with INVALID_ARGUMENT naming the field, before any work', async () => {
    const p = provider();
    const service = await s.service(p);
    const file = join(host, 'file');
    writeFileSync(file, 'x');
    const bad = (sharedFolders: unknown, more: object = {}) =>
      outcome(service.createNodesInGroup('web', 1, { sharedFolders, ...more } as never));
    expect(await bad([{ hostPath: 'relative', guestPath: '/mnt' }])).toMatch(
      /^INVALID_ARGUMENT \S*sharedFolders\[0\]\.hostPath: .*must be an absolute, normalised path/,
    );
    expect(await bad([{ hostPath: host, guestPath: '/' }])).toMatch(
      /sharedFolders\[0\]\.guestPath: .*other than \//,
    );
    expect(await bad([{ hostPath: host, guestPath: '/mnt/../etc' }])).toMatch(
      /sharedFolders\[0\]\.guestPath/,
    );
    expect(await bad([{ hostPath: host, guestPath: '/mnt/x/' }])).toMatch(/sharedFolders\[0\]\.guestPath/);
    expect(await bad([{ hostPath: host, guestPath: '/mnt/a\nreboot' }])).toMatch(
      /sharedFolders\[0\]\.guestPath: must not contain control characters/,
    );
    expect(await bad([{ hostPath: host, guestPath: '/mnt', readonly: true }])).toMatch(
      /sharedFolders\[0\]: unknown key "readonly"/,
    );
    expect(
      await bad([
        { hostPath: host, guestPath: '/mnt/a' },
        { hostPath: host, guestPath: '/mnt/a', readOnly: true },
      ]),
    ).toMatch(
      /sharedFolders\[1\]\.guestPath: must not repeat a guest path \(\/mnt\/a is also sharedFolders\[0\]/,
    );
    expect(
      await bad(Array.from({ length: 17 }, (_, i) => ({ hostPath: host, guestPath: `/mnt/${i}` }))),
    ).toMatch(/sharedFolders: must have at most 16/);
    expect(p.stats.clones).toBe(0);
  });

  it('refuses a missing host path or a file, naming the field and the path, before the master is built', async () => {
    const { p, asked } = sharingProvider();
    const service = await s.service(p);
    const file = join(host, 'file');
    writeFileSync(file, 'x');
    const missing = join(host, 'gone');
    const ask = (hostPath: string) =>
      outcome(
        service.createNodesInGroup('web', 1, {
          sharedFolders: [
            { hostPath: host, guestPath: '/a' },
            { hostPath, guestPath: '/b' },
          ],
        }),
      );
    expect(await ask(missing)).toBe(
      `INVALID_ARGUMENT sharedFolders[1].hostPath: sharedFolders[1].hostPath: must be an existing directory of the host: ${missing} does not exist`,
    );
    expect(await ask(file)).toMatch(
      new RegExp(`sharedFolders\\[1\\]\\.hostPath: .*${file} is not a directory`),
    );
    expect(await ask(join(file, 'below'))).toMatch(/below does not exist/);
    expect([asked.length, p.stats.builds]).toEqual([0, 0]);
  });

  it('is UNSUPPORTED, naming sharedFolders, where the provider has none; and needs a config drive', async () => {
    const p = provider();
    const service = await s.service(p);
    const sharedFolders = [{ hostPath: host, guestPath: '/mnt' }];
    expect(await outcome(service.createNodesInGroup('web', 1, { sharedFolders }))).toMatch(
      /^UNSUPPORTED sharedFolders: sharedFolders: memory cannot share host folders/,
    );
    const { p: sharing } = sharingProvider();
    const other = await s.service(sharing);
    expect(await outcome(other.createNodesInGroup('web', 1, { sharedFolders, configDrive: false }))).toMatch(
      /^INVALID_ARGUMENT configDrive: configDrive: must not be false with sharedFolders/,
    );
    expect([p.stats.clones, sharing.stats.clones, p.stats.builds]).toEqual([0, 0, 0]);
  });
});
