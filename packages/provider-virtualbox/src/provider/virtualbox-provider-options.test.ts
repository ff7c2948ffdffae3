import { type Logger, silentLogger } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INSTALL_TIMEOUT_MS,
  DEFAULT_LOCK_RETRIES,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_RECONCILE_AFTER_MS,
  DEFAULT_RECONNECT_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  resolveVirtualBoxProviderOptions,
} from './virtualbox-provider-options.js';

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

  it('fills each number from its exported DEFAULT_* constant, and the logger with the silent one', () => {
    const o = resolveVirtualBoxProviderOptions({ url: 'http://127.0.0.1:18083' });
    expect(o).toMatchObject({
      installTimeoutMs: DEFAULT_INSTALL_TIMEOUT_MS,
      stopGraceMs: DEFAULT_STOP_GRACE_MS,
      pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
      lockRetries: DEFAULT_LOCK_RETRIES,
      reconcileAfterMs: DEFAULT_RECONCILE_AFTER_MS,
      reconnectTimeoutMs: DEFAULT_RECONNECT_TIMEOUT_MS,
    });
    expect([DEFAULT_INSTALL_TIMEOUT_MS, DEFAULT_STOP_GRACE_MS, DEFAULT_LOCK_RETRIES]).toEqual([
      7_200_000, 30_000, 20,
    ]);
    expect(o.logger).toBe(silentLogger);
  });

  it('keeps the logger it is given', () => {
    const logger: Logger = { ...silentLogger };
    expect(resolveVirtualBoxProviderOptions({ url: 'http://h/', logger }).logger).toBe(logger);
  });

  it('keeps a Guest Control login only when given', () => {
    expect(resolveVirtualBoxProviderOptions({ url: 'http://h/' }).guestLogin).toBeUndefined();
    const o = resolveVirtualBoxProviderOptions({
      url: 'http://h/',
      guestLogin: { user: 'vagrant', password: 'vagrant' },
    });
    expect(o.guestLogin).toEqual({ user: 'vagrant', password: 'vagrant' });
  });

  it('takes 0 for times and counts', () => {
    const o = resolveVirtualBoxProviderOptions({
      url: 'http://h/',
      stopGraceMs: 0,
      lockRetries: 0,
      reconcileAfterMs: 0,
      reconnectTimeoutMs: 0,
    });
    expect(o).toMatchObject({ stopGraceMs: 0, lockRetries: 0, reconcileAfterMs: 0, reconnectTimeoutMs: 0 });
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
    [{ url: 'http://h/', lockRetries: 1001 }, /^lockRetries: must be an integer from 0 to 1000 \(got 1001\)/],
    // Times are whole ms, checked by core's `integerOption` as libvirt's are.
    [{ url: 'http://h/', stopGraceMs: 1.5 }, /^stopGraceMs: must be an integer at least 0 \(got 1.5\)/],
    [{ url: 'http://h/', installTimeoutMs: Number.NaN }, /^installTimeoutMs: /],
    [{ url: 'http://h/', pollIntervalMs: Number.POSITIVE_INFINITY }, /^pollIntervalMs: /],
    [{ url: 'http://h/', reconnectTimeoutMs: '5' as unknown as number }, /^reconnectTimeoutMs: /],
    [{ url: 'http://h/', guestLogin: { user: '', password: 'x' } }, /^guestLogin\.user: /],
    [{ url: 'http://h/', guestLogin: { user: 'u' } as never }, /^guestLogin\.password: must be a string/],
  ])('refuses %j naming the option', (options, message) => {
    expect(() => resolveVirtualBoxProviderOptions(options)).toThrow(message);
  });
});
