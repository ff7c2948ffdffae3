import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Core's agent transport (not on a public entry): the one every agent-backed node uses.
import { AgentTransport } from '../../../../core/dist/guest/agent-transport.js';
import { natNic, type RunningNode, runningNode } from '../../../test-support/vbox-running-node.js';

// Core's agent transport (scripts through its wrapper, copies SHA-256 checked in the guest) over
// VirtualBox Guest Control, against the simulator's guests.

const LOGIN = { user: 'root', password: 'root-pw' };

describe('core agent transport over VirtualBox Guest Control', () => {
  let running: RunningNode;
  let transport: AgentTransport;

  beforeAll(async () => {
    running = await runningNode('tr', [natNic('52:54:00:00:20:01')], {
      behaviour: { guestLogins: { [LOGIN.user]: LOGIN.password } },
    });
    transport = new AgentTransport(await running.provider.guestAgent(running.node, { credentials: LOGIN }));
  });
  afterAll(async () => {
    await transport?.close();
    await running?.close();
  });

  it('runs scripts with exit codes, stdout and stderr apart, and stdin', async () => {
    const r = await transport.run('echo out; echo err >&2; exit 3', {});
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', truncated: false });
    expect((await transport.run('exit 0', {})).exitCode).toBe(0);
    expect((await transport.run('no-such-command-here', {})).exitCode).toBe(127);
    expect((await transport.run('cat', { stdin: 'echoed back' })).stdout).toBe('echoed back');
  });

  it('copies a file in and out unchanged (SHA-256)', async () => {
    const bytes = randomBytes(300 * 1024 + 7);
    async function* source() {
      yield bytes;
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    const put = await transport.copyIn(source(), '/root/in.bin', { mode: 0o640 });
    expect(put).toMatchObject({ bytes: bytes.length, sha256: sha });
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        chunks.push(chunk);
        done();
      },
    });
    const got = await transport.copyOut('/root/in.bin', sink, {});
    expect(got).toMatchObject({ bytes: bytes.length, sha256: sha });
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('kills the script on a timeout', async () => {
    await expect(transport.run('sleep 30', { timeoutMs: 500 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
