// Peak resident memory of child processes, for the benchmarks' memory figures.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Peak resident memory (MiB) of a command: its kernel high-water mark (`VmHWM` in
 * /proc/<pid>/status), sampled every 2 ms until it exits; the same method for every program.
 */
export function peakRssOf(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let peak = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const sample = () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peak = Math.max(peak, Number(match[1]));
      } catch {
        // exited between samples
      }
    };
    const timer = setInterval(sample, 2);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`${cmd} exited with ${code}: ${stderr}`));
      else resolve(peak / 1024);
    });
  });
}

/** Peak resident memory (MiB) of a fresh Node process running `code` (ESM, top-level await). */
export function peakRssOfNode(code: string): Promise<number> {
  return peakRssOf(process.execPath, ['--input-type=module', '-e', code], {
    ...process.env,
    NODE_OPTIONS: '',
  });
}
