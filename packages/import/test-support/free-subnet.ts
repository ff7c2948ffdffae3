// A /24 no route of this host uses yet, for vagrant-libvirt's management network (tests, bench).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A `10.x.y.0/24` that no route of this host names. */
export async function freeSubnet(): Promise<string> {
  const routes = (await exec('ip', ['-4', 'route'])).stdout;
  for (let tries = 0; tries < 200; tries++) {
    const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
    if (!routes.includes(`${net}.`)) return `${net}.0/24`;
  }
  throw new Error('no free 10.x.y.0/24');
}
