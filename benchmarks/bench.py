"""chainrule against its peers, measured in one run: the notes' network and the per-op chain.

    OMP_NUM_THREADS=1 python benchmarks/bench.py            # everything (a few minutes)
    python benchmarks/bench.py --quick                      # fewer repetitions

Threads are pinned to one (set below, before NumPy loads). Each figure is the
median over several repetitions of the time per step (or per op); ratios are
chainrule / peer from the same run. Peers that are not installed are skipped.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "XLA_FLAGS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_v, "1" if _v != "XLA_FLAGS" else
                          "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def have(mod):
    return importlib.util.find_spec(mod) is not None


def timeit_all(fns, number, repeat):
    """Median seconds per call of each fn, the repetitions interleaved (round robin).

    The machines are shared: interleaving spreads a slow spell over every peer
    instead of charging it to whichever one happened to be running.
    """
    for fn in fns.values():  # warm up (and compile, for the jits)
        fn()
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - t) / number)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def network(d, m, k, batch, number, repeat):
    params, X, y = peers.make_data(d, m, k, batch)
    if batch == 1:
        X, y = X, y  # the notes' SGD: one example per step, as a batch of one
    builders = {"chainrule": peers.chainrule_step,
                "chainrule .backward()": peers.chainrule_backward_step,
                "hand NumPy": peers.numpy_step}
    if hasattr(__import__("chainrule"), "jit"):
        builders["chainrule jit"] = peers.chainrule_jit_step
    if have("torch"):
        import torch
        torch.set_num_threads(1)
        builders["PyTorch eager"] = peers.torch_step
    if have("autograd"):
        builders["HIPS autograd"] = peers.autograd_step
    if have("jax"):
        builders["JAX jit"] = peers.jax_step
    return timeit_all({name: b(params, X, y) for name, b in builders.items()}, number, repeat)


def chain(n, repeat):
    x0 = np.random.default_rng(0).uniform(0.9, 1.1, 10)
    builders = {"chainrule": peers.chain_chainrule, "NumPy forward only": peers.chain_numpy}
    if have("torch"):
        builders["PyTorch eager"] = peers.chain_torch
    if have("autograd"):
        builders["HIPS autograd"] = peers.chain_autograd
    per_call = timeit_all({name: b(x0, n) for name, b in builders.items()}, 3, repeat)
    return {name: t / n for name, t in per_call.items()}


MEMORY_CHILD = r"""
import resource, sys, numpy as np
n = int(sys.argv[2]); x0 = np.linspace(0.9, 1.1, 10)
def rss():  # current resident set size, bytes
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
base = rss()
if sys.argv[1] == "floor":
    vals = [x0]
    for i in range(n // 2):
        vals.append(np.tanh(vals[-1])); vals.append(vals[-1] * x0)
    peak = rss()
else:
    import chainrule as cr
    base = rss()
    peak_box = [0]
    def f(x):
        for i in range(n // 2):
            x = cr.tanh(x); x = x * x0
        peak_box[0] = rss()   # everything recorded, before the backward pass
        return cr.sum(x)
    g = cr.grad(f)(x0)
    peak = max(peak_box[0], rss())
print((peak - base) / n)
"""


def memory(n):
    out = {}
    for kind in ("floor", "chainrule"):
        r = subprocess.run([sys.executable, "-c", MEMORY_CHILD, kind, str(n)],
                           capture_output=True, text=True, check=True)
        out[kind] = float(r.stdout.strip())
    return out


def report(title, results, unit, scale, ours=("chainrule", "chainrule jit", "chainrule .backward()")):
    print(f"\n{title}")
    for name, t in results.items():
        print(f"  {name:24s} {t * scale:10.2f} {unit}")
    for o in ours:
        if o not in results:
            continue
        ratios = ", ".join(f"{results[o] / t:.2f}x {p}" for p, t in results.items()
                           if p not in ours)
        print(f"  {o} / peer: {ratios}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--skip-memory", action="store_true")
    a = ap.parse_args()
    rep = 5 if a.quick else 11
    res = {}
    res["64-32-10, batch 1"] = network(64, 32, 10, 1, 200, rep)
    report("64-32-10, batch 1: one SGD step (forward + backward + update)",
           res["64-32-10, batch 1"], "us/step", 1e6)
    res["784-256-10, batch 128"] = network(784, 256, 10, 128, 10, rep)
    report("784-256-10, batch 128: one SGD step", res["784-256-10, batch 128"], "us/step", 1e6)
    res["chain"] = chain(2000, 3 * rep)
    report("chain of tanh and *, 10 elements: record + backward per op",
           res["chain"], "us/op", 1e6)
    if not a.skip_memory:
        n = 10 ** 6
        mem = memory(n)
        res["memory"] = mem
        print(f"\nmemory, chain of {n} ops on 10-element arrays (bytes per op)")
        print(f"  floor (values kept as NumPy arrays in a list): {mem['floor']:.0f}")
        print(f"  chainrule (peak while differentiating):        {mem['chainrule']:.0f}"
              f"   ratio {mem['chainrule'] / mem['floor']:.2f}x the floor")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
