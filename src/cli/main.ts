#!/usr/bin/env node
// The `descent` command line. For now: `descent demo`. (train / predict / inspect come with the
// training-loop issue.)

import { demo } from "./demo.js";

const USAGE = `usage: descent <command>

commands:
  demo    train a small network on a toy problem and print its progress`;

function main(argv: string[]): number {
  const [cmd] = argv;
  if (cmd === "demo") {
    demo();
    return 0;
  }
  console.log(USAGE);
  return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
}

process.exitCode = main(process.argv.slice(2));
