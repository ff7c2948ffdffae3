import { describe, expect, it } from 'vitest';
import { resolveVirtualBoxProviderOptions } from './virtualbox-provider-options.js';

describe('resolveVirtualBoxProviderOptions', () => {
  it('fills defaults and freezes', () => {
    const o = resolveVirtualBoxProviderOptions({ url: 'http://127.0.0.1:18083' });
    expect(o).toMatchObject({
      url: 'http://127.0.0.1:18083/',
      username: '',
      namePrefix: 'vmkit-',
      lockRetries: 20,
      osTypeId: 'Linux_64',
    });
    expect(o.machineFolder).toMatch(/\.vmkit\/virtualbox$/);
    expect(Object.isFrozen(o)).toBe(true);
  });

  it.each([
    [{ url: 'not a url' }, /^url: /],
    [{ url: 'file:///x' }, /^url: must be an http\(s\) URL/],
    [{ url: 'http://a:b@h/' }, /^url: must not carry credentials/],
    [{ url: 'http://h/', namePrefix: '' }, /^namePrefix: /],
    [{ url: 'http://h/', namePrefix: 'a/b' }, /^namePrefix: /],
    [{ url: 'http://h/', machineFolder: 'x/y' }, /^machineFolder: must be an absolute path/],
    [{ url: 'http://h/', stopGraceMs: -1 }, /^stopGraceMs: /],
    [{ url: 'http://h/', lockRetries: 1.5 }, /^lockRetries: /],
  ])('refuses %j naming the option', (options, message) => {
    expect(() => resolveVirtualBoxProviderOptions(options)).toThrow(message);
  });
});
