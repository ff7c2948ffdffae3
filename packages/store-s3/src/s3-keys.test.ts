import { describe, expect, it } from 'vitest';
import { S3KeyLayout } from './s3-keys.js';

describe('S3KeyLayout', () => {
  it('puts containers under the prefix, with the marker at the container prefix', () => {
    const keys = new S3KeyLayout('vmkit/');
    expect(keys.containerPrefix('images')).toBe('vmkit/images/');
    expect(keys.blobKey('images', 'a/b.json')).toBe('vmkit/images/a/b.json');
    expect(keys.probeKey('x').startsWith('vmkit/.')).toBe(true);
  });
});
