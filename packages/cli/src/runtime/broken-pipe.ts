/** Streams already guarded, so running `main` twice on one stream adds one listener. */
const guarded = new WeakSet<object>();

/**
 * Makes a reader that stops reading early (`vmkit ls | head -1`) end the output quietly: an
 * `EPIPE` on `stream` drops the rest of the output instead of crashing the process with an
 * unhandled error; the command's exit code stays its own. Any other stream error is rethrown.
 */
export function dropOutputOnBrokenPipe(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream) || typeof stream.on !== 'function') return;
  guarded.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}
