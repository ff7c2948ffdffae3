import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterSpec } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import type { LibvirtContext } from '../libvirt-context.js';
import { INSTALL_AGENT_SCRIPT, installAgentSkipReason, readInstallAgentConsole } from './install-agent.js';

const real = { realGuests: true, domainType: 'qemu' } as LibvirtContext;
const spec = (family: string, type: 'kernel' | 'bootIso' = 'kernel') =>
  ({ id: 'm', os: { family, version: '12', arch: 'x86_64' }, source: { type } }) as unknown as MasterSpec;
const dir = mkdtempSync(join(tmpdir(), 'vmkit-install-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the guest script with PATH holding only the fake commands in `bin` (and the shell's basics). */
function runScript(commands: Record<string, string>): string {
  const bin = mkdtempSync(join(dir, 'bin-'));
  for (const [name, body] of Object.entries(commands)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  mkdirSync(join(bin, 'empty'), { recursive: true });
  for (const tool of ['echo', 'sh']) {
    const path = execFileSync('sh', ['-c', `command -v ${tool} || true`], { encoding: 'utf8' }).trim();
    if (path.startsWith('/'))
      writeFileSync(join(bin, tool), `#!/bin/sh\nexec ${path} "$@"\n`, { mode: 0o755 });
  }
  return execFileSync('/bin/sh', ['-c', INSTALL_AGENT_SCRIPT], {
    encoding: 'utf8',
    env: { PATH: bin, LOG: join(bin, 'log') },
  });
}

describe('install-agent', () => {
  it('acts for Debian-like and Fedora-like families; says why not for others, the test driver and live ISOs', () => {
    expect(installAgentSkipReason(real, spec('debian'))).toBeUndefined();
    expect(installAgentSkipReason(real, spec('Ubuntu'))).toBeUndefined();
    expect(installAgentSkipReason(real, spec('fedora'))).toBeUndefined();
    expect(installAgentSkipReason(real, spec('linux'))).toMatch(/OS family linux names no distribution/);
    expect(installAgentSkipReason(real, spec('debian', 'bootIso'))).toMatch(/live ISO/);
    expect(
      installAgentSkipReason({ realGuests: false, domainType: 'test' } as LibvirtContext, spec('debian')),
    ).toMatch(/test driver runs no guest/);
  });

  it('installs with apt from the image first, after apt-get update when that fails, and says so', () => {
    const offline = runScript({ 'apt-get': 'echo "apt-get $*" >>"$LOG"' });
    expect(offline).toContain('VMKIT-AGENT installed');
    const online = runScript({
      'apt-get': 'echo "apt-get $*"; case "$*" in *--no-download*) exit 100 ;; esac',
    });
    expect(online).toMatch(
      /--no-download[\s\S]*apt-get update[\s\S]*apt-get install -y -q --no-install-recommends qemu-guest-agent/,
    );
    expect(online).toContain('VMKIT-AGENT installed');
    expect(readInstallAgentConsole(online)).toEqual({});
  });

  it('fails when the package manager fails, and reports skipped in a guest without one', () => {
    expect(() => runScript({ 'apt-get': 'exit 100' })).toThrow();
    const none = runScript({});
    expect(readInstallAgentConsole(none)).toEqual({ skipped: 'the guest has no apt-get or dnf' });
    expect(readInstallAgentConsole(runScript({ 'qemu-ga': 'exit 0' }))).toEqual({});
    expect(() => readInstallAgentConsole('nothing here')).toThrow(/neither an installed nor a skipped/);
  });
});
