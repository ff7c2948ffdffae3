import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sha512Crypt } from './sha512-crypt.js';

describe('sha512Crypt', () => {
  it.each([
    ['hunter2', 'saltsalt'],
    ['p', 'x'],
    [
      'a long passphrase with spaces and ünïcode, longer than sixty-four bytes in all, to wrap',
      'sixteencharsalt.',
    ],
  ])('matches openssl passwd -6 for %j', (password, salt) => {
    const expected = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: password })
      .toString()
      .trim();
    expect(sha512Crypt(password, salt)).toBe(expected);
  });

  it('makes a new 16-character salt each time', () => {
    const one = sha512Crypt('pw');
    expect(one).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(sha512Crypt('pw')).not.toBe(one);
  });
});
