// Opening and reading user-named files with bounds: every reader (safetensors, checkpoints, IDX,
// CSV, the CLI's config) goes through here, so none of them blocks on a FIFO, follows a device
// such as /dev/zero into an endless read, or allocates past a limit the caller can raise.

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { DescentError } from "./errors.js";
import { checkLimit, tooLarge } from "./limits.js";

// The limit checks are platform-free (limits.ts); re-exported for the file readers.
export { checkLimit, tooLarge };

/** What a stat says a non-regular path is, for the error message. */
function kind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Opens path for reading, refusing anything but a regular file. The path is stat-ed before the
 * open (opening a FIFO would block until a writer appears); it is opened non-blocking and checked
 * again with fstat, in case it was swapped between the two calls. Returns the descriptor and the
 * file's size; the caller closes it.
 */
export function openRegularFile(where: string, path: string): { fd: number; size: number } {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    // The errno code stays readable (the CLI says "not found" for ENOENT).
    const err = new DescentError(`${where}: cannot open the file: ${(e as Error).message}`);
    throw Object.assign(err, { code: (e as NodeJS.ErrnoException).code });
  }
  if (!st.isFile()) throw new DescentError(`${where}: ${kind(st)}, not a regular file`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new DescentError(`${where}: cannot open the file: ${(e as Error).message}`);
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) throw new DescentError(`${where}: ${kind(fst)}, not a regular file`);
    return { fd, size: fst.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Reads exactly buf.length bytes at position; a file that shrinks meanwhile is refused. */
export function readExactly(where: string, fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const got = readSync(fd, buf, done, buf.length - done, position + done);
    if (got === 0) throw new DescentError(`${where}: the file shrank while being read`);
    done += got;
  }
}

/**
 * Reads a whole regular file, refusing (before reading it) one larger than maxBytes. Reads to
 * the end rather than trusting the size stat reports, so a file that grows meanwhile (or reports
 * size 0, as /proc files do) is still bounded by maxBytes.
 */
export function readFileLimited(where: string, path: string, maxBytes: number, option = "maxBytes"): Buffer {
  checkLimit(where, option, maxBytes);
  const { fd, size } = openRegularFile(where, path);
  try {
    if (size > maxBytes) throw tooLarge(where, `the file's size ${size}`, maxBytes, option);
    const chunks: Buffer[] = [];
    let total = 0;
    let want = Math.max(size, 1);
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(want, maxBytes + 1 - total));
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, total + got);
        if (n === 0) break;
        got += n;
      }
      total += got;
      if (got > 0) chunks.push(got === buf.length ? buf : buf.subarray(0, got));
      if (total > maxBytes) throw tooLarge(where, "the file's size", maxBytes, option);
      if (got < buf.length) break;
      want = 1 << 16;
    }
    // The usual case, a file read in one piece, is returned without a copy.
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
