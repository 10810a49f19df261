#!/usr/bin/python3
"""Reference values from PyTorch 1.13 for the optim section of API.md (optimizers and lrScheduler).

Run with Debian's python3-torch:  /usr/bin/python3 scripts/fixtures_optim.py
Writes test/fixtures/optim.json, which test/optim/fixtures.test.ts replays through Descent.

{ "model": {...}, "optimizers": [...], "schedulers": [...] }

model: a 2-layer tanh MLP built from raw tensors, out = tanh(x @ W1 + b1) @ W2 + b2, loss = mean((out - y)^2),
  with parameters [W1, b1, W2, b2, u] (u is never used, so its grad stays None and every optimizer must skip it).
  Step k (0-based) uses batch k % 2: rows 8*(k%2) .. 8*(k%2)+7 of x and y. Values flat, row-major.
optimizers[i]: { name, optimizer, options (Descent's camelCase), groups?, dtype, scheduler?, params, state }
  groups: [{ params: [indices into the parameter list], ...options }] when the case uses parameter groups;
  scheduler: { kind, args } stepped after every optimizer step (args as for `schedulers` below);
  params[k][j]: parameter j after k steps (k = 0 .. 10; params[0] is the initial value);
  state: optimizer.state_dict()["state"] after 10 steps ({index: {key: flat values | number | null}}).
schedulers[i]: { name, optimizer, options, groupLrs, kind, args, steps, metrics?, lrs, momenta? }
  lrs[k]: get_last_lr() after construction (k = 0) and after each of `steps` steps;
  momenta[k]: each group's momentum (or beta1 for Adam) at the same points (OneCycleLR only).
"""

import json
import os

import torch

torch.use_deterministic_algorithms(True)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "optim.json")
DT = {"float32": torch.float32, "float64": torch.float64}
STEPS = 10

# Descent's camelCase option names -> PyTorch's keyword arguments.
KW = {
    "lr": "lr", "momentum": "momentum", "dampening": "dampening", "nesterov": "nesterov", "weightDecay": "weight_decay",
    "maximize": "maximize", "betas": "betas", "eps": "eps", "amsgrad": "amsgrad", "alpha": "alpha",
    "centered": "centered", "lrDecay": "lr_decay", "initialAccumulatorValue": "initial_accumulator_value",
    # schedulers
    "gamma": "gamma", "etaMin": "eta_min", "startFactor": "start_factor", "endFactor": "end_factor",
    "totalIters": "total_iters", "totalSteps": "total_steps", "epochs": "epochs", "stepsPerEpoch": "steps_per_epoch",
    "pctStart": "pct_start", "annealStrategy": "anneal_strategy", "cycleMomentum": "cycle_momentum",
    "baseMomentum": "base_momentum", "maxMomentum": "max_momentum", "divFactor": "div_factor",
    "finalDivFactor": "final_div_factor", "threePhase": "three_phase", "mode": "mode", "factor": "factor",
    "patience": "patience", "threshold": "threshold", "thresholdMode": "threshold_mode", "cooldown": "cooldown",
    "minLr": "min_lr",
}
OPT = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
       "RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad}


def kw(opts):
    return {KW[k]: (tuple(v) if k == "betas" else v) for k, v in opts.items()}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_model():
    g = torch.Generator().manual_seed(1234)
    r = lambda *s: torch.rand(*s, generator=g, dtype=torch.float64) * 2 - 1
    return {
        "params": {"W1": r(3, 5), "b1": r(5) * 0.5, "W2": r(5, 2), "b2": r(2) * 0.5, "u": r(2)},
        "x": r(16, 3) * 2,
        "y": r(16, 2),
    }


MODEL = make_model()
NAMES = ["W1", "b1", "W2", "b2", "u"]


