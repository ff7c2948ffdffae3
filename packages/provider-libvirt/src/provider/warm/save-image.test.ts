import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { readSaveImageFile, writeCloneStateImage } from './state-image-file.js';

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

describe('clone state images', () => {
  it('keeps the stream byte for byte and the source unchanged, in place when the XML fits and after a longer head when not', async () => {
    const stream = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    const source = join(dir, 'template.state');
    writeFileSync(source, image(4096, stream));
    const before = readFileSync(source);
    const read = await readSaveImageFile(source);
    expect(read.xml).toBe(XML);

    const small = join(dir, 'small.state');
    const cloneXml = "<domain type='qemu'><name>clone-1</name><uuid>2</uuid></domain>";
    expect(
      await writeCloneStateImage({ ...read, path: source }, small, { xml: cloneXml, cookie: COOKIE }),
    ).toBe('clone');
    const smallRead = await readSaveImageFile(small);
    expect(smallRead.xml).toBe(cloneXml);
    expect(smallRead.cookie).toBe(COOKIE);
    expect(readFileSync(small).subarray(SAVE_IMAGE_HEADER_BYTES + 4096)).toEqual(stream);

    const big = join(dir, 'big.state');
    const bigXml = `<domain type='qemu'><name>clone-2</name>${'<!-- pad -->'.repeat(1000)}</domain>`;
    expect(await writeCloneStateImage({ ...read, path: source }, big, { xml: bigXml })).toBe('stream');
    const bigRead = await readSaveImageFile(big);
    expect(bigRead.xml).toBe(bigXml);
    expect(readFileSync(big).subarray(SAVE_IMAGE_HEADER_BYTES + bigRead.header.dataLength)).toEqual(stream);
    expect(readFileSync(source)).toEqual(before);
  });

  it('refuses a file with no stream after its data', async () => {
    const path = join(dir, 'headless.state');
    writeFileSync(path, encodeSaveImageHead(header, { xml: XML }, 4096));
    await expect(readSaveImageFile(path)).rejects.toThrow(/must hold a migration stream/);
  });
});
