import { describe, expect, it } from 'vitest';
import { vboxHostOf } from './host-identity.js';

describe('vboxHostOf', () => {
  it('treats loopback web service URLs as this machine', () => {
    for (const url of [
      'http://localhost:18083/',
      'http://127.0.0.1:18083',
      'http://127.1.2.3:1/',
      'http://[::1]:18083/',
    ])
      expect(vboxHostOf(url).local).toBe(true);
  });

  it('names a remote web service by its host, so its port leases are its own', () => {
    expect(vboxHostOf('http://VBox-A.example:18083/')).toEqual({ id: 'vbox-a.example', local: false });
    expect(vboxHostOf('https://10.0.0.7:18083/')).toEqual({ id: '10.0.0.7', local: false });
  });
});
