// Runs the command-line program (src/cli/main.ts) in a child process, for the CLI tests.

import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
// The children run in a temp folder, so tsx is named by its resolved URL, not the package name.
const TSX = import.meta.resolve("tsx");

/** `descent ...args` run in cwd: its exit code and output. */
export function runCli(cwd: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", TSX, MAIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
