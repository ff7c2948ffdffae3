import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../test-support/spawn-cli.js';

// Another user, as an attacker sharing the machine would be (the tests run as root).
const NOBODY = 65534;
// Any command that reads the config; the socket does not exist, so nothing reaches libvirtd.
const ARGS = ['images', '--uri', 'qemu:///system?socket=/nonexistent/vmkit-trust.sock'];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vmkit-trust-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes a `vmkit.config.mjs` into `dir` that leaves `marker` behind when it is run. */
async function plantConfig(dir: string, marker: string, mode = 0o644): Promise<string> {
  const file = join(dir, 'vmkit.config.mjs');
  await writeFile(
    file,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default {};\n`,
  );
  await chmod(file, mode);
  return file;
}

/** Makes `path` with `mode` (set after mkdir, so the umask does not change it). */
async function folder(path: string, mode = 0o755): Promise<string> {
  await mkdir(path, { recursive: true });
  await chmod(path, mode);
  return path;
}

const home = (dir: string) => ({ HOME: dir });

describe('vmkit reads config files only from places only root and the user can write', () => {
  it('does not run a vmkit.config.mjs that another user planted in a world-writable folder above the working directory', async () => {
    const shared = await folder(join(root, 'shared'), 0o1777);
    const config = await plantConfig(shared, join(root, 'planted.ran'));
    await chown(config, NOBODY, NOBODY);
    const work = await folder(join(shared, 'work', 'sub'));
    const run = await runCliProcess(ARGS, work, home('/root'));
    expect(existsSync(join(root, 'planted.ran'))).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`vmkit: ${config}: refused as a vmkit config: it is owned by uid 65534`);
    expect(run.stderr).toMatch(/remove it if it is not yours/);
    // Naming it explicitly does not make it trusted.
    const explicit = await runCliProcess(['--config', config, ...ARGS], work, home('/root'));
    expect(existsSync(join(root, 'planted.ran'))).toBe(false);
    expect(explicit.stderr).toContain('it is owned by uid 65534');
  });

  it('refuses a file of its own user in a world-writable folder, and says why', async () => {
    const shared = await folder(join(root, 'drop'), 0o1777);
    const config = await plantConfig(shared, join(root, 'drop.ran'));
    const run = await runCliProcess(ARGS, await folder(join(shared, 'w')), home('/root'));
    expect(existsSync(join(root, 'drop.ran'))).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${config}: refused as a vmkit config: its folder ${shared} is writable by group or others (mode 1777)`,
    );
  });

  it('refuses a file owned by another user in a private folder, a group-writable file, and a folder under a non-sticky shared one', async () => {
    const theirs = await folder(join(root, 'theirs'));
    const owned = await plantConfig(theirs, join(root, 'theirs.ran'));
    await chown(owned, NOBODY, NOBODY);
    const a = await runCliProcess(ARGS, theirs, home('/root'));
    expect(a.stderr).toContain(`${owned}: refused as a vmkit config: it is owned by uid 65534`);

    const group = await folder(join(root, 'group'));
    const writable = await plantConfig(group, join(root, 'group.ran'), 0o664);
    const b = await runCliProcess(ARGS, group, home('/root'));
    expect(b.stderr).toContain(
      `${writable}: refused as a vmkit config: it is writable by its group or others`,
    );

    const open = await folder(join(root, 'open'), 0o777);
    const below = await plantConfig(await folder(join(open, 'project')), join(root, 'open.ran'));
    const c = await runCliProcess(ARGS, join(open, 'project'), home('/root'));
    expect(c.stderr).toContain(
      `${below}: refused as a vmkit config: the folder ${open} above it is writable by group or others without the sticky bit`,
    );
    for (const run of [a, b, c]) expect(run.code).toBe(2);
    for (const m of ['theirs.ran', 'group.ran', 'open.ran']) expect(existsSync(join(root, m))).toBe(false);
  });

  it('does not look above the repository root or the home folder', async () => {
    const outer = await folder(join(root, 'outer'));
    await plantConfig(outer, join(root, 'outer.ran'));
    const repo = await folder(join(outer, 'repo'));
    await folder(join(repo, '.git'));
    await runCliProcess(ARGS, await folder(join(repo, 'src')), home('/root'));
    expect(existsSync(join(root, 'outer.ran'))).toBe(false);

    const userHome = await folder(join(outer, 'home'));
    await runCliProcess(ARGS, await folder(join(userHome, 'project')), home(userHome));
    expect(existsSync(join(root, 'outer.ran'))).toBe(false);
    // The stops themselves are searched.
    await plantConfig(userHome, join(root, 'home.ran'));
    await runCliProcess(ARGS, join(userHome, 'project'), home(userHome));
    expect(existsSync(join(root, 'home.ran'))).toBe(true);
  });

  it('still reads a config of its own user in a private folder, from below it', async () => {
    const mine = await folder(join(root, 'mine'));
    await plantConfig(mine, join(root, 'mine.ran'));
    await mkdir(join(mine, '.vmkit', 'store'), { recursive: true }); // images only reads a store
    const run = await runCliProcess(ARGS, await folder(join(mine, 'a', 'b')), home('/root'));
    expect(existsSync(join(root, 'mine.ran'))).toBe(true);
    // It got as far as connecting (to the socket that does not exist).
    expect(run.code).toBe(5);
  });
});
