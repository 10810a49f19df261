// The plan builder's state: which slot holds each storage the trace saw, the steps so far, and the
// values derived from parameters (BatchNorm's per-channel scale and shift) with the parameter
// versions they were computed from. Storages: the forward's inputs and outputs are per-call slots;
// parameters and buffers are read from their live storage (an optimizer step is seen by the next
// forward); storages an op wrote during the trace become that step's preallocated scratch (the
// trace's own array is reused); anything else (a constant the forward created) is captured as is.

import type { Tensor } from "../tensor/tensor.js";
import { versionOf } from "../autograd/graph.js";
import { backend, type Storage } from "../backends/index.js";
import type { Ref, Step } from "../backends/plan/index.js";
import { DescentError, shapeStr } from "../core/errors.js";

/** A value computed from parameters at plan time and again whenever one of them changes. */
interface Derived {
  readonly slot: number;
  readonly deps: readonly Tensor[];
  versions: number[];
  readonly compute: () => Float32Array;
}

export class PlanBuilder {
  readonly slots: (Storage | null)[] = [];
  readonly steps: Step[] = [];
  readonly slotOf = new Map<Storage, number>();
  /** Per-call slots: the inputs, then each output storage in order. */
  readonly inputSlots: number[] = [];
  readonly outputSlots: number[] = [];
  /** Parameters and buffers read live: a plan is rebuilt when one's storage is replaced. */
  readonly live: { tensor: Tensor; storage: Storage }[] = [];
  readonly derived: Derived[] = [];
  private readonly stateTensors = new Map<Storage, Tensor>();
  private readonly outputStorages: Set<Storage>;

  constructor(inputs: readonly Tensor[], state: readonly Tensor[], outputs: readonly Tensor[]) {
    for (const t of state) if (!this.stateTensors.has(t.data)) this.stateTensors.set(t.data, t);
    for (const t of inputs) {
      if (this.slotOf.has(t.data)) continue;
      this.inputSlots.push(this.newSlot(null, t.data));
    }
    this.outputStorages = new Set(outputs.map((o) => o.data));
  }

  private newSlot(s: Storage | null, key?: Storage): number {
    this.slots.push(s);
    const i = this.slots.length - 1;
    if (key) this.slotOf.set(key, i);
    return i;
  }

  /** True for a parameter or buffer of the model (read live, never captured). */
  isState(t: Tensor): boolean {
    return this.stateTensors.has(t.data);
  }

  /** The slot a step reads t from: known, a live parameter, or a constant captured now. */
  slotFor(t: Tensor): number {
    const known = this.slotOf.get(t.data);
    if (known !== undefined) return known;
    const param = this.stateTensors.get(t.data);
    if (param) this.live.push({ tensor: param, storage: t.data });
    return this.newSlot(t.data, t.data);
  }

  /** A read of t as a contiguous run, copying a strided t into scratch first. */
  contig(t: Tensor): Ref {
    if (t.isContiguous()) return { slot: this.slotFor(t), off: t.offset };
    const out = this.scratch(t.dtype === "float32" ? "float32" : t.dtype, t.size);
    this.steps.push({
      kind: "copy",
      x: { slot: this.slotFor(t), off: t.offset },
      out,
      shape: t.shape,
      strides: t.strides,
    });
    return out;
  }

  /** Where a step writes t (an op's fresh, contiguous output): per-call when it is a forward output. */
  outRef(t: Tensor): Ref {
    if (!t.isContiguous()) throw new DescentError(`compile: internal: a step output ${shapeStr(t.shape)} is strided`);
    const known = this.slotOf.get(t.data);
    if (known !== undefined) return { slot: known, off: t.offset };
    if (this.outputStorages.has(t.data)) {
      const slot = this.newSlot(null, t.data);
      this.outputSlots.push(slot);
      return { slot, off: t.offset };
    }
    return { slot: this.newSlot(t.data, t.data), off: t.offset };
  }

  /** A fresh scratch run of n elements. */
  scratch(dtype: Tensor["dtype"], n: number): Ref {
    return { slot: this.newSlot(backend().alloc(dtype, n)), off: 0 };
  }

  /** A float32 slot holding compute()'s values, recomputed when a dep's version changes. */
  derive(deps: readonly Tensor[], compute: () => Float32Array): Ref {
    const first = compute();
    const slot = this.newSlot(backend().alloc("float32", first.length));
    backend().write(this.slots[slot]!, first, 0);
    this.derived.push({ slot, deps, versions: deps.map(versionOf), compute });
    return { slot, off: 0 };
  }

  /** Recomputes the derived values whose parameters changed since (cheap: a version read per dep). */
  refresh(): void {
    for (const d of this.derived) {
      let stale = false;
      for (let i = 0; i < d.deps.length; i++) if (versionOf(d.deps[i]!) !== d.versions[i]) stale = true;
      if (!stale) continue;
      backend().write(this.slots[d.slot]!, d.compute(), 0);
      d.versions = d.deps.map(versionOf);
    }
  }
}
