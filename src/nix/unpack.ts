import { open, lstat, mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { StripRoot } from '../core/fill-plan';
import { runTool, ToolError } from './tools';

/** A download that is an HTML page (a login wall, a "not found" page with status 200), not the file the URL names. */
export async function looksLikeHtml(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    return /^\s*<(!doctype html|html|head|body)/i.test(buffer.subarray(0, bytesRead).toString('latin1'));
  } finally {
    await handle.close();
  }
}

/**
 * Unpacks an archive as nixpkgs' fetchzip does (unzip for .zip and .jar, tar for the rest, then
 * `chmod -R u+w`) into a new folder below `work`, and takes its top folder away as `stripRoot`
 * says. Returns the path whose NAR the hash is of.
 */
export async function unpackArchive(archive: string, fileName: string, work: string, stripRoot: StripRoot, signal?: AbortSignal): Promise<string> {
  const unpacked = path.join(work, 'unpack');
  await mkdir(unpacked);
  try {
    if (/\.(zip|jar)$/i.test(fileName)) await runTool('unzip', ['-qq', archive, '-d', unpacked], { signal });
    else await runTool('tar', ['-xf', archive, '-C', unpacked, '--no-same-owner'], { signal });
  } catch (error) {
    if (error instanceof ToolError && (await looksLikeHtml(archive)))
      throw new Error(`${fileName} is an HTML page, not an archive: the server answered with a web page (a login, an error page?) instead of the file`, {
        cause: error,
      });
    throw error;
  }
  await runTool('chmod', ['-R', 'u+w', unpacked], { signal });
  if (stripRoot === false) return unpacked;
  const entries = await readdir(unpacked);
  const [top] = entries;
  if (top === undefined || entries.length !== 1) {
    throw new Error(
      stripRoot === 'single'
        ? `${fileName} holds ${entries.length} entries at its top, and fetchTarball needs exactly one folder`
        : `${fileName} holds ${entries.length} entries at its top, not one folder: add stripRoot = false; to the call if that is how it is meant to be`,
    );
  }
  const root = path.join(unpacked, top);
  if (stripRoot === 'single' || !(await lstat(root)).isFile()) return root;
  // fetchzip puts a lone file in a folder of its own.
  const folder = path.join(work, 'single-file');
  await mkdir(folder);
  await rename(root, path.join(folder, top));
  return folder;
}
