// The run folder `descent train` writes (config.json, metrics.jsonl, checkpoints/, model.safetensors,
// report.html), written so that nothing planted in it redirects a write: files are replaced
// atomically (rename replaces a symlink instead of following it) and the metrics log, which grows
// line by line, is opened with O_NOFOLLOW and checked to be a regular file.

import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeAll, writeTextAtomic } from "../io/atomic.js";
import { CliError } from "./config.js";

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * Creates the output folder (and its checkpoints/) or accepts an existing one; refuses an output
 * path that is a file, and a checkpoints/ that is a symlink or not a folder.
 */
export function prepareRunFolder(output: string): { checkpoints: string } {
  const st = lstatOrNull(output);
  // The output folder itself may be a link the user made to a folder; only what is inside is checked.
  if (st && !(st.isDirectory() || (st.isSymbolicLink() && isDir(output))))
    throw new CliError(`output ${output} exists and is not a folder; choose another --output`);
  try {
    mkdirSync(output, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create the output folder ${output}: ${(e as Error).message}`);
  }
  const checkpoints = join(output, "checkpoints");
  const ck = lstatOrNull(checkpoints);
  if (ck && !ck.isDirectory())
    throw new CliError(
      `${checkpoints} exists and is ${ck.isSymbolicLink() ? "a symbolic link" : "not a folder"}; refusing to write checkpoints through it`,
    );
  return { checkpoints };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Replaces path with text atomically (a symlink there is replaced, never followed). */
export function writeRunFile(path: string, text: string): void {
  writeTextAtomic("descent train", path, text);
}

/** An append-only log (metrics.jsonl): created empty (atomically), then appended to line by line. */
export class RunLog {
  private fd: number | null;
  /** keep: append to an existing log (a resumed run) instead of starting an empty one. */
  constructor(
    readonly path: string,
    keep = false,
  ) {
    if (!keep || !lstatOrNull(path)?.isFile()) writeRunFile(path, "");
    try {
      // O_NOFOLLOW: if a symlink replaced the file since it was created, refuse instead of following.
      this.fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
    } catch (e) {
      throw new CliError(`cannot open ${path} for writing: ${(e as Error).message}`);
    }
    if (!fstatSync(this.fd).isFile()) {
      this.close();
      throw new CliError(`${path} is not a regular file; refusing to write to it`);
    }
  }
  append(record: unknown): void {
    if (this.fd === null) throw new CliError(`${this.path}: the log is closed`);
    writeAll(this.fd, Buffer.from(JSON.stringify(record) + "\n", "utf8"));
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
