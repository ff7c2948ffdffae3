import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { redactUrl, scrubError } from '../errors/redact.js';
import { isAbortError, VmkitError } from '../errors/vmkit-error.js';
import { openPrivateFile } from '../util/private-file.js';
import { type DownloadOptions, openDownload } from './download.js';

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions extends DownloadOptions {
  /** Called with the bytes written so far; a throw stops the download (and removes the file). */
  readonly onBytes?: (bytes: number) => void;
}

/**
 * Downloads `url` into `file` under {@link openDownload}'s rules (no https-to-http redirect, at
 * most `maxRedirects`, at most `maxBytes` whatever the server claims). The file is created
 * exclusively (it must not exist) and with mode 0600; on any failure (a refused redirect, the
 * limit passed, a broken connection, an abort) it is removed, so no partial file is left.
 * Returns the bytes written.
 */
export async function downloadFile(
  url: string | URL,
  file: string,
  options: DownloadFileOptions,
): Promise<{ readonly bytes: number }> {
  const download = await openDownload(url, options);
  // Opened before the try below: a file that exists already is not ours to remove.
  const handle = await openPrivateFile(file).catch((error: unknown) => {
    download.body.destroy();
    throw new VmkitError('PROVIDER', `${options.field}: cannot create ${file}`, { cause: scrubError(error) });
  });
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      try {
        options.onBytes?.(bytes);
      } catch (error) {
        done(error as Error);
        return;
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      download.body,
      counter,
      handle.createWriteStream(),
      options.signal ? { signal: options.signal } : {},
    );
  } catch (error) {
    download.body.destroy();
    await handle.close().catch(() => {});
    await rm(file, { force: true });
    if (VmkitError.is(error)) throw error;
    const shown = redactUrl(download.url);
    if (isAbortError(error))
      throw new VmkitError('ABORTED', `${options.field}: download of ${shown} aborted`, {
        cause: scrubError(error),
      });
    throw new VmkitError('PROVIDER', `${options.field}: download of ${shown} failed`, {
      cause: scrubError(error),
      details: { field: options.field, url: shown },
    });
  }
  return { bytes };
}
