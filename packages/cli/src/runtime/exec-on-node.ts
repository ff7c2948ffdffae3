import type { Writable } from 'node:stream';
import type { ComputeService, RunScriptOptions, ScriptResult } from '@vmkit/core';
import type { CliIo } from './cli-io.js';
import { findNode } from './find-node.js';
import { passedStdin } from './passed-stdin.js';

/** What `vmkit exec` runs, as its flags said. */
export interface ExecRequest {
  /** The node's id or name. */
  readonly node: string;
  /** The command and its arguments (run as they are, no shell). */
  readonly argv: readonly string[];
  /** `--user`, `--env`, `--cwd`, `--timeout` and `--transport`, as `runScriptOnNode` takes them. */
  readonly options: Pick<RunScriptOptions, 'user' | 'env' | 'cwd' | 'timeoutMs' | 'transport'>;
  /** Whether standard input is passed on (when it is not a terminal). */
  readonly stdin: boolean;
  /** Whether the output is kept for a JSON result instead of streamed. */
  readonly json: boolean;
}

/**
 * Runs `vmkit exec`: finds the node (running), runs the command through `runScriptOnNode` with
 * its output written to the process's own stdout and stderr as it arrives (unless `json`), and
 * standard input passed on as a stream when it is not a terminal. Returns what the command did;
 * a non-zero exit is a result. The signal (Ctrl-C) kills the command in the guest.
 */
export async function execOnNode(
  service: Pick<ComputeService, 'listNodes' | 'runScriptOnNode'>,
  request: ExecRequest,
  io: CliIo,
  signal: AbortSignal,
): Promise<ScriptResult> {
  const node = await findNode(service, request.node, { running: true });
  const stdin = request.stdin ? passedStdin(io) : undefined;
  const options: RunScriptOptions = {
    ...request.options,
    signal,
    ...(stdin ? { stdin: stdin.bytes } : {}),
    ...(request.json
      ? {}
      : {
          // Back-pressure: a full pipe (a slow reader of vmkit's output) holds the guest's output back.
          onOutput: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => {
            const out = (stream === 'stdout' ? io.stdout : io.stderr) as NodeJS.WritableStream &
              Partial<Pick<Writable, 'destroyed' | 'writableEnded'>>;
            // A closed pipe (`| head -1`) takes nothing more and holds nothing back.
            if (out.destroyed || out.writableEnded) return undefined;
            if (out.write(chunk)) return undefined;
            return new Promise<void>((resolve) => {
              const done = () => {
                out.off('drain', done);
                out.off('close', done);
                out.off('error', done);
                resolve();
              };
              out.on('drain', done);
              out.on('close', done);
              out.on('error', done);
              if (out.destroyed) done();
            });
          },
        }),
  };
  try {
    return await service.runScriptOnNode(node.id, request.argv, options);
  } finally {
    stdin?.release();
  }
}