def make_scheduler(opt, kind, args):
    S = torch.optim.lr_scheduler
    a = dict(args)
    if kind == "StepLR":
        return S.StepLR(opt, a.pop("stepSize"), **kw(a))
    if kind == "MultiStepLR":
        return S.MultiStepLR(opt, a.pop("milestones"), **kw(a))
    if kind == "ExponentialLR":
        return S.ExponentialLR(opt, a.pop("gamma"))
    if kind == "CosineAnnealingLR":
        return S.CosineAnnealingLR(opt, a.pop("tMax"), **kw(a))
    if kind == "LinearLR":
        return S.LinearLR(opt, **kw(a))
    if kind == "OneCycleLR":
        return S.OneCycleLR(opt, a.pop("maxLr"), **kw(a))
    if kind == "ReduceLROnPlateau":
        return S.ReduceLROnPlateau(opt, **kw(a))
    raise ValueError(kind)


def run_optimizer(case):
    dt = DT[case["dtype"]]
    ps = [MODEL["params"][n].to(dt).clone().requires_grad_(True) for n in NAMES]
    x, y = MODEL["x"].to(dt), MODEL["y"].to(dt)
    if "groups" in case:
        groups = [dict(kw({k: v for k, v in g.items() if k != "params"}), params=[ps[i] for i in g["params"]])
                  for g in case["groups"]]
    else:
        groups = ps
    opt = OPT[case["optimizer"]](groups, **kw(case["options"]))
    sched = make_scheduler(opt, case["scheduler"]["kind"], case["scheduler"]["args"]) if "scheduler" in case else None
    history = [[flat(p) for p in ps]]
    for k in range(STEPS):
        rows = slice(8 * (k % 2), 8 * (k % 2) + 8)
        opt.zero_grad(set_to_none=True)
        W1, b1, W2, b2, _u = ps
        out = torch.tanh(x[rows] @ W1 + b1) @ W2 + b2
        ((out - y[rows]) ** 2).mean().backward()
        opt.step()
        if sched:
            sched.step()
        history.append([flat(p) for p in ps])
    state = {}
    for idx, st in opt.state_dict()["state"].items():
        state[str(idx)] = {k: (None if v is None else float(v) if (not torch.is_tensor(v) or v.dim() == 0) else flat(v))
                           for k, v in st.items()}
    if case["options"].get("amsgrad") or any(g.get("amsgrad") for g in case.get("groups", [])):
        # The case must exercise the maximum: somewhere the running max exceeds the current moment.
        assert any(max(a - b for a, b in zip(s["max_exp_avg_sq"], s["exp_avg_sq"])) > 0
                   for s in state.values() if "max_exp_avg_sq" in s), case["name"]
    assert "4" not in state or case["optimizer"] == "Adagrad", "u has no grad: no state but Adagrad's eager one"
    return dict(case, params=history, state=state)


def O(name, optimizer, options, dtype="float64", **extra):
    return dict(name=name, optimizer=optimizer, options=options, dtype=dtype, **extra)


