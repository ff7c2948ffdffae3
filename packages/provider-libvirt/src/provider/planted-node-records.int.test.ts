// Someone who can define domains rewrites a node's record (vmkit's <metadata> element) so that
// destroying the node would delete volumes it does not own: another node's disk, the master.
// Another process's provider must then treat the domain as not vmkit's and delete nothing; and a
// record written by an earlier vmkit (no version) must still be read, listed and destroyed.
import { type CloneSpec, runMasterBuild } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { type LibvirtProvider, libvirtProvider } from './libvirt-provider.js';
import { XML_INACTIVE } from './node/node-lookup.js';
import { xmlEscape } from './xml/xml-text.js';

const URI = 'test+unix:///default';
const POOL = 'default-pool';

describe('planted node records (libvirt test driver)', () => {
  const prefix = runPrefix('r');
  let provider: LibvirtProvider;
  let master: Awaited<ReturnType<typeof runMasterBuild>>;
  const fresh = () => libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
  const spec = (name: string): CloneSpec => ({
    name,
    group: 'g',
    imageId: 'planted',
    master,
    hardware: { id: 'micro', cores: 1, ramMiB: 128, diskGiB: 1 },
    linked: true,
    tags: [],
    userMetadata: {},
    network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:02:01', portForwards: [] }] },
  });

  /** Rewrites the JSON of a domain's vmkit record, as anyone who can define domains can. */
  async function plant(domain: string, rewrite: (record: Record<string, unknown>) => unknown): Promise<void> {
    const client = provider.client!;
    const xml = await client.domains.getXmlDesc(await client.domains.lookupByName(domain), XML_INACTIVE);
    const element = /(<vmkit:node xmlns:vmkit=["'][^"']+["']>)([^<]*)(<\/vmkit:node>)/.exec(xml);
    if (!element?.[2]) throw new Error(`no vmkit record in ${domain}`);
    const fromXml = (s: string) =>
      s
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    const json = JSON.stringify(rewrite(JSON.parse(fromXml(element[2])) as Record<string, unknown>));
    await client.domains.defineXml(xml.replace(element[0], `${element[1]}${xmlEscape(json)}${element[3]}`));
  }

  beforeAll(async () => {
    provider = fresh();
    master = await runMasterBuild(provider, testGuestMasterSpec('planted'), `${prefix}planted`);
  });
  afterAll(async () => {
    await provider.deleteMaster(master).catch(() => {});
    await provider.close();
    await sweep(URI, prefix, POOL);
  });

  it("a record naming another node's disk and the master as its volumes: they survive its destroy", async () => {
    const a = await provider.cloneNode(spec('a'));
    const b = await provider.cloneNode(spec('b'));
    await plant(a.id, (r) => ({ ...r, ext: { volumes: [`${a.id}.qcow2`, `${b.id}.qcow2`, master.id] } }));
    const other = fresh();
    try {
      expect((await other.listNodes()).map((n) => n.id)).toEqual([b.id]);
      await expect(other.startNode(a.id)).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining(`node record: ext.volumes[1] must be a volume of domain ${a.id}`),
      });
      await other.destroyNode(a.id); // not a node of vmkit's: nothing is removed
      const { domains, volumes } = await leftovers(URI, prefix, POOL);
      expect(domains.sort()).toEqual([a.id, b.id].sort());
      expect(volumes).toEqual(expect.arrayContaining([`${a.id}.qcow2`, `${b.id}.qcow2`, master.id]));
    } finally {
      await other.close();
    }
  });

  it('a record written before records were versioned is listed and destroyed with its volumes', async () => {
    const c = await provider.cloneNode(spec('c'));
    // The shape libvirt's StoredNodeMetadata had: no `v`, the volumes beside the common fields.
    await plant(c.id, ({ v: _v, ext, ...common }) => ({
      ...common,
      volumes: (ext as { volumes: string[] }).volumes,
    }));
    const other = fresh();
    try {
      expect((await other.listNodes()).find((n) => n.id === c.id)).toMatchObject({ name: 'c', group: 'g' });
      await other.destroyNode(c.id);
      const { domains, volumes } = await leftovers(URI, prefix, POOL);
      expect(domains).not.toContain(c.id);
      expect(volumes).not.toContain(`${c.id}.qcow2`);
    } finally {
      await other.close();
    }
  });
});
