// Optimizer: the base of every optimizer in optim/. As in PyTorch it holds parameter groups (each a
// params list plus its own copy of every option, so a scheduler can change one group's lr), a state
// record per parameter whose tensors step() updates in place, and state dicts shaped like
// PyTorch's ({state: {index: {...}}, param_groups: [{...options, params: [indices]}]}) so that
// training resumes exactly. Subclasses supply the per-parameter update rule.

import { isFloat } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { sameShape } from "../core/shape.js";
import { checkOptions, keysOf, mergeKeys, type OptionKeys } from "../core/options.js";
import { enableGrad, noGrad } from "../autograd/graph.js";
import { Tensor } from "../tensor/tensor.js";

/** The option every optimizer has. */
export interface BaseOptions {
  /** Learning rate. */
  lr: number;
}

/** Keys that learning-rate schedulers add to a group (PyTorch's initial_lr, max_lr, min_lr, …). */
export interface SchedulerKeys {
  /** The lr when the first scheduler began (PyTorch's initial_lr). */
  initialLr?: number;
  /** OneCycleLR's peak lr (PyTorch's max_lr). */
  maxLr?: number;
  /** OneCycleLR's final lr (PyTorch's min_lr). */
  minLr?: number;
  /** OneCycleLR's highest momentum or beta1 (PyTorch's max_momentum). */
  maxMomentum?: number;
  /** OneCycleLR's lowest momentum or beta1 (PyTorch's base_momentum). */
  baseMomentum?: number;
}

/** The SchedulerKeys, which a parameter group may also give. */
const SCHEDULER_KEYS = keysOf<SchedulerKeys>()({
  initialLr: true,
  maxLr: true,
  minLr: true,
  maxMomentum: true,
  baseMomentum: true,
});

/** One parameter group: its parameters and its own value of every option. */
export type ParamGroup<O extends BaseOptions = BaseOptions> = O & SchedulerKeys & { params: Tensor[] };

/** A group as given to a constructor: params plus any options that differ from the defaults. */
export type GroupSpec<O> = { params: Iterable<Tensor> | Tensor } & Partial<O> & SchedulerKeys;

/** What an optimizer's constructor takes: parameters, or groups of them (PyTorch's param_groups). */
export type ParamsArg<O> = Iterable<Tensor> | Iterable<GroupSpec<O>>;

/** Per-parameter state: tensors (moments, buffers), the step count, or null (a buffer not in use). */
export type ParamState = Record<string, Tensor | number | null>;

/** The shape of PyTorch's optimizer.state_dict(); option keys are Descent's camelCase names. */
export interface OptimizerStateDict {
  /** Per-parameter state, keyed by the parameter's position across the groups. */
  state: Record<number, ParamState>;
  /** Each group's options and the positions of its parameters. */
  param_groups: (Record<string, unknown> & { params: number[] })[];
}

