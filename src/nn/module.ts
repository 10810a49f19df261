// Module: the base class of every layer. As in PyTorch, parameters, buffers and child modules
// are registered by assigning them to properties (JS keeps property order, so registration order
// is assignment order); nothing is declared twice. Parameters are Parameter instances, buffers are
// announced with registerBuffer, children are Modules.

import { DescentError, shapeStr } from "../core/errors.js";
import { sameShape } from "../core/shape.js";
import { checkOptions } from "../core/options.js";
import { noGrad } from "../autograd/graph.js";
import { Tensor, type HookHandle } from "../tensor/tensor.js";

const BUFFER_KEYS: ReadonlySet<string> = new Set(["persistent"]);
const LOAD_STATE_KEYS: ReadonlySet<string> = new Set(["strict"]);

/** A Tensor that a Module counts as a parameter: a leaf that requires grad, sharing t's storage. */
export class Parameter extends Tensor {
  constructor(t: Tensor, requiresGrad = true) {
    super({ data: t.data, dtype: t.dtype, shape: [...t.shape], strides: [...t.strides], offset: t.offset });
    this.requiresGrad = requiresGrad;
  }
}

/**
 * A hook run after forward (registerForwardHook): it sees the module, its inputs and output, and may
 * return a replacement output (PyTorch's forward hook).
 */
export type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;
/**
 * A hook run when gradients reach a module (registerFullBackwardHook): it sees the gradients with
 * respect to the inputs and outputs and may return replacements for the input gradients (PyTorch's
 * full backward hook).
 */
export type BackwardHook = (
  module: Module,
  gradInputs: (Tensor | null)[],
  gradOutputs: (Tensor | null)[],
) => (Tensor | null)[] | void;

/**
 * The base class of every layer and model (torch.nn.Module). A subclass assigns its Parameters,
 * buffers and child Modules as fields (they are found by walking the fields, so no registration is
 * needed) and implements `forward`; calling `m.forward(x)` runs it (there is no `__call__`, so
 * `m.forward(x)` is PyTorch's `m(x)`). `parameters()`, `stateDict()`/`loadStateDict()`, `train()`/
 * `eval()` and `zeroGrad()` behave as PyTorch's.
 *
 * @example
 * ```ts
 * import { nn, Tensor } from "descent-nn";
 * class MLP extends nn.Module {
 *   fc1 = new nn.Linear(784, 128);
 *   fc2 = new nn.Linear(128, 10);
 *   forward(x: Tensor): Tensor {
 *     return this.fc2.forward(this.fc1.forward(x).relu());
 *   }
 * }
 * const model = new MLP();
 * const logits = model.forward(x); // x: [N, 784] → [N, 10]
 * ```
 */
export abstract class Module {
  /** True in training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  // Bookkeeping lives in non-enumerable fields so that walking own properties finds only the
  // parameters, buffers and children a subclass assigned.
  declare private _buffers: Set<string>;
  declare private _nonPersistent: Set<string>;
  declare private _forwardHooks: ForwardHook[];
  declare private _backwardHooks: BackwardHook[];

  constructor() {
    for (const [k, v] of [
      ["_buffers", new Set()],
      ["_nonPersistent", new Set()],
      ["_forwardHooks", []],
      ["_backwardHooks", []],
    ] as const) {
      Object.defineProperty(this, k, { value: v, writable: true, enumerable: false });
    }
    Object.defineProperty(this, "training", { value: true, writable: true, enumerable: false });
  }

  /** The computation: inputs to output (PyTorch's forward). Each subclass documents its own shapes. */
  abstract forward(...inputs: never[]): unknown;

  /** Registers t as a buffer (saved in stateDict unless persistent is false), assigned to this[name]. */
  registerBuffer(name: string, t: Tensor | null, opts: { persistent?: boolean } = {}): void {
    checkOptions("registerBuffer", opts, BUFFER_KEYS);
    this._buffers.add(name);
    if (opts.persistent === false) this._nonPersistent.add(name);
    (this as unknown as Record<string, unknown>)[name] = t;
  }

  /** Registers (or replaces) a parameter under name; the same as assigning a Parameter. */
  registerParameter(name: string, p: Parameter | null): void {
    (this as unknown as Record<string, unknown>)[name] = p;
  }

  /** [name, child] for direct children, in registration order (ModuleList items are named "0", "1", …). */
  namedChildren(): [string, Module][] {
    return this.entries().flatMap(([k, v]) => (v instanceof Module ? [[k, v] as [string, Module]] : []));
  }

  /** The direct child modules, in registration order (PyTorch's children()). */
  children(): Module[] {
    // The same walk as namedChildren without its pairs: Sequential.forward calls this every step.
    const out: Module[] = [];
    const own = this as unknown as Record<string, unknown>;
    for (const k of Object.keys(this)) {
      const v = own[k];
      if (v instanceof Module) out.push(v);
    }
    return out;
  }

