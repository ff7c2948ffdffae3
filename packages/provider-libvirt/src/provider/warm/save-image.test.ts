import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeSaveImageHead,
  MAX_SAVE_IMAGE_DATA_BYTES,
  parseSaveImageData,
  parseSaveImageHeader,
  SAVE_IMAGE_HEADER_BYTES,
} from './save-image.js';
import { feedCloneStateImage } from './state-image-feed.js';
import { readSaveImageFile } from './state-image-file.js';

const dir = mkdtempSync(join(tmpdir(), 'vmkit-save-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const XML = "<domain type='qemu'><name>template</name><uuid>1</uuid></domain>";
const COOKIE = '<qemu-migration><name>template</name></qemu-migration>';
const header = { version: 2, wasRunning: true, compression: 0 };

/** A save image as libvirt lays it out: header, padded data section, then a stream. */
function image(dataLength = 4096, stream = Buffer.from('QEVM-stream-bytes'.repeat(100))): Buffer {
  return Buffer.concat([encodeSaveImageHead(header, { xml: XML, cookie: COOKIE }, dataLength), stream]);
}

function withU32(buf: Buffer, index: number, value: number): Buffer {
  const copy = Buffer.from(buf);
  copy.writeUInt32LE(value, 16 + 4 * index);
  return copy;
}

describe('libvirt save-image header', () => {
  it('round-trips the header, the XML and the cookie', () => {
    const bytes = image();
    const parsed = parseSaveImageHeader(bytes);
    expect(parsed).toEqual({
      version: 2,
      dataLength: 4096,
      wasRunning: true,
      compression: 0,
      cookieOffset: Buffer.byteLength(XML) + 1,
    });
    const data = bytes.subarray(SAVE_IMAGE_HEADER_BYTES, SAVE_IMAGE_HEADER_BYTES + 4096);
    expect(parseSaveImageData(parsed, data)).toEqual({ xml: XML, cookie: COOKIE });
  });

  it('refuses a bad magic, an unfinished save, a short header', () => {
    const bad = Buffer.from(image());
    bad.write('NotLibvirtSave!!', 0, 'latin1');
    expect(() => parseSaveImageHeader(bad)).toThrow(/magic must be LibvirtQemudSave/);
    const partial = Buffer.from(image());
    partial.write('LibvirtQemudPart', 0, 'latin1');
    expect(() => parseSaveImageHeader(partial)).toThrow(/never finished/);
    expect(() => parseSaveImageHeader(image().subarray(0, 40))).toThrow(/header must be 92 bytes/);
  });

  it('refuses a huge or zero data length before reading the data, and odd versions and flags', () => {
    expect(() => parseSaveImageHeader(withU32(image(), 1, 0xffffffff))).toThrow(
      new RegExp(`data length must be 1 to ${MAX_SAVE_IMAGE_DATA_BYTES}`),
    );
    expect(() => parseSaveImageHeader(withU32(image(), 1, 0))).toThrow(/data length/);
    expect(() => parseSaveImageHeader(withU32(image(), 0, 3))).toThrow(/version must be 1 or 2/);
    expect(() => parseSaveImageHeader(withU32(image(), 2, 7))).toThrow(/was-running/);
    expect(() => parseSaveImageHeader(withU32(image(), 3, 99))).toThrow(/compression/);
    expect(() => parseSaveImageHeader(withU32(image(), 4, 4096))).toThrow(/cookie offset/);
    try {
      parseSaveImageHeader(withU32(image(), 1, 0xffffffff));
    } catch (error) {
      expect(error).toMatchObject({ code: 'CORRUPT', details: { field: 'saveImage' } });
    }
  });

  it('refuses data whose XML or cookie has no NUL, or that is no domain', () => {
    const h = parseSaveImageHeader(image());
    expect(() => parseSaveImageData(h, Buffer.alloc(4096, 0x41))).toThrow(/XML must end with a NUL/);
    const notDomain = Buffer.alloc(4096);
    notDomain.write('<network/>');
    expect(() => parseSaveImageData(h, notDomain)).toThrow(/<domain> element/);
    const noCookieEnd = Buffer.alloc(4096, 0x42);
    noCookieEnd.write(`${XML}\0`);
    expect(() => parseSaveImageData(h, noCookieEnd)).toThrow(/cookie must end with a NUL/);
  });

  it('refuses content that does not fit the data length', () => {
    expect(() => encodeSaveImageHead(header, { xml: XML }, 10)).toThrow(/do not fit/);
  });
});

/** Everything read from `path` (a FIFO) until its writer closes. */
async function readAll(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('clone state images fed through a FIFO', () => {
  it('carry the clone XML and cookie, then the stream byte for byte; the source stays unchanged and the FIFO goes', async () => {
    const stream = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const source = join(dir, 'template.state');
    writeFileSync(source, image(4096, stream));
    const before = readFileSync(source);
    const read = await readSaveImageFile(source);
    expect(read.xml).toBe(XML);
    for (const [name, xml] of [
      ['small', "<domain type='qemu'><name>clone-1</name><uuid>2</uuid></domain>"],
      ['big', `<domain type='qemu'><name>clone-2</name>${'<!-- pad -->'.repeat(1000)}</domain>`],
    ] as const) {
      const feed = await feedCloneStateImage({ ...read, path: source }, join(dir, `${name}.state`), {
        xml,
        cookie: COOKIE,
      });
      const bytes = await readAll(feed.path);
      await feed.done;
      await feed.close();
      const h = parseSaveImageHeader(bytes);
      const data = bytes.subarray(SAVE_IMAGE_HEADER_BYTES, SAVE_IMAGE_HEADER_BYTES + h.dataLength);
      expect(parseSaveImageData(h, data)).toEqual({ xml, cookie: COOKIE });
      expect(bytes.subarray(SAVE_IMAGE_HEADER_BYTES + h.dataLength)).toEqual(stream);
      expect(existsSync(feed.path)).toBe(false);
    }
    expect(readFileSync(source)).toEqual(before);
  });

  it('a feed nobody reads is ended by close, its copying process with it', async () => {
    const source = join(dir, 'unread.state');
    writeFileSync(source, image(4096, Buffer.alloc(1_000_000, 7)));
    const read = await readSaveImageFile(source);
    const feed = await feedCloneStateImage({ ...read, path: source }, join(dir, 'unread-clone.state'), {
      xml: XML,
    });
    // The copy has started (`dd` blocked on the full FIFO), so close has a process to end.
    const copiers = () => {
      try {
        return execFileSync('pgrep', ['-f', `if=${source}`], { encoding: 'utf8' })
          .trim()
          .split('\n');
      } catch {
        return []; // pgrep exits 1 when none matches
      }
    };
    for (let i = 0; i < 100 && copiers().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(copiers()).toHaveLength(1);
    await feed.close();
    await feed.done;
    expect(existsSync(feed.path)).toBe(false);
    for (let i = 0; i < 100 && copiers().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(copiers()).toEqual([]);
  });

  it('refuses a file with no stream after its data', async () => {
    const path = join(dir, 'headless.state');
    writeFileSync(path, encodeSaveImageHead(header, { xml: XML }, 4096));
    await expect(readSaveImageFile(path)).rejects.toThrow(/must hold a migration stream/);
  });
});
