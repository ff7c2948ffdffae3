import { describe, expect, it } from 'vitest';
import { parseShareFlag, SHARE_FLAG_RULE } from './share-flag.js';

describe('--share values', () => {
  it('parses HOST:GUEST and HOST:GUEST:ro|rw, the host path made absolute from the working directory', () => {
    const all = ['/srv/data:/data:ro', 'src:/mnt/src', '/a:b:/mnt/ab:rw'].reduce(
      (acc, t) => parseShareFlag(t, acc),
      [] as ReturnType<typeof parseShareFlag>,
    );
    expect(all).toEqual([
      { hostPath: '/srv/data', guestPath: '/data', readOnly: true },
      { hostPath: `${process.cwd()}/src`, guestPath: '/mnt/src' },
      { hostPath: '/a:b', guestPath: '/mnt/ab' },
    ]);
  });

  it('refuses a value without an absolute guest path, with the rule', () => {
    for (const bad of ['', '/srv', '/srv:data', ':/data', '/srv:/data/'])
      expect(() => parseShareFlag(bad), bad).toThrow(SHARE_FLAG_RULE);
  });
});
