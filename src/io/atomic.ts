// Atomic file replacement for everything Descent writes (safetensors, checkpoints, run-folder
// files, reports): the bytes go to a temporary file in the target's directory, are flushed to disk
// and renamed over the target, so a crash or a kill at any point leaves the previous file intact.
// A process killed mid-write (kill -9, power loss) cannot delete its temporary file, so every write
// first removes the temporary files that earlier, dead writers left for the same target.
// rename() replaces a symlink at the target instead of writing through it, so a link planted in a
// run folder never redirects a write.

import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DescentError } from "../core/errors.js";

/** The temporary file a write to `path` goes through: `.<name>.<pid>.<random>.tmp` beside it. */
function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

/** Exactly the names tempPath makes for the target `name`; the pid is captured. */
function tempPattern(name: string): RegExp {
  return new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\d+)\\.[0-9a-z]+\\.tmp$`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** When this process started (ms since the epoch): a temp file older than that is not ours. */
const processStart = Date.now() - process.uptime() * 1000;

/**
 * Removes the temporary files earlier writes to `path` left behind: only names that match the
 * writer's pattern for this target exactly, only regular files, and only when the writer's pid is
 * not a live process or the file is older than this process (so the pid was reused). A live
 * writer's file is left alone. Best effort: returns how many were removed.
 */
export function removeStaleTemps(path: string): number {
  const dir = dirname(path);
  const re = tempPattern(basename(path));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const full = join(dir, name);
    try {
      const st = lstatSync(full);
      if (!st.isFile()) continue;
      const pid = Number(m[1]);
      if (isAlive(pid) && st.mtimeMs >= processStart) continue;
      unlinkSync(full);
      removed++;
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Writes bytes produced by `write(fd)` to path atomically: a temporary file in the same directory
 * is written, flushed to disk and renamed over path, so a failure at any point leaves the previous
 * file as it was (and no temporary file behind). Stale temporary files of earlier writes to the
 * same path are removed first.
 */
export function writeFileAtomic(op: string, path: string, write: (fd: number) => void): void {
  removeStaleTemps(path);
  const tmp = tempPath(path);
  let fd: number;
  try {
    fd = openSync(tmp, "wx");
  } catch (e) {
    throw new DescentError(`${op}: cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    try {
      write(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    if (e instanceof DescentError) throw e;
    throw new DescentError(
      `${op}: writing ${path} failed (the previous file, if any, is unchanged): ${(e as Error).message}`,
    );
  }
  // Make the rename itself durable; not every platform lets a directory be fsynced.
  try {
    const dfd = openSync(dirname(path), "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // best effort
  }
}

/** writeFileAtomic for a string or bytes already in memory. */
export function writeTextAtomic(op: string, path: string, content: string | Uint8Array): void {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  writeFileAtomic(op, path, (fd) => writeAll(fd, bytes));
}

export { writeAll };