/**
 * The base of every optimizer (torch.optim.Optimizer): parameter groups with their options, per-parameter
 * state, zeroGrad(), step(), stateDict() and loadStateDict() (a PyTorch-shaped state dict).
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The options a group gets when it does not give its own. */
  readonly defaults: Readonly<O>;
  /** The parameter groups (PyTorch's param_groups); a scheduler changes their lr, and so may you. */
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (PyTorch's optimizer.state), keyed by the parameter itself. */
  state = new Map<Tensor, ParamState>();
  /** Names the optimizer in error messages ("Adam", "SGD", …). */
  protected readonly name: string;

  /** The keys a parameter group may give: every option (the keys of `defaults`), the scheduler keys, params. */
  private readonly groupKeys: OptionKeys;

  /** `given` is the options object the user passed, checked against the keys of `defaults`. */
  protected constructor(name: string, params: ParamsArg<O>, defaults: O, given: object = {}) {
    const optionKeys = new Set(Object.keys(defaults));
    checkOptions(name, given, optionKeys);
    this.name = name;
    this.defaults = defaults;
    this.groupKeys = mergeKeys(optionKeys, SCHEDULER_KEYS, new Set(["params"]));
    if (params instanceof Tensor || params === null || typeof params !== "object" || !(Symbol.iterator in params)) {
      throw new DescentError(`${name}: params must be an iterable of tensors or of parameter groups`);
    }
    const list = [...(params as Iterable<Tensor | GroupSpec<O>>)];
    if (list.length === 0) throw new DescentError(`${name}: got an empty parameter list`);
    const specs =
      list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as GroupSpec<O>] : (list as GroupSpec<O>[]);
    for (const spec of specs) this.addParamGroup(spec);
  }

  /** Adds a group (e.g. layers unfrozen during fine-tuning); options it omits come from the defaults. */
  addParamGroup(spec: GroupSpec<O>): void {
    const where = `${this.name}: parameter group ${this.paramGroups.length}`;
    if (spec === null || typeof spec !== "object" || !("params" in spec)) {
      throw new DescentError(`${where} must be an object with a params list`);
    }
    checkOptions(where, spec, this.groupKeys);
    const params = spec.params instanceof Tensor ? [spec.params] : [...spec.params];
    if (params.length === 0) throw new DescentError(`${where} has no parameters`);
    const inOthers = new Set(this.paramGroups.flatMap((g) => g.params));
    const seen = new Set<Tensor>();
    for (const [i, p] of params.entries()) {
      if (!(p instanceof Tensor)) throw new DescentError(`${where}: params[${i}] is not a Tensor`);
      if (!isFloat(p.dtype))
        throw new DescentError(`${where}: params[${i}] is ${p.dtype}; only float tensors can be optimized`);
      if (!p.isLeaf)
        throw new DescentError(
          `${where}: params[${i}] is not a leaf tensor (it comes from ${p.gradFn!.name}); optimize leaves only`,
        );
      if (seen.has(p)) throw new DescentError(`${where}: params[${i}] appears twice in the group`);
      if (inOthers.has(p)) throw new DescentError(`${where}: params[${i}] is already in another parameter group`);
      seen.add(p);
    }
    const { params: _given, ...opts } = spec;
    const group = { ...copyOptions(this.defaults as object), ...copyOptions(opts), params } as ParamGroup<O>;
    this.checkGroup(group, this.paramGroups.length);
    this.paramGroups.push(group);
  }

  /** Forgets the gradients: sets each .grad to null (PyTorch 2's default), or to zeros with setToNone false. */
  zeroGrad(setToNone = true): void {
    noGrad(() => {
      for (const g of this.paramGroups) {
        for (const p of g.params) {
          if (setToNone) p.grad = null;
          else p.grad?.zero_();
        }
      }
    });
  }

  /**
   * One update of every parameter that has a gradient (parameters whose .grad is null are skipped,
   * and get no state). `closure`, if given, re-evaluates the model with recording on and returns the
   * loss, which step returns.
   */
  step<L>(closure?: () => L): L | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      for (const [gi, group] of this.paramGroups.entries()) {
        this.checkGroup(group, gi);
        for (const [pi, p] of group.params.entries()) {
          const g = p.grad;
          if (g === null) continue;
          if (!sameShape(g.shape, p.shape)) {
            throw new DescentError(
              `${this.name}.step: the gradient of parameter ${pi} of group ${gi} has shape ${shapeStr(g.shape)}, the parameter ${shapeStr(p.shape)}`,
            );
          }
          let st = this.state.get(p);
          if (!st) this.state.set(p, (st = this.initState(p, group)));
          this.update(p, g, st, group);
        }
      }
    });
    return loss;
  }

  /**
   * A snapshot of the optimizer (tensors copied, unlike PyTorch's references, so it can be held
   * while training goes on): state keyed by the parameter's position across all groups, and each
   * group's options with its parameters' positions.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const param_groups = this.paramGroups.map(({ params, ...opts }) => {
      for (const p of params) if (!index.has(p)) index.set(p, index.size);
      return { ...copyOptions(opts), params: params.map((p) => index.get(p)!) };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = copyState(st);
    }
    return { state, param_groups };
  }

  /**
   * Restores a state dict made by stateDict() of an optimizer of the same kind over parameters of
   * the same shapes, group by group (the parameters themselves stay this optimizer's). The tensors
   * are copied and cast to each parameter's dtype. Everything is checked before anything changes:
   * a refused state dict leaves the optimizer as it was.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const { groups, state } = this.readStateDict(sd);
    this.paramGroups = groups;
    this.state = state;
  }

  /** Throws what loadStateDict would throw for sd, changing nothing (to check several parts before loading any). */
  checkStateDict(sd: OptimizerStateDict): void {
    this.readStateDict(sd);
  }

  private readStateDict(sd: OptimizerStateDict): { groups: ParamGroup<O>[]; state: Map<Tensor, ParamState> } {
    const where = `${this.name}.loadStateDict`;
    if (!isRecord(sd) || !Array.isArray(sd.param_groups) || !isRecord(sd.state)) {
      throw new DescentError(`${where}: expected {state, param_groups} as made by stateDict()`);
    }
    const saved = sd.param_groups;
    if (saved.length !== this.paramGroups.length) {
      throw new DescentError(
        `${where}: the state dict has ${saved.length} parameter group(s), the optimizer ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, { p: Tensor; group: number }>();
    for (const [gi, g] of this.paramGroups.entries()) {
      const sg = saved[gi];
      if (!isRecord(sg))
        throw new DescentError(`${where}: parameter group ${gi} is ${sg === null ? "null" : typeof sg}, not an object`);
      const ids = sg.params;
      if (!Array.isArray(ids) || ids.length !== g.params.length) {
        throw new DescentError(
          `${where}: parameter group ${gi} has ${Array.isArray(ids) ? ids.length : "no"} parameters in the state dict, ${g.params.length} in the optimizer`,
        );
      }
      ids.forEach((id, k) => {
        if (!Number.isSafeInteger(id) || id < 0 || byIndex.has(id))
          throw new DescentError(
            `${where}: parameter group ${gi} lists ${JSON.stringify(id)}; expected distinct non-negative integer indices`,
          );
        byIndex.set(id, { p: g.params[k]!, group: gi });
      });
    }
    const groups = this.paramGroups.map(({ params }, gi) => {
      const { params: _ids, ...opts } = saved[gi]!;
      const bad = Object.keys(opts).filter((k) => UNSAFE_KEYS.has(k));
      if (bad.length) throw new DescentError(`${where}: parameter group ${gi} has the key(s) ${bad.join(", ")}`);
      const missing = Object.keys(this.defaults).filter((k) => !(k in opts));
      if (missing.length) {
        throw new DescentError(
          `${where}: parameter group ${gi} of the state dict lacks ${missing.join(", ")} (was it made by another optimizer?)`,
        );
      }
      const group = { ...copyOptions(opts), params } as unknown as ParamGroup<O>;
      this.checkGroup(group, gi);
      return group;
    });
    const state = new Map<Tensor, ParamState>();
    for (const [key, st] of Object.entries(sd.state)) {
      const entry = /^\d+$/.test(key) ? byIndex.get(Number(key)) : undefined;
      if (!entry)
        throw new DescentError(`${where}: the state dict has state for parameter ${key}, which no group lists`);
      if (!isRecord(st)) throw new DescentError(`${where}: the state of parameter ${key} is not an object`);
      const { p } = entry;
      // The keys and kinds this optimizer's own fresh state has for p: anything else (another
      // optimizer's state, or a key like "__proto__") would fail only at the next step(), or worse.
      const fresh = this.initState(p, groups[entry.group]!);
      const expected = Object.keys(fresh).sort();
      const got = Object.keys(st).sort();
      if (expected.join() !== got.join())
        throw new DescentError(
          `${where}: the state of parameter ${key} has the keys ${got.join(", ") || "(none)"}; ${this.name} keeps ${expected.join(", ") || "(none)"}`,
        );
      const out: ParamState = {};
      for (const k of expected) {
        const v = st[k];
        const want = fresh[k];
        if (k === "step" || typeof want === "number") {
          const n = v instanceof Tensor && v.size === 1 ? v.item() : v;
          if (typeof n !== "number" || !Number.isFinite(n) || n < 0)
            throw new DescentError(
              `${where}: state ${k} of parameter ${key} must be a non-negative finite number, got ${String(n)}`,
            );
          out[k] = n;
        } else if (v instanceof Tensor) {
          if (!sameShape(v.shape, p.shape)) {
            throw new DescentError(
              `${where}: state ${k} of parameter ${key} has shape ${shapeStr(v.shape)}, the parameter ${shapeStr(p.shape)}`,
            );
          }
          out[k] = v.to(p.dtype).clone();
        } else if (v === null && want === null) {
          out[k] = null; // a buffer not made yet (SGD's momentum_buffer before the first step)
        } else {
          throw new DescentError(
            `${where}: state ${k} of parameter ${key} must be a tensor${want === null ? " or null" : ""}, got ${v === null ? "null" : typeof v}`,
          );
        }
      }
      state.set(p, out);
    }
    return { groups, state };
  }

  /** The state a parameter starts with, made the first time it has a gradient. */
  protected abstract initState(p: Tensor, group: ParamGroup<O>): ParamState;

  /** The update rule: changes p (and the tensors of st) in place; runs under noGrad. */
  protected abstract update(p: Tensor, grad: Tensor, st: ParamState, group: ParamGroup<O>): void;

  /** Refuses invalid options (negative lr, …) naming the optimizer, the group and the value. */
  protected abstract checkGroup(group: ParamGroup<O>, index: number): void;
}

/** Throws unless `cond`: an invalid option, named with the optimizer, the group and the value. */
export function requireOption(optimizer: string, cond: boolean, group: number, what: string, value: unknown): void {
  if (!cond) {
    const v = Array.isArray(value) ? `[${value.join(", ")}]` : String(value);
    throw new DescentError(`${optimizer}: invalid ${what} in parameter group ${group}: ${v}`);
  }
}

/** A state tensor that must be there (the state dict of another optimizer would lack it). */
export function stateTensor(optimizer: string, st: ParamState, key: string): Tensor {
  const t = st[key];
  if (!(t instanceof Tensor)) {
    throw new DescentError(
      `${optimizer}.step: a parameter's state has no ${key} tensor (was its state dict made by another optimizer?)`,
    );
  }
  return t;
}

/** Keys that would reach Object.prototype when assigned to a plain object. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A shallow copy of an options object whose arrays (betas) are copied too. */
function copyOptions<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
  return out as T;
}

function copyState(st: ParamState): ParamState {
  const out: ParamState = {};
  for (const [k, v] of Object.entries(st)) out[k] = v instanceof Tensor ? v.clone() : v;
  return out;
}
