"""PyTorch's side of the benchmark suite (bench/suite.ts spawns it with /usr/bin/python3).

The same workloads as bench/suite/descent.ts, with torch.nn and torch.optim.Adam, timed by the rule
of bench/suite/measure.ts (kept in step with it: warm-up, samples of >= sample_ms each, median).
Usage: python3 bench/pytorch_suite.py <w1..w5|w3f|w6|w7|w8> --threads N [--budget JSON]. The suite runs it
with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the environment (so OpenBLAS picks its
kernels for this CPU, AVX-512 included) and OMP_NUM_THREADS / OPENBLAS_NUM_THREADS = N.
Prints "@@info" and "@@cell" lines as JSON; "w6" builds the MLP, takes one step and exits (the
suite times the whole process).
"""

import ctypes
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_BUDGET = {"sampleMs": 20, "targetMs": 2000, "capMs": 10000, "minSamples": 7, "maxSamples": 60}


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def now_ms():
    return time.perf_counter() * 1000.0


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 == 1 else (s[m - 1] + s[m]) / 2


def measure(fn, b):
    """The rule of bench/suite/measure.ts, line for line."""
    w0 = now_ms()
    calls = 0
    while calls < 2 or now_ms() - w0 < 300:
        fn()
        calls += 1
        if now_ms() - w0 >= b["capMs"] / 4:
            break
    per_call = (now_ms() - w0) / calls
    if calls == 1 and per_call >= b["capMs"]:
        s = per_call / 1000.0
        return {"sec": s, "n": 1, "inner": 1, "min": s, "max": s, "cold": True}
    inner = max(1, int(-(-b["sampleMs"] // max(per_call, 1e-6))))
    samples = []
    m0 = now_ms()
    while True:
        t0 = now_ms()
        for _ in range(inner):
            fn()
        samples.append((now_ms() - t0) / inner / 1000.0)
        spent = now_ms() - m0
        n = len(samples)
        if n >= b["maxSamples"]:
            break
        if n >= b["minSamples"] and spent >= b["targetMs"]:
            break
        if spent >= b["capMs"]:
            break
    return {"sec": median(samples), "n": len(samples), "inner": inner, "min": min(samples), "max": max(samples), "cold": False}


def emit(kind, obj):
    print(f"@@{kind} {json.dumps(obj)}", flush=True)


def cell(key, fn, budget):
    """Measures one cell and prints it, or prints @@skip with the reason (as measure.ts's cell)."""
    try:
        emit("cell", {"key": key, **measure(fn, budget)})
    except Exception as e:  # noqa: BLE001 - any failure of the system is reported, not fatal
        emit("skip", {"key": key, "why": str(e).split("\n")[0][:160]})


def filled(shape, seed=1):
    """The deterministic inputs of bench/suite/measure.ts (filledArray)."""
    n = 1
    for d in shape:
        n *= d
    i = torch.arange(n, dtype=torch.float64)
    return ((((i + seed) * 7919) % 2003) / 1001.5 - 1).to(torch.float32).reshape(shape)


def labels(n):
    return (torch.arange(n) * 7) % 10


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def train_step(params, loss_fn):
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)  # as Descent's zeroGrad() default
        loss = loss_fn()
        loss.backward()
        opt.step()
        loss.item()

    return step


def blas_info():
    """Which BLAS library this process loaded, and OpenBLAS's core and thread count if it is OpenBLAS."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line})
    info = {"blas": ", ".join(libs) or "none mapped"}
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            info["blas"] = lib.openblas_get_config().decode() + f" ({path})"
            info["blasThreads"] = lib.openblas_get_num_threads()
            break
        except (OSError, AttributeError):
            continue
    return info


def main():
    workload = sys.argv[1] if len(sys.argv) > 1 else ""
    threads = int(arg("--threads", "1"))
    budget = {**DEFAULT_BUDGET, **json.loads(arg("--budget", "{}"))}
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    if workload == "w6":
        model = mlp()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        return

    if workload == "w1":
        for n in (64, 256, 1024):
            a, b = filled((n, n), 1), filled((n, n), 2)
            cell(f"w1.{n}", lambda: a @ b, budget)
    elif workload == "w2":
        model, x, y = mlp(), filled((128, 784)), labels(128)
        cell("w2", train_step(model.parameters(), lambda: F.cross_entropy(model(x), y)), budget)
    elif workload in ("w3", "w3f"):
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
        )  # fmt: skip
        x, y = filled((64, 1, 28, 28)), labels(64)
        if workload == "w3f":  # W3's CNN, inference forward only (eval mode, no autograd)
            model.eval()

            def forward_cnn():
                with torch.no_grad():
                    model(x)

            cell("w3f", forward_cnn, budget)
            return
        cell("w3", train_step(model.parameters(), lambda: F.cross_entropy(model(x), y)), budget)
    elif workload == "w4":
        lstm = nn.LSTM(64, 128)
        x, target = filled((32, 32, 64)), filled((1, 32, 128), 3)  # [seq, batch, input]
        cell("w4", train_step(lstm.parameters(), lambda: F.mse_loss(lstm(x)[1][0], target)), budget)
    elif workload == "w5":
        model = mlp()
        for batch in (1, 1024):
            x = filled((batch, 784))

            def forward():
                with torch.no_grad():
                    model(x)

            cell(f"w5.b{batch}", forward, budget)
    elif workload in ("w7", "w8"):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "suite"))
        import gpt_pt  # bench/suite/gpt_pt.py: the GPT workloads of issue 13

        cell(workload, gpt_pt.train_step() if workload == "w7" else gpt_pt.generate(), budget)
    else:
        raise SystemExit(f"pytorch_suite.py: unknown workload {workload!r} (w1..w8)")

    # After the work, so the BLAS library is loaded and its thread count is the one in use.
    emit("info", {"system": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(), **blas_info()})


if __name__ == "__main__":
    main()
