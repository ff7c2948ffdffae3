import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { CloneSpec, MasterRef } from '@vmkit/core/spi';
import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Core's agent transport (not on a public entry): the one every agent-backed node uses.
import { AgentTransport } from '../../../../core/dist/guest/agent-transport.js';
import {
  isoMasterSpec,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';
import type { VirtualBoxProvider } from '../virtualbox-provider.js';

// Core's agent transport (scripts through its wrapper, copies SHA-256 checked in the guest) over
// VirtualBox Guest Control, against the simulator's guests.

const LOGIN = { user: 'root', password: 'root-pw' };

describe('core agent transport over VirtualBox Guest Control', () => {
  let env: VboxTestEnv;
  let provider: VirtualBoxProvider;
  let master: MasterRef;
  let node: string;
  let transport: AgentTransport;

  beforeAll(async () => {
    env = await vboxTestEnv({ behaviour: { guestLogins: { [LOGIN.user]: LOGIN.password } } });
    provider = testProvider(env);
    master = await runMasterBuild(provider, await isoMasterSpec(env, 'tr'), 'tr');
    const spec: CloneSpec = {
      name: 'tr',
      group: 'tr',
      imageId: 'tr',
      master,
      hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
      network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:20:01', portForwards: [] }] },
      linked: true,
      tags: [],
      userMetadata: {},
    };
    node = (await provider.cloneNode(spec)).id;
    await provider.startNode(node);
    transport = new AgentTransport(await provider.guestAgent(node, { credentials: LOGIN }));
  });
  afterAll(async () => {
    await transport?.close();
    await provider?.destroyNode(node).catch(() => {});
    await provider?.deleteMaster(master).catch(() => {});
    await provider?.close();
    await env?.close();
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