  /** This module and every descendant, depth first, each once. */
  namedModules(prefix = "", seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k, seen));
    return out;
  }

  /** This module and every descendant, depth first, each once (PyTorch's modules()). */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** [dotted name, parameter] pairs, each parameter once (shared ones under their first name). */
  namedParameters(): [string, Parameter][] {
    return this.collect((v, k, m) => v instanceof Parameter && !m._buffers.has(k));
  }

  /**
   * Every parameter of this module and its descendants, each once (PyTorch's parameters()); what an
   * optimizer takes.
   */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** [dotted name, buffer] pairs (running statistics and the like) of this module and its descendants. */
  namedBuffers(): [string, Tensor][] {
    return this.collect((v, k, m) => v instanceof Tensor && m._buffers.has(k));
  }

  /** Every buffer of this module and its descendants (PyTorch's buffers()). */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * Sets training mode on this module and every descendant (dropout active, batch norm updates its
   * running statistics); `train(false)` is eval(). Returns this.
   */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (dropout off, batch norm uses running statistics), as PyTorch's eval(). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Sets every parameter's gradient to null (PyTorch 2's default, set_to_none). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls fn on every descendant and then on this module (as PyTorch's apply). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Parameters and persistent buffers by dotted name; the tensors share storage with the module.
   * As PyTorch's state_dict, a module (or tensor) reachable under several names (a shared encoder)
   * is listed under every one of them, so a file keyed by any of its names loads it.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.walkState("", [], (key, v) => (out[key] = v.detach()));
    return out;
  }

  /**
   * Copies values from dict into the parameters and buffers (no graph is recorded). strict (the
   * default) refuses missing and unexpected keys; shape mismatches are always refused, all named in one error.
   */
  loadStateDict(
    dict: Record<string, Tensor>,
    opts: { strict?: boolean } = {},
  ): { missingKeys: string[]; unexpectedKeys: string[] } {
    checkOptions("loadStateDict", opts, LOAD_STATE_KEYS);
    if (dict === null || typeof dict !== "object")
      throw new DescentError(`loadStateDict: expected an object of tensors, got ${String(dict)}`);
    // Each module may fill in keys that older files lack (BatchNorm's num_batches_tracked), as
    // PyTorch's _load_from_state_dict version hooks do; the caller's object is left alone.
    dict = { ...dict };
    for (const [prefix, m] of this.allNamedModules()) m.upgradeStateDict(dict, prefix ? `${prefix}.` : "");
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !Object.prototype.hasOwnProperty.call(dict, k));
    const unexpectedKeys = Object.keys(dict).filter((k) => !Object.prototype.hasOwnProperty.call(own, k));
    const problems: string[] = [];
    for (const [k, t] of Object.entries(dict)) {
      if (!(t instanceof Tensor)) {
        problems.push(`${k} is ${t === null ? "null" : typeof t}, not a Tensor`);
        continue;
      }
      const target = Object.prototype.hasOwnProperty.call(own, k) ? own[k] : undefined;
      if (target && !sameShape(target.shape, t.shape)) {
        problems.push(
          `size mismatch for ${k}: the checkpoint has shape ${shapeStr(t.shape)}, the model ${shapeStr(target.shape)}`,
        );
      }
    }
    if (opts.strict ?? true) {
      if (missingKeys.length) problems.push(`missing keys: ${missingKeys.join(", ")}`);
      if (unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(", ")}`);
    }
    if (problems.length) throw new DescentError(`loadStateDict: ${problems.join("; ")}`);
    noGrad(() => {
      for (const [k, t] of Object.entries(dict)) if (Object.prototype.hasOwnProperty.call(own, k)) own[k]!.copy_(t);
    });
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Called by loadStateDict on every module (under every name) before keys are compared: adds to
   * dict, under `prefix`, the entries an older format lacks. The default adds nothing.
   */
  protected upgradeStateDict(_dict: Record<string, Tensor>, _prefix: string): void {}

  /** fn(module, inputs, output) runs after every forward; a non-undefined return replaces the output. */
  registerForwardHook(fn: ForwardHook): HookHandle {
    this.wrapForward();
    this._forwardHooks.push(fn);
    return { remove: () => void (this._forwardHooks = this._forwardHooks.filter((h) => h !== fn)) };
  }

  /**
   * fn(module, gradInputs, gradOutputs) runs when the gradients with respect to the module's tensor
   * inputs are computed; it may return replacements for gradInputs (PyTorch's full backward hook).
   */
  registerFullBackwardHook(fn: BackwardHook): HookHandle {
    this.wrapForward();
    this._backwardHooks.push(fn);
    return { remove: () => void (this._backwardHooks = this._backwardHooks.filter((h) => h !== fn)) };
  }

  /** PyTorch-style tree: `Name(extra)` or `Name(\n  (child): ...\n)`. */
  toString(): string {
    const kids = this.namedChildren().map(([k, m]) => `  (${k}): ${m.toString().split("\n").join("\n  ")}`);
    const extra = this.extraRepr();
    if (kids.length === 0) return `${this.constructor.name}(${extra})`;
    return `${this.constructor.name}(${extra ? `\n  ${extra}` : ""}\n${kids.join("\n")}\n)`;
  }

  /** The text inside the parentheses of toString(), e.g. `in_features=2, out_features=3, bias=True`. */
  extraRepr(): string {
    return "";
  }

  // ---- internals ----

  private entries(): [string, unknown][] {
    return Object.entries(this).filter(([, v]) => v !== null && v !== undefined);
  }

  /**
   * Every (module, name) pair without removing duplicates, as PyTorch's state_dict recursion over
   * _modules; only a module containing itself (a cycle, which PyTorch would recurse on forever) is cut.
   */
  private allNamedModules(prefix = "", path: Module[] = []): [string, Module][] {
    if (path.includes(this)) return [];
    const out: [string, Module][] = [[prefix, this]];
    path.push(this);
    for (const [k, m] of this.namedChildren()) out.push(...m.allNamedModules(prefix ? `${prefix}.${k}` : k, path));
    path.pop();
    return out;
  }

  /** Calls fn(dotted name, tensor) for each parameter, then each persistent buffer, of every module under every name. */
  private walkState(prefix: string, path: Module[], fn: (key: string, t: Tensor) => void): void {
    for (const [p, m] of this.allNamedModules(prefix, path)) {
      // PyTorch's order within a module: its parameters, then its persistent buffers.
      const own = m.entries().filter(([k, v]) => v instanceof Tensor && !m._nonPersistent.has(k));
      const params = own.filter(([k, v]) => v instanceof Parameter && !m._buffers.has(k));
      const bufs = own.filter(([k]) => m._buffers.has(k));
      for (const [k, v] of [...params, ...bufs]) fn(p ? `${p}.${k}` : k, v as Tensor);
    }
  }

  private collect<T extends Tensor>(keep: (v: unknown, k: string, m: Module) => boolean): [string, T][] {
    const out: [string, T][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, v] of m.entries()) {
        if (!keep(v, k, m) || seen.has(v as T)) continue;
        seen.add(v as T);
        out.push([prefix ? `${prefix}.${k}` : k, v as T]);
      }
    }
    return out;
  }

  /** Installs (once) an own `forward` that runs the hooks around the class's forward. */
  private wrapForward(): void {
    if (Object.prototype.hasOwnProperty.call(this, "forward")) return;
    const inner = this.forward.bind(this) as (...a: unknown[]) => unknown;
    const wrapped = (...inputs: unknown[]): unknown => {
      const hooked = this._backwardHooks.length > 0 ? this.hookInputs(inputs) : null;
      let out = inner(...(hooked?.inputs ?? inputs));
      if (hooked && out instanceof Tensor && out.requiresGrad) out = this.hookOutput(out, hooked.grads, hooked.count);
      for (const h of this._forwardHooks) {
        const r = h(this, inputs, out);
        if (r !== undefined) out = r;
      }
      return out;
    };
    Object.defineProperty(this, "forward", { value: wrapped, writable: true, enumerable: false, configurable: true });
  }

  /**
   * Full backward hooks: the tensor inputs pass through identity views whose gradient hooks collect
   * the input gradients; when the last arrives, the module's hooks see them with the output's.
   */
  private hookInputs(inputs: unknown[]): {
    inputs: unknown[];
    grads: { input: (Tensor | null)[]; output: (Tensor | null)[] };
    count: number;
  } {
    const grads = { input: [] as (Tensor | null)[], output: [] as (Tensor | null)[] };
    let pending = 0;
    const mapped = inputs.map((x, i) => {
      if (!(x instanceof Tensor) || !x.requiresGrad) return x;
      const same = x.mul(1); // a node of this call's own, to hang the hook on
      pending++;
      grads.input[i] = null;
      same.registerHook((g) => {
        grads.input[i] = g;
        if (--pending > 0) return;
        let replaced: (Tensor | null)[] | void = undefined;
        for (const h of this._backwardHooks) replaced = h(this, grads.input, grads.output) ?? replaced;
        return replaced ? (replaced[i] ?? g) : g;
      });
      return same;
    });
    return { inputs: mapped, grads, count: pending };
  }

  private hookOutput(out: Tensor, grads: { output: (Tensor | null)[] }, count: number): Tensor {
    const y = out.mul(1);
    y.registerHook((g) => {
      grads.output = [g];
      if (count === 0) for (const h of this._backwardHooks) h(this, [], grads.output);
    });
    return y;
  }
}
