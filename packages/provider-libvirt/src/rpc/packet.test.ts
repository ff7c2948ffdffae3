import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, FrameDecoder, type PacketHeader } from './packet.js';
import { MESSAGE_MAX, MessageStatus, MessageType, REMOTE_PROGRAM } from './protocol.js';

const header = (serial: number, procedure = 4): PacketHeader => ({
  program: REMOTE_PROGRAM,
  version: 1,
  procedure,
  type: MessageType.CALL,
  serial,
  status: MessageStatus.OK,
});

describe('packet framing', () => {
  it('writes the length word (itself included) and the six header words', () => {
    const bytes = encodePacket(header(7, 66), new Uint8Array([1, 2, 3, 4]));
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '00000020' + '20008086' + '00000001' + '00000042' + '00000000' + '00000007' + '00000000' + '01020304',
    );
    const packet = decodePacket(bytes);
    expect(packet.header).toEqual(header(7, 66));
    expect([...packet.payload]).toEqual([1, 2, 3, 4]);
  });

  it('reassembles packets split at any byte boundary', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 50 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const wire = Buffer.concat(payloads.map((p, i) => encodePacket(header(i + 1), p)));
          const decoder = new FrameDecoder();
          const got: Uint8Array[] = [];
          let at = 0;
          let c = 0;
          while (at < wire.length) {
            const n = cuts[c++ % cuts.length] as number;
            for (const p of decoder.push(wire.subarray(at, at + n))) {
              expect(p.header.serial).toBe(got.length + 1);
              got.push(p.payload);
            }
            at += n;
          }
          expect(got.map((g) => [...g])).toEqual(payloads.map((p) => [...p]));
          expect(decoder.buffered).toBe(0);
        },
      ),
    );
  });

  it('rejects a huge length word as soon as it arrives, before buffering the packet', () => {
    const decoder = new FrameDecoder();
    const len = Buffer.alloc(4);
    len.writeUInt32BE(MESSAGE_MAX + 5);
    expect(() => decoder.push(len)).toThrow(/exceeds the limit/);
    const d2 = new FrameDecoder();
    len.writeUInt32BE(0xffff_ffff);
    expect(() => d2.push(Buffer.concat([len, Buffer.alloc(8)]))).toThrow(/exceeds the limit/);
  });

  it('rejects a length shorter than a header, and a truncated packet stays pending', () => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(12);
    expect(() => new FrameDecoder().push(len)).toThrow(/shorter than a header/);
    const d = new FrameDecoder();
    const full = encodePacket(header(1), new Uint8Array(10));
    expect(d.push(full.subarray(0, full.length - 1))).toEqual([]);
    expect(d.buffered).toBe(full.length - 1);
    expect(() => decodePacket(full.subarray(0, 20))).toThrow(/shorter than a header/);
    expect(() => decodePacket(full.subarray(0, 30))).toThrow(/length word/);
  });
});
