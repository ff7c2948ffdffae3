import { describe, expect, it } from 'vitest';
import { noSuchImage } from './no-such-image.js';

describe('noSuchImage', () => {
  it('is NOT_FOUND listing the known ids, sorted', () => {
    const error = noSuchImage('tine', ['tiny', 'small']);
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('no image tine (known images: small, tiny)');
    expect(error.details).toMatchObject({ imageId: 'tine', knownImages: ['small', 'tiny'] });
  });

  it('says when no image is known at all', () => {
    expect(noSuchImage('tiny', []).message).toBe('no image tiny (no image is configured or built)');
  });
});
