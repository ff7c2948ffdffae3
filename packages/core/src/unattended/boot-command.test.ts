import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { parseBootCommand, setOneScancodes } from './boot-command.js';

const press = (...keycodes: number[]) => ({ kind: 'press', keycodes });

describe('parseBootCommand (Packer key syntax)', () => {
  it('types text on a US keyboard, shifted characters with left shift', () => {
    expect(parseBootCommand(['aZ1!= /'])).toEqual([
      press(30),
      press(42, 44),
      press(2),
      press(42, 2),
      press(13),
      press(57),
      press(53),
    ]);
  });

  it('names keys case-insensitively: enter, esc, tab, bs, del, arrows, function keys', () => {
    expect(parseBootCommand(['<esc><Enter><tab><bs><del><up><down><f1><F12><pageUp>'])).toEqual(
      [1, 28, 15, 14, 111, 103, 108, 59, 88, 104].map((k) => press(k)),
    );
  });

  it('waits: <wait> is a second, <wait5> five, <wait1m30s> and <wait250ms> as written', () => {
    expect(parseBootCommand(['<wait><wait5><wait1m30s><wait250ms>'])).toEqual([
      { kind: 'wait', ms: 1000 },
      { kind: 'wait', ms: 5000 },
      { kind: 'wait', ms: 90_000 },
      { kind: 'wait', ms: 250 },
    ]);
  });

  it('holds modifiers between On and Off, and presses a lone modifier', () => {
    expect(parseBootCommand(['<leftCtrlOn>a<leftAltOn><del><leftAltOff><leftCtrlOff>b<leftShift>'])).toEqual([
      press(29, 30),
      press(29, 56, 111),
      press(48),
      press(42),
    ]);
  });

  it('types a < that opens no name, and joins lines', () => {
    expect(parseBootCommand(['a<', ' <enter>'])).toEqual([press(30), press(42, 51), press(57), press(28)]);
  });

  it('refuses an unknown key name and an untypeable character, naming the line and the key', () => {
    const unknown = (() => {
      try {
        parseBootCommand(['linux <enter>', '<esc><return><frobnicate>']);
      } catch (error) {
        return error;
      }
    })();
    expect(VmkitError.is(unknown, 'INVALID_ARGUMENT')).toBe(true);
    expect((unknown as Error).message).toBe('bootCommand[1]: <frobnicate> is not a key vmkit knows');
    expect(() => parseBootCommand(['é'], 'source.bootCommand')).toThrow(
      /source\.bootCommand\[0\]: the character "é"/,
    );
    expect(() => parseBootCommand(['<waitforever>'])).toThrow(/<waitforever> is not a key/);
  });

  it('gives set-1 scancodes: makes in order, breaks in reverse, 0xE0 before the extended keys', () => {
    expect(setOneScancodes([30])).toEqual([0x1e, 0x9e]);
    expect(setOneScancodes([42, 44])).toEqual([0x2a, 0x2c, 0xac, 0xaa]);
    expect(setOneScancodes([29, 56, 111])).toEqual([0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d]);
  });
});
