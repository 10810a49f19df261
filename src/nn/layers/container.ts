// Containers: Sequential (runs its children in order) and ModuleList (holds them). Children are
// properties named "0", "1", … so parameter and state-dict names are PyTorch's (`0.weight`).

import type { Tensor } from "../../tensor/tensor.js";
import { DescentError } from "../../core/errors.js";
import { Module } from "../module.js";

type Slots = Record<string, Module>;

/** Shared by both containers: the children in index order, bounds-checked access with negative indices. */
function itemAt(owner: string, slots: Slots, n: number, i: number): Module {
  if (!Number.isInteger(i) || i < -n || i >= n)
    throw new DescentError(`${owner}: index ${i} is out of range for ${n} modules`);
  return slots[String(i < 0 ? i + n : i)]!;
}

function checkModule(owner: string, m: unknown, at: string): Module {
  if (!(m instanceof Module)) throw new DescentError(`${owner}: ${at} is not a Module (got ${typeof m})`);
  return m;
}

/**
 * Runs its modules one after another, each on the previous one's output. Built from modules
 * (named "0", "1", …) or from one object of named modules, as PyTorch's OrderedDict form
 * (torch.nn.Sequential).
 *
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * const logits = model.forward(x); // [N, 784] → [N, 10]
 * ```
 */
export class Sequential extends Module {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const first = modules[0];
    if (modules.length === 1 && typeof first === "object" && first !== null && !(first instanceof Module)) {
      for (const [k, m] of Object.entries(first)) this.slots()[k] = checkModule("Sequential", m, `entry ${k}`);
    } else {
      (modules as unknown[]).forEach((m, i) => this.append(checkModule("Sequential", m, `argument ${i}`)));
    }
  }

  /** Adds a module at the end (named by its position). */
  append(m: Module): this {
    this.slots()[String(this.length)] = checkModule("Sequential", m, "append's argument");
    return this;
  }

  /** The number of modules. */
  get length(): number {
    return this.children().length;
  }

  /** The i-th module; a negative i counts from the end. Throws a DescentError when out of range. */
  at(i: number): Module {
    const kids = this.namedChildren();
    if (!Number.isInteger(i) || i < -kids.length || i >= kids.length)
      throw new DescentError(`Sequential: index ${i} is out of range for ${kids.length} modules`);
    return kids[i < 0 ? i + kids.length : i]![1];
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  /** Runs the modules in order, each on the previous one's output. */
  forward(input: Tensor): Tensor {
    let x: unknown = input;
    for (const m of this.children()) x = (m.forward as (a: unknown) => unknown).call(m, x);
    return x as Tensor;
  }

  private slots(): Slots {
    return this as unknown as Slots;
  }
}

/** Holds modules in a list (registering their parameters) without running them. */
export class ModuleList<T extends Module = Module> extends Module {
  constructor(modules: Iterable<T> = []) {
    super();
    for (const m of modules) this.push(m);
  }

  /** Appends modules at the end; returns the new length (as Array.push). */
  push(...modules: T[]): number {
    for (const m of modules) this.slots()[String(this.length)] = checkModule("ModuleList", m, "push's argument");
    return this.length;
  }

  /** PyTorch's name for push; returns this. */
  append(m: T): this {
    this.push(m);
    return this;
  }

  /** Appends every module of an iterable (PyTorch's extend); returns this. */
  extend(modules: Iterable<T>): this {
    for (const m of modules) this.push(m);
    return this;
  }

  /** The number of modules. */
  get length(): number {
    return this.children().length;
  }

  /** The i-th module; a negative i counts from the end. Throws a DescentError when out of range. */
  at(i: number): T {
    return itemAt("ModuleList", this.slots(), this.length, i) as T;
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<T> {
    return (this.children() as T[])[Symbol.iterator]();
  }

  /** Throws: a ModuleList only holds modules (as in PyTorch); call them from the owner's forward. */
  forward(): never {
    throw new DescentError("ModuleList: a ModuleList has no forward; iterate over it and call its modules");
  }

  private slots(): Slots {
    return this as unknown as Slots;
  }
}
