// A model at a glance: `countParameters` (PyTorch users write sum(p.size for p in m.parameters()))
// and `summary`, a Keras-style table of every layer in the order the forward pass calls it, with
// the shape it returned, its own parameter count and whether those parameters train. The shapes
// come from one real forward pass on the example inputs, run in eval mode without autograd so
// that BatchNorm's running statistics and the RNG-driven layers are left as they were.

import { noGrad } from "../autograd/graph.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { zeros } from "../tensor/creation.js";
import { Tensor } from "../tensor/tensor.js";
import { Module, Parameter } from "./module.js";

/** Options of countParameters. */
export interface CountParametersOptions {
  /** Count only parameters with requiresGrad (PyTorch: `if p.requires_grad`). Default false. */
  trainableOnly?: boolean;
}

/** The keys of CountParametersOptions, for checkOptions. */
const COUNT_KEYS = keysOf<CountParametersOptions>()({ trainableOnly: true });

/** The number of scalar parameters of model, each shared parameter once. */
export function countParameters(model: Module, opts: CountParametersOptions = {}): number {
  checkOptions("countParameters", opts, COUNT_KEYS);
  if (!(model instanceof Module)) throw new DescentError(`countParameters: expected an nn.Module, got ${typeof model}`);
  let n = 0;
  for (const p of model.parameters()) if (!opts.trainableOnly || p.requiresGrad) n += p.size;
  return n;
}

/** The parameters a module holds itself (not its children's). */
function ownParameters(m: Module): Parameter[] {
  const own = m as unknown as Record<string, unknown>;
  return Object.keys(m).flatMap((k) => (own[k] instanceof Parameter ? [own[k] as Parameter] : []));
}

function describeOutput(out: unknown): string {
  if (out instanceof Tensor) return `[${out.shape.join(", ")}]`;
  if (Array.isArray(out)) return `(${out.map(describeOutput).join(", ")})`;
  if (out === null || out === undefined) return "-";
  return typeof out;
}

/**
 * summary's example input: a Tensor, an array of Tensors (passed as separate arguments), or a shape
 * such as [1, 3, 32, 32] for a zero input.
 */
export type Example = Tensor | readonly Tensor[] | readonly number[];

function exampleTensors(example: Example): Tensor[] {
  if (example instanceof Tensor) return [example];
  if (Array.isArray(example) && example.every((v) => v instanceof Tensor)) return [...(example as Tensor[])];
  if (Array.isArray(example) && example.every((v) => typeof v === "number")) return [zeros(example as number[])];
  throw new DescentError(
    "summary: exampleInputs must be a Tensor, an array of Tensors, or an input shape such as [1, 3, 32, 32]",
  );
}

/**
 * A table of model's layers (leaf modules and any module holding parameters of its own) as the
 * forward pass on exampleInputs calls them: name and type, output shape, parameter count and
 * whether they train, then the totals. exampleInputs is a Tensor, an array of Tensors (passed as
 * separate arguments) or a shape, batch dim included, for a zero input.
 */
export function summary(model: Module, exampleInputs: Example): string {
  if (!(model instanceof Module)) throw new DescentError(`summary: expected an nn.Module, got ${typeof model}`);
  const inputs = exampleTensors(exampleInputs);
  const modules = model.namedModules();
  const shown = modules.filter(([, m], i) => i === 0 || m.children().length === 0 || ownParameters(m).length > 0);
  const outputs = new Map<Module, string>();
  const order: Module[] = [];
  const handles = shown.map(([, m]) =>
    m.registerForwardHook((mod, _inputs, out) => {
      if (!outputs.has(mod)) order.push(mod);
      outputs.set(mod, describeOutput(out));
      return undefined;
    }),
  );
  const modes = modules.map(([, m]) => m.training);
  try {
    model.eval();
    noGrad(() => (model.forward as (...xs: Tensor[]) => unknown)(...inputs));
  } catch (e) {
    const what = inputs.map((t) => shapeStr(t.shape)).join(", ");
    throw new DescentError(`summary: the forward pass on inputs ${what} failed: ${(e as Error).message}`);
  } finally {
    handles.forEach((h) => h.remove());
    modules.forEach(([, m], i) => (m.training = modes[i]!));
  }
  const nameOf = new Map(shown.map(([k, m]) => [m, k === "" ? "(model)" : k]));
  const rest = shown.map(([, m]) => m).filter((m) => !outputs.has(m) && m !== model);
  const rows: string[][] = [];
  const counted = new Set<Parameter>();
  for (const m of [...order.filter((m) => m !== model), ...rest, ...(outputs.has(model) ? [model] : [])]) {
    const own = ownParameters(m).filter((p) => !counted.has(p));
    own.forEach((p) => counted.add(p));
    const n = own.reduce((a, p) => a + p.size, 0);
    const trainable =
      own.length === 0
        ? "-"
        : own.every((p) => p.requiresGrad)
          ? "yes"
          : own.some((p) => p.requiresGrad)
            ? "partly"
            : "no";
    const label = `${m === model ? "(model)" : nameOf.get(m)} (${m.constructor.name})`;
    rows.push([label, outputs.get(m) ?? "(not called)", n.toLocaleString("en-US"), trainable]);
  }
  const total = countParameters(model);
  const trainable = countParameters(model, { trainableOnly: true });
  const bytes = model.parameters().reduce((a, p) => a + p.size * (p.dtype === "float64" ? 8 : 4), 0);
  return table(["Layer (type)", "Output shape", "Param #", "Trainable"], rows, [
    `Total params: ${total.toLocaleString("en-US")}`,
    `Trainable params: ${trainable.toLocaleString("en-US")}`,
    `Non-trainable params: ${(total - trainable).toLocaleString("en-US")}`,
    `Parameter size: ${(bytes / 2 ** 20).toFixed(2)} MiB`,
  ]);
}

function table(head: string[], rows: string[][], foot: string[]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((v, c) => (c >= 2 ? v.padStart(widths[c]!) : v.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  const rule = (ch: string) => ch.repeat(widths.reduce((a, w) => a + w, 0) + 2 * (widths.length - 1));
  return [rule("="), line(head), rule("="), ...rows.map(line), rule("="), ...foot, rule("=")].join("\n");
}