OPTIMIZER_CASES = [
    O("sgd", "SGD", {"lr": 0.1}),
    O("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}),
    O("sgd_dampening", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    O("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    O("sgd_weight_decay", "SGD", {"lr": 0.1, "weightDecay": 0.1}),
    O("sgd_momentum_weight_decay", "SGD", {"lr": 0.1, "momentum": 0.8, "dampening": 0.1, "weightDecay": 0.05}),
    O("sgd_nesterov_weight_decay_maximize", "SGD",
      {"lr": 0.01, "momentum": 0.5, "nesterov": True, "weightDecay": 0.1, "maximize": True}),
    O("sgd_groups", "SGD", {"lr": 0.1, "momentum": 0.9},
      groups=[{"params": [0, 1], "lr": 0.3}, {"params": [2, 3, 4], "momentum": 0.5}]),
    O("sgd_onecycle", "SGD", {"lr": 0.1, "momentum": 0.9},
      scheduler={"kind": "OneCycleLR", "args": {"maxLr": 0.5, "totalSteps": 12}}),
    O("adam", "Adam", {"lr": 0.05}),
    O("adam_amsgrad", "Adam", {"lr": 0.05, "betas": [0.9, 0.5], "amsgrad": True}),
    O("adam_weight_decay", "Adam", {"lr": 0.05, "weightDecay": 0.1}),
    O("adam_amsgrad_weight_decay_maximize", "Adam",
      {"lr": 0.01, "betas": [0.8, 0.6], "eps": 1e-6, "weightDecay": 0.1, "amsgrad": True, "maximize": True}),
    O("adam_groups", "Adam", {"lr": 0.05},
      groups=[{"params": [0, 1], "lr": 0.1, "betas": [0.5, 0.9]}, {"params": [2, 3, 4], "amsgrad": True,
                                                                   "betas": [0.9, 0.5]}]),
    O("adam_steplr", "Adam", {"lr": 0.05},
      scheduler={"kind": "StepLR", "args": {"stepSize": 3, "gamma": 0.5}}),
    O("adamw", "AdamW", {"lr": 0.05}),
    O("adamw_amsgrad_weight_decay", "AdamW", {"lr": 0.05, "betas": [0.9, 0.5], "weightDecay": 0.5, "amsgrad": True}),
    O("adamw_maximize", "AdamW", {"lr": 0.01, "weightDecay": 0.1, "maximize": True}),
    O("rmsprop", "RMSprop", {"lr": 0.01}),
    O("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    O("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True, "alpha": 0.9}),
    O("rmsprop_weight_decay", "RMSprop", {"lr": 0.01, "weightDecay": 0.1}),
    O("rmsprop_centered_momentum_weight_decay", "RMSprop",
      {"lr": 0.005, "alpha": 0.8, "eps": 1e-6, "momentum": 0.5, "centered": True, "weightDecay": 0.05}),
    O("rmsprop_maximize", "RMSprop", {"lr": 0.001, "maximize": True}),
    O("adagrad", "Adagrad", {"lr": 0.1}),
    O("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "lrDecay": 0.1}),
    O("adagrad_weight_decay", "Adagrad", {"lr": 0.1, "weightDecay": 0.1}),
    O("adagrad_initial_accumulator", "Adagrad", {"lr": 0.1, "initialAccumulatorValue": 0.5}),
    O("adagrad_all", "Adagrad",
      {"lr": 0.2, "lrDecay": 0.05, "weightDecay": 0.05, "initialAccumulatorValue": 0.1, "eps": 1e-6,
       "maximize": True}),
    # float32: the default dtype of Descent parameters, one case per optimizer.
    O("sgd_nesterov_f32", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weightDecay": 0.01}, "float32"),
    O("adam_amsgrad_f32", "Adam", {"lr": 0.05, "betas": [0.9, 0.5], "amsgrad": True, "weightDecay": 0.01},
      "float32"),
    O("adamw_f32", "AdamW", {"lr": 0.05}, "float32"),
    O("rmsprop_centered_momentum_f32", "RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}, "float32"),
    O("adagrad_all_f32", "Adagrad", {"lr": 0.1, "lrDecay": 0.1, "weightDecay": 0.1, "initialAccumulatorValue": 0.1},
      "float32"),
]


def run_scheduler(case):
    p = torch.zeros(1, requires_grad=True)
    groups = [{"params": [p] if i == 0 else [torch.zeros(1, requires_grad=True)], "lr": lr}
              for i, lr in enumerate(case["groupLrs"])]
    opt = OPT[case["optimizer"]](groups, **kw(case["options"]))
    sched = make_scheduler(opt, case["kind"], case["args"])
    use_betas = "betas" in opt.defaults

    def momenta():
        return [g["betas"][0] if use_betas else g.get("momentum", 0.0) for g in opt.param_groups]

    lrs = [[g["lr"] for g in opt.param_groups]]
    mom = [momenta()]
    for k in range(case["steps"]):
        opt.step()
        if case["kind"] == "ReduceLROnPlateau":
            sched.step(case["metrics"][k])
        else:
            sched.step()
        # PyTorch 1.13's ReduceLROnPlateau has no get_last_lr(); its _last_lr is the groups' lr.
        lrs.append(list(sched._last_lr if case["kind"] == "ReduceLROnPlateau" else sched.get_last_lr()))
        mom.append(momenta())
    out = dict(case, lrs=lrs)
    if case["kind"] == "OneCycleLR":
        out["momenta"] = mom
    return out


def S(name, kind, args, steps=35, optimizer="SGD", options=None, groupLrs=(0.1, 0.05), **extra):
    return dict(name=name, kind=kind, args=args, steps=steps, optimizer=optimizer,
                options=options if options is not None else {"lr": 0.1, "momentum": 0.9},
                groupLrs=list(groupLrs), **extra)


PLATEAU = [1.0, 0.9, 0.85, 0.86, 0.84, 0.84, 0.845, 0.85, 0.83, 0.83, 0.8299, 0.83, 0.83, 0.83, 0.7, 0.71,
           0.72, 0.73, 0.74, 0.75, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.68, 0.5,
           0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]

SCHEDULER_CASES = [
    S("step", "StepLR", {"stepSize": 7, "gamma": 0.5}),
    S("step_default_gamma", "StepLR", {"stepSize": 3}),
    S("multistep", "MultiStepLR", {"milestones": [5, 12, 12, 25], "gamma": 0.3}),
    S("exponential", "ExponentialLR", {"gamma": 0.9}),
    S("cosine", "CosineAnnealingLR", {"tMax": 10, "etaMin": 0.001}, steps=45),
    S("cosine_zero_min", "CosineAnnealingLR", {"tMax": 7}, steps=35),
    S("linear_default", "LinearLR", {}),
    S("linear_decay", "LinearLR", {"startFactor": 1.0, "endFactor": 0.1, "totalIters": 20}),
    S("onecycle_sgd", "OneCycleLR", {"maxLr": 1.0, "totalSteps": 40}, steps=40),
    S("onecycle_adam_three_phase_linear", "OneCycleLR",
      {"maxLr": [0.01, 0.02], "epochs": 4, "stepsPerEpoch": 10, "threePhase": True, "annealStrategy": "linear",
       "pctStart": 0.25, "divFactor": 10.0, "finalDivFactor": 100.0, "baseMomentum": 0.8, "maxMomentum": 0.9},
      steps=40, optimizer="Adam", options={"lr": 0.001}),
    S("onecycle_no_momentum", "OneCycleLR", {"maxLr": 0.3, "totalSteps": 35, "cycleMomentum": False,
                                             "pctStart": 0.4}, steps=35, optimizer="Adagrad", options={"lr": 0.1}),
    S("plateau_min_rel", "ReduceLROnPlateau", {"patience": 2}, steps=40, metrics=PLATEAU),
    S("plateau_max_abs_cooldown", "ReduceLROnPlateau",
      {"mode": "max", "thresholdMode": "abs", "threshold": 0.05, "factor": 0.5, "patience": 1, "cooldown": 2,
       "minLr": [0.01, 0.02]}, steps=40, metrics=[-m for m in PLATEAU]),
    S("plateau_eps", "ReduceLROnPlateau",
      {"patience": 0, "threshold": 0.01, "factor": 0.5, "eps": 0.004}, steps=40, metrics=PLATEAU),
]


def main():
    data = {
        "model": {
            "params": [{"name": n, "shape": list(MODEL["params"][n].shape)} for n in NAMES],
            "x": {"shape": list(MODEL["x"].shape), "values": flat(MODEL["x"])},
            "y": {"shape": list(MODEL["y"].shape), "values": flat(MODEL["y"])},
        },
        "optimizers": [run_optimizer(c) for c in OPTIMIZER_CASES],
        "schedulers": [run_scheduler(c) for c in SCHEDULER_CASES],
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(data['optimizers'])} optimizer cases, {len(data['schedulers'])} scheduler cases, "
          f"{os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
