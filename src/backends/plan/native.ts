// Runs a plan through the addon's plan executor (native/plan.cc): runs of steps it knows are
// encoded once into one instruction list each (a Float64Array) and then cost one Node-API call per
// forward; JsStep steps between them run in JS (js.ts). With no JsStep the whole forward is one call.

import type { Storage } from "../index.js";
import { nativeAddon } from "../native/index.js";
import { stepFn } from "./js.js";
import type { PlanRunner, PlanSpec, Ref, Step } from "./steps.js";

/** The plan entry points of the addon (native/plan.cc). */
export interface PlanAddon {
  /** internal: fixed slots only this plan's steps read after a run (it may keep them elsewhere; native/plan.cc). */
  planCreate(code: Float64Array, slots: readonly (Float32Array | null)[], internal?: Int32Array): object;
  planRun(handle: object, ...perCall: Float32Array[]): void;
  planOps(): string[];
}

const KIND = { gemm: 1, im2col: 2, ew: 3, softmax: 4, layerNorm: 5, maxPool: 6, copy: 7, reduce: 8 } as const;

/** The addon's plan executor, or undefined (no addon, or one built before plans existed). */
export function planAddon(): PlanAddon | undefined {
  const a = nativeAddon() as unknown as Partial<PlanAddon> | undefined;
  return a && typeof a.planCreate === "function" ? (a as PlanAddon) : undefined;
}

/** A native runner for spec (every slot must be float32). */
export function nativeRunner(spec: PlanSpec, addon: PlanAddon): PlanRunner {
  const codes = new Map(addon.planOps().map((n, i) => [n, i]));
  const slots = spec.slots as (Float32Array | null)[];
  const jsSlots: Storage[] = spec.slots.map((s) => s ?? new Float32Array(0));
  const parts: { handle?: object; js?: () => void }[] = [];
  const runs: Step[][] = [];
  let run: Step[] = [];
  const flush = (): void => {
    if (run.length > 0) {
      runs.push(run);
      parts.push({});
    }
    run = [];
  };
  for (const st of spec.steps) {
    if (st.kind === "js") {
      flush();
      parts.push({ js: stepFn(st, jsSlots) });
    } else run.push(st);
  }
  flush();
  // One native call for the whole plan: what the caller does not keep is its own scratch. (With
  // JS steps or several calls, slots pass between them: none is declared internal.)
  const kept = spec.kept && parts.length === 1 ? new Set(spec.kept) : null;
  const internal = kept ? Int32Array.from(slots.flatMap((s, i) => (s && !kept.has(i) ? [i] : []))) : undefined;
  let r = 0;
  for (const p of parts) if (!p.js) p.handle = addon.planCreate(encode(runs[r++]!, codes), slots, internal);
  const perCall = spec.perCall;
  if (parts.length === 1 && parts[0]!.handle) {
    const h = parts[0]!.handle;
    // The common case: one call, arguments spread from a fixed-length array.
    return { kind: "native", run: (bind) => addon.planRun(h, ...(bind as Float32Array[])) };
  }
  return {
    kind: "native",
    run(bind) {
      for (let k = 0; k < bind.length; k++) jsSlots[perCall[k]!] = bind[k]!;
      for (const p of parts) {
        if (p.handle) addon.planRun(p.handle, ...(bind as Float32Array[]));
        else p.js!();
      }
    },
  };
}

function encode(steps: readonly Step[], codes: Map<string, number>): Float64Array {
  const out: number[] = [steps.length];
  const ref = (r: Ref | null): void => void (r ? out.push(r.slot, r.off) : out.push(-1, 0));
  const code = (name: string): number => {
    const c = codes.get(name);
    if (c === undefined) throw new Error(`plan: the addon has no element-wise op ${name}`);
    return c;
  };
  for (const st of steps) {
    out.push(KIND[st.kind as keyof typeof KIND]);
    switch (st.kind) {
      case "gemm":
        ref(st.a);
        ref(st.b);
        ref(st.out);
        out.push(st.M, st.N, st.K, st.sAm, st.sAk, st.sBk, st.sBn, st.count, st.aBatch, st.bBatch);
        ref(st.scale);
        ref(st.shift);
        out.push(st.perRow ? 1 : 0, code(st.act), st.alpha);
        break;
      case "im2col":
      case "maxPool":
        ref(st.x);
        ref(st.out);
        out.push(...st.dims);
        break;
      case "ew":
        out.push(st.n);
        ref(st.out);
        out.push(st.inputs.length);
        for (const i of st.inputs) {
          ref(i.ref);
          out.push(i.inner, i.len);
        }
        out.push(st.prog.length);
        for (const p of st.prog) out.push(code(p.op), p.dst, p.a, p.b, p.imm);
        out.push(st.result);
        break;
      case "softmax":
        ref(st.x);
        ref(st.out);
        out.push(st.rows, st.cols, st.log ? 1 : 0);
        break;
      case "layerNorm":
        ref(st.x);
        ref(st.out);
        out.push(st.rows, st.cols, st.eps);
        ref(st.weight);
        ref(st.bias);
        break;
      case "reduce":
        ref(st.x);
        ref(st.out);
        out.push(st.outer, st.R, st.inner, ["sum", "max", "min"].indexOf(st.op));
        break;
      case "copy":
        ref(st.x);
        ref(st.out);
        out.push(st.shape.length);
        st.shape.forEach((s, d) => out.push(s, st.strides[d]!));
        break;
      case "js":
        throw new Error("plan: a JS step cannot be encoded");
    }
  }
  return Float64Array.from(out);
}
