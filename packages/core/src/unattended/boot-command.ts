import { invalidArgument } from '../errors/vmkit-error.js';

/**
 * One step of a typed boot command: keys pressed together and released (`press`, Linux input
 * keycodes, modifiers first) or a pause (`wait`).
 */
export type BootCommandAction =
  | { readonly kind: 'press'; readonly keycodes: readonly number[] }
  | { readonly kind: 'wait'; readonly ms: number };

/** Linux input keycodes (`linux/input-event-codes.h`) of the keys a boot command names. */
const KEYCODES = {
  esc: 1,
  bs: 14,
  tab: 15,
  enter: 28,
  return: 28,
  spacebar: 57,
  leftctrl: 29,
  leftshift: 42,
  leftalt: 56,
  rightctrl: 97,
  rightalt: 100,
  rightshift: 54,
  leftsuper: 125,
  rightsuper: 126,
  home: 102,
  up: 103,
  pageup: 104,
  left: 105,
  right: 106,
  end: 107,
  down: 108,
  pagedown: 109,
  insert: 110,
  del: 111,
  f1: 59,
  f2: 60,
  f3: 61,
  f4: 62,
  f5: 63,
  f6: 64,
  f7: 65,
  f8: 66,
  f9: 67,
  f10: 68,
  f11: 87,
  f12: 88,
} as const satisfies Record<string, number>;

const MODIFIERS = new Set([
  'leftctrl',
  'leftshift',
  'leftalt',
  'rightctrl',
  'rightalt',
  'rightshift',
  'leftsuper',
  'rightsuper',
]);
const SHIFT = KEYCODES.leftshift;

/** The keycode of each printable ASCII character on a US keyboard, and whether it needs shift. */
const CHARACTERS: ReadonlyMap<string, readonly [number, boolean]> = (() => {
  const map = new Map<string, readonly [number, boolean]>();
  const rows: Array<[string, number]> = [
    ['1234567890-=', 2],
    ['qwertyuiop[]', 16],
    ["asdfghjkl;'`", 30],
    ['\\zxcvbnm,./', 43],
  ];
  const shifted: Array<[string, number]> = [
    ['!@#$%^&*()_+', 2],
    ['QWERTYUIOP{}', 16],
    ['ASDFGHJKL:"~', 30],
    ['|ZXCVBNM<>?', 43],
  ];
  for (const [table, shift] of [
    [rows, false],
    [shifted, true],
  ] as const) {
    for (const [chars, first] of table) {
      for (const [i, c] of [...chars].entries()) map.set(c, [first + i, shift]);
    }
  }
  map.set(' ', [KEYCODES.spacebar, false]);
  map.set('\n', [KEYCODES.enter, false]);
  return map;
})();

/** A `<waitN>` / `<wait1m30s>` / `<wait500ms>` duration in milliseconds, or undefined. */
function waitMs(name: string): number | undefined {
  if (name === 'wait') return 1000;
  const body = /^wait(.+)$/.exec(name)?.[1];
  if (body === undefined) return undefined;
  if (/^\d+$/.test(body)) return Number(body) * 1000;
  const parts = [...body.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== body) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

/**
 * Parses a boot command in Packer's key syntax into key presses and waits: text is typed as on a
 * US keyboard; `<enter>`, `<return>`, `<esc>`, `<tab>`, `<bs>`, `<del>`, `<spacebar>`, arrows
 * `<up>` `<down>` `<left>` `<right>`, `<home>`, `<end>`, `<pageUp>`, `<pageDown>`, `<insert>`,
 * `<f1>`…`<f12>`; `<wait>` (1 s), `<wait5>` (seconds), `<wait1m30s>`, `<wait500ms>`; modifiers
 * `<leftShift>` (pressed alone) and `<leftShiftOn>` / `<leftShiftOff>` (held over the keys
 * between them; also Ctrl, Alt, Super, left and right). Key names are case-insensitive. A `<`
 * that does not open a name is typed. An unknown `<name>` or a character no US key types is
 * refused (`INVALID_ARGUMENT` naming `field[i]` and the name).
 */
export function parseBootCommand(lines: readonly string[], field = 'bootCommand'): BootCommandAction[] {
  const actions: BootCommandAction[] = [];
  const held: number[] = [];
  for (const [i, line] of lines.entries()) {
    const at = `${field}[${i}]`;
    let pos = 0;
    while (pos < line.length) {
      const special = /^<([A-Za-z][A-Za-z0-9]*)>/.exec(line.slice(pos));
      if (special) {
        const raw = special[1] as string;
        const name = raw.toLowerCase();
        pos += special[0].length;
        const wait = waitMs(name);
        if (wait !== undefined) {
          actions.push({ kind: 'wait', ms: wait });
          continue;
        }
        const toggle = /^(.+?)(on|off)$/.exec(name);
        if (toggle && MODIFIERS.has(toggle[1] as string)) {
          const code = KEYCODES[toggle[1] as keyof typeof KEYCODES];
          if (toggle[2] === 'on' && !held.includes(code)) held.push(code);
          if (toggle[2] === 'off' && held.includes(code)) held.splice(held.indexOf(code), 1);
          continue;
        }
        if (!(name in KEYCODES)) throw invalidArgument(at, `<${raw}> is not a key vmkit knows`);
        actions.push({ kind: 'press', keycodes: [...held, KEYCODES[name as keyof typeof KEYCODES]] });
        continue;
      }
      const char = line[pos] as string;
      const key = CHARACTERS.get(char);
      if (!key)
        throw invalidArgument(at, `the character ${JSON.stringify(char)} has no key on a US keyboard`);
      const [code, shift] = key;
      const mods = shift && !held.includes(SHIFT) ? [...held, SHIFT] : [...held];
      actions.push({ kind: 'press', keycodes: [...mods, code] });
      pos++;
    }
  }
  return actions;
}

/** Linux keycodes whose PC scancode (set 1) has the `0xE0` prefix, with the code after it. */
const EXTENDED: ReadonlyMap<number, number> = new Map([
  [97, 0x1d], // right ctrl
  [100, 0x38], // right alt
  [102, 0x47], // home
  [103, 0x48], // up
  [104, 0x49], // page up
  [105, 0x4b], // left
  [106, 0x4d], // right
  [107, 0x4f], // end
  [108, 0x50], // down
  [109, 0x51], // page down
  [110, 0x52], // insert
  [111, 0x53], // delete
  [125, 0x5b], // left super
  [126, 0x5c], // right super
]);

/**
 * The PC keyboard scancodes (set 1, what VirtualBox's `IKeyboard.putScancodes` takes) of one
 * {@link BootCommandAction} press: every key's make code in order, then the break codes (make
 * `| 0x80`) in reverse. The keys {@link parseBootCommand} names below 89 have a set-1 code equal
 * to their Linux keycode; the others carry the `0xE0` prefix.
 */
export function setOneScancodes(keycodes: readonly number[]): number[] {
  const make = (k: number): number[] => {
    const extended = EXTENDED.get(k);
    if (extended !== undefined) return [0xe0, extended];
    if (k < 1 || k > 88) throw invalidArgument('keycodes', `keycode ${k} has no set-1 scancode here`);
    return [k];
  };
  const down = keycodes.flatMap(make);
  const up = [...keycodes].reverse().flatMap((k) => {
    const codes = make(k);
    return codes.length === 2 ? [0xe0, (codes[1] as number) | 0x80] : [(codes[0] as number) | 0x80];
  });
  return [...down, ...up];
}
