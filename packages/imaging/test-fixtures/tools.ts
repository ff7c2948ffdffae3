// Helpers for the integration tests: run the independent tools (xorriso, isoinfo, genisoimage,
// mtools, dosfstools, cloud-init, qemu) and walk directory trees. Test-only; not part of the package.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder of this file. */
export const FIXTURES = dirname(fileURLToPath(import.meta.url));
/** Root of the repository. */
export const REPO = join(FIXTURES, '..', '..', '..');

/** Output of a finished command. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs `cmd` with `args`; rejects when it cannot start or (unless `allowFailure`) exits non-zero. */
export function run(
  cmd: string,
  args: readonly string[],
  options: { allowFailure?: boolean; timeoutMs?: number; cwd?: string; encoding?: 'utf8' | 'latin1' } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        maxBuffer: 256 * 1024 * 1024,
        timeout: options.timeoutMs ?? 120_000,
        encoding: options.encoding ?? 'utf8',
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (error && (code === -1 || !options.allowFailure)) {
          reject(new Error(`${cmd} ${args.join(' ')} failed (${error.message}):\n${stderr}\n${stdout}`));
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
  });
}

/** A fresh temporary directory and its remover. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `vmkit-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** One entry of a directory tree on disk. */
export interface DiskEntry {
  readonly type: 'file' | 'directory' | 'symlink';
  readonly mode: number;
  readonly content?: Buffer;
  readonly target?: string;
}

/** Every entry under `root`, keyed by relative `/`-separated path. */
export async function readTree(root: string): Promise<Map<string, DiskEntry>> {
  const out = new Map<string, DiskEntry>();
  const walk = async (dir: string) => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const rel = relative(root, full).split('\\').join('/');
      const info = await stat(full).catch(() => undefined);
      const link = await readlink(full).catch(() => undefined);
      if (link !== undefined) out.set(rel, { type: 'symlink', mode: 0o777, target: link });
      else if (info?.isDirectory()) {
        out.set(rel, { type: 'directory', mode: info.mode & 0o7777 });
        await walk(full);
      } else if (info)
        out.set(rel, { type: 'file', mode: info.mode & 0o7777, content: await readFile(full) });
    }
  };
  await walk(root);
  return out;
}

/** Paths `xorriso -find` prints for an image, read with Rock Ridge, Joliet or plain names. */
export async function xorrisoPaths(
  iso: string,
  namespace: 'rockridge' | 'joliet' | 'plain',
): Promise<{ paths: string[]; stderr: string }> {
  const readFs = namespace === 'rockridge' ? [] : ['-read_fs', namespace === 'joliet' ? 'norock' : 'ecma119'];
  const { stdout, stderr } = await run('xorriso', [
    ...readFs,
    '-report_about',
    'WARNING',
    '-indev',
    iso,
    '-find',
    '/',
  ]);
  const paths = stdout
    .split('\n')
    .filter((l) => l.startsWith("'/"))
    .map((l) => l.slice(2, -1).replace(/'\\''/g, "'"))
    .filter((p) => p !== '');
  return { paths: paths.sort(), stderr };
}

/** Extracts an ISO with xorriso into `target` with the chosen names. */
export async function xorrisoExtract(
  iso: string,
  target: string,
  namespace: 'rockridge' | 'joliet' | 'plain' = 'rockridge',
): Promise<string> {
  const readFs = namespace === 'rockridge' ? [] : ['-read_fs', namespace === 'joliet' ? 'norock' : 'ecma119'];
  const { stderr } = await run('xorriso', [
    ...readFs,
    '-report_about',
    'WARNING',
    '-osirrox',
    'on',
    '-indev',
    iso,
    '-extract',
    '/',
    target,
  ]);
  return stderr;
}

/** Lines of xorriso's stderr that report trouble (WARNING, SORRY, FAILURE, FATAL). */
export function xorrisoComplaints(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /: (WARNING|SORRY|FAILURE|FATAL|MISHAP) :/.test(l));
}

/** Reads an extracted config drive with cloud-init's datasource code (Debian's /usr/bin/python3). */
export async function cloudInitRead(
  kind: 'nocloud' | 'openstack' | 'ovf',
  dir: string,
): Promise<Record<string, unknown>> {
  const { stdout } = await run('/usr/bin/python3', [join(FIXTURES, 'cloudinit_read.py'), kind, dir]);
  return JSON.parse(stdout) as Record<string, unknown>;
}
