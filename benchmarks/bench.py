"""chainrule against its peers, measured in one run: the notes' network and the per-op chain.

    OMP_NUM_THREADS=1 python benchmarks/bench.py            # everything (a few minutes)
    python benchmarks/bench.py --quick                      # fewer repetitions

Threads are pinned to one (set below, before NumPy loads). Each figure is the
median over several repetitions of the time per step (or per op); ratios are
chainrule / peer from the same run. Peers that are not installed are skipped.
"""
import os
import sys

# --blas-kernels NAME picks OpenBLAS's kernels (OPENBLAS_CORETYPE): it must be set before
# NumPy loads. OpenBLAS 0.3.31 takes this machine's AMD Zen 5 for a Haswell (AVX2); its
# SkylakeX (AVX-512) kernels run float64 matmul 1.6x faster here (docs/performance.md).
if "--blas-kernels" in sys.argv[:-1]:
    os.environ["OPENBLAS_CORETYPE"] = sys.argv[sys.argv.index("--blas-kernels") + 1]

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "XLA_FLAGS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_v, "1" if _v != "XLA_FLAGS" else
                          "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def have(mod):
    """True if ``mod`` can be imported (a peer missing here is left out of the tables)."""
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules (a test of this)
        return False


CLOCK = {"cpu": time.process_time, "wall": time.perf_counter}
clock = time.process_time


def timeit_all(fns, number, repeat):
    """Median seconds per call of each fn, the repetitions interleaved (round robin).

    The machines are shared: interleaving spreads a slow spell over every peer
    instead of charging it to whichever one happened to be running. The clock is
    this process's CPU time by default (``--clock cpu``): with one thread per
    peer it equals the wall time on a quiet machine, and on a busy one it does
    not count the time spent waiting for a core.
    """
    for fn in fns.values():  # warm up (and compile, for the jits)
        fn()
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = clock()
            for _ in range(number):
                fn()
            times[name].append((clock() - t) / number)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def network(d, m, k, batch, number, repeat):
    params, X, y = peers.make_data(d, m, k, batch)
    if batch == 1:
        X, y = X, y  # the notes' SGD: one example per step, as a batch of one
    builders = {"chainrule": peers.chainrule_step,
                "chainrule .backward()": peers.chainrule_backward_step,
                "hand NumPy": peers.numpy_step}
    builders["chainrule jit"] = peers.chainrule_jit_step
    if have("numba"):
        builders["chainrule jit numba"] = peers.chainrule_jit_numba_step
    if have("torch"):
        import torch
        torch.set_num_threads(1)
        builders["PyTorch eager"] = peers.torch_step
    if have("autograd"):
        builders["HIPS autograd"] = peers.autograd_step
    if have("jax"):
        builders["JAX jit"] = peers.jax_step
    return timeit_all({name: b(params, X, y) for name, b in builders.items()}, number, repeat)


def rosen(repeat):
    x0 = peers.rosen_x0()
    builders = {"chainrule": peers.rosen_chainrule, "hand NumPy": peers.rosen_numpy}
    builders["chainrule jit"] = peers.rosen_chainrule_jit
    if have("numba"):
        builders["chainrule jit numba"] = peers.rosen_chainrule_jit_numba
    if have("torch"):
        builders["PyTorch eager"] = peers.rosen_torch
    if have("autograd"):
        builders["HIPS autograd"] = peers.rosen_autograd
    if have("jax"):
        builders["JAX jit"] = peers.rosen_jax
    return timeit_all({name: b(x0) for name, b in builders.items()}, 200, repeat)


def callpath(repeat):
    """One tanh on a 10-element Tensor (outside a transform) and on a plain array, per path."""
    import chainrule as cr
    x = np.linspace(-1, 1, 10)
    t = cr.tensor(x, requires_grad=True)
    builders = {"cr.tanh(t)": lambda: peers.callpath_cr(t),
                "np.tanh(t)": lambda: peers.callpath_np_dispatch(t),
                "cr.tanh(array)": lambda: peers.callpath_cr(x),
                "np.tanh(array)": lambda: peers.callpath_np_dispatch(x)}
    try:
        import chainrule.numpy as cnp
        cnp.tanh  # being written: measured once it exists
        builders["cnp.tanh(t)"] = lambda: peers.callpath_cnp(t)
        builders["cnp.tanh(array)"] = lambda: peers.callpath_cnp(x)
    except (ImportError, AttributeError):
        print("\n(chainrule.numpy has no tanh yet: its call path is not measured)")
    return timeit_all({name: b() for name, b in builders.items()}, 2000, repeat)


def matmul_gflops(repeat):
    """This core's float64 matmul speed at the shapes of the batch-128 step (GFLOP/s)."""
    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(128, 784)), rng.normal(size=(256, 784))
    dz = rng.normal(size=(128, 256))
    shapes = {"X @ W.T (128x784 @ 784x256)": lambda: X @ W.T,
              "dz.T @ X (256x128 @ 128x784)": lambda: dz.T @ X,
              "square 1024 @ 1024": None}
    A = rng.normal(size=(1024, 1024))
    shapes["square 1024 @ 1024"] = lambda: A @ A
    flops = {"X @ W.T (128x784 @ 784x256)": 2 * 128 * 784 * 256,
             "dz.T @ X (256x128 @ 128x784)": 2 * 256 * 128 * 784,
             "square 1024 @ 1024": 2 * 1024 ** 3}
    t = timeit_all(shapes, 3, repeat)
    return {name: flops[name] / t[name] / 1e9 for name in t}


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


COMPILE_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
t0 = time.perf_counter()
import numpy as np, chainrule as cr, peers
backend = sys.argv[1]
if backend == "numba":
    import chainrule.jit_numba  # noqa: F401  (numba's own import is part of the cost)
t1 = time.perf_counter()
p, X, y = peers.make_data(64, 32, 10, 1)
step = peers.chainrule_jit_step(p, X, y, backend=backend)
t = time.perf_counter(); step(); net = time.perf_counter() - t
rosen = peers.rosen_chainrule_jit(peers.rosen_x0(), backend=backend)
t = time.perf_counter(); rosen(); ros = time.perf_counter() - t
print(t1 - t0, net, ros)
"""


def compile_cost():
    """Seconds for the first call (trace + compile) in a fresh process: the NumPy backend,
    numba with an empty cache, and numba again with the cache the first one left."""
    import tempfile
    out = {}
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, CHAINRULE_CACHE=cache)
        runs = [("numpy", "numpy")]
        if have("numba"):
            runs += [("numba", "numba, empty cache"), ("numba", "numba, cached")]
        for backend, label in runs:
            r = subprocess.run([sys.executable, "-c", COMPILE_CHILD, backend, here], env=env,
                               capture_output=True, text=True, check=True)
            imp, net, ros = map(float, r.stdout.split())
            out[label] = {"import": imp, "64-32-10 step": net, "rosenbrock": ros}
    return out


def memory(n):
    out = {}
    for kind in ("floor", "chainrule"):
        r = subprocess.run([sys.executable, "-c", MEMORY_CHILD, kind, str(n)],
                           capture_output=True, text=True, check=True)
        out[kind] = float(r.stdout.strip())
    return out


OURS = ("chainrule", "chainrule jit", "chainrule jit numba", "chainrule .backward()")


def report(title, results, unit, scale, ours=OURS):
    print(f"\n{title}")
    for name, t in results.items():
        print(f"  {name:24s} {t * scale:10.2f} {unit}")
    for o in ours:
        if o not in results:
            continue
        ratios = ", ".join(f"{results[o] / t:.2f}x {p}" for p, t in results.items()
                           if p not in ours)
        print(f"  {o} / peer: {ratios}")


def summary(res):
    """The issue's table: one row per workload, one column per path, and the target ratios."""
    cols = ["chainrule", "chainrule jit", "chainrule jit numba", "hand NumPy", "PyTorch eager",
            "HIPS autograd", "JAX jit"]
    rows = [("64-32-10, batch 1", "notes' net 64-32-10, SGD batch 1, us/step", 1e6),
            ("784-256-10, batch 128", "784-256-10, batch 128, us/step", 1e6),
            ("rosenbrock", "gradient of 10-d Rosenbrock, NumPy in/out, us/call", 1e6),
            ("chain", "chain of tanh and *, 10 elements, us/op (record + backward)", 1e6)]
    if not any(key in res for key, _, _ in rows):
        return
    print("\n| workload | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for key, title, scale in rows:
        if key not in res:
            continue
        r = res[key]
        cells = [f"{r[c] * scale:.1f}" if c in r else "-" for c in cols]
        if key == "chain" and "NumPy forward only" in r:
            cells[3] = f"{r['NumPy forward only'] * scale:.2f} fwd only"
        print(f"| {title} | " + " | ".join(cells) + " |")
    print("\nratios against the targets (best = the fastest chainrule path)")
    for key, peer, goal, who in [
            ("64-32-10, batch 1", "hand NumPy", 1.0, "best"),
            ("64-32-10, batch 1", "JAX jit", 0.5, "best"),
            ("64-32-10, batch 1", "PyTorch eager", 0.25, "best"),
            ("64-32-10, batch 1", "hand NumPy", 2.0, "chainrule"),
            ("784-256-10, batch 128", "JAX jit", 1.0, "best"),
            ("784-256-10, batch 128", "hand NumPy", 0.9, "best"),
            ("rosenbrock", "JAX jit", 1.0, "best"),
            ("rosenbrock", "HIPS autograd", 0.25, "chainrule"),
            ("chain", "PyTorch eager", 0.25, "chainrule")]:
        r = res.get(key, {})
        if peer not in r:
            continue
        t = (min(r.get(o, np.inf) for o in OURS) if who == "best" else r["chainrule"])
        ratio = t / r[peer]
        print(f"  {key:24s} {who:9s} / {peer:14s} {ratio:6.2f}x  (target <= {goal}x: "
              f"{'met' if ratio <= goal else 'MISSED'})")
    if "memory" in res:
        ratio = res["memory"]["chainrule"] / res["memory"]["floor"]
        print(f"  {'memory, 10^6-op chain':24s} {'chainrule':9s} / {'NumPy floor':14s} "
              f"{ratio:6.2f}x  (target <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'})")


def blas_kernels():
    """NumPy's BLAS and the kernels it runs (threadpoolctl, where installed)."""
    try:
        import threadpoolctl
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for info in threadpoolctl.threadpool_info():
        if info.get("user_api") == "blas":
            return f"{info.get('internal_api')} {info.get('version')}, " \
                   f"kernels {info.get('architecture')}"
    return "unknown"


WORKLOADS = ("net1", "net128", "rosen", "callpath", "matmul", "compile", "chain", "memory")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--blas-kernels", metavar="NAME",
                    help="OpenBLAS kernels to use (OPENBLAS_CORETYPE, e.g. SkylakeX on an "
                    "AVX-512 CPU it takes for an older one); default: its own detection")
    ap.add_argument("--clock", choices=sorted(CLOCK), default="cpu",
                    help="cpu: this process's CPU time (default); wall: elapsed time")
    ap.add_argument("--only", default=",".join(WORKLOADS),
                    help="comma-separated workloads out of " + ",".join(WORKLOADS))
    a = ap.parse_args()
    global clock
    clock = CLOCK[a.clock]
    only = set(a.only.split(","))
    if only - set(WORKLOADS):
        ap.error(f"unknown workloads {sorted(only - set(WORKLOADS))}; choose from {WORKLOADS}")
    if a.skip_memory:
        only.discard("memory")
    rep = 5 if a.quick else 11
    print(f"NumPy {np.__version__}, BLAS: {blas_kernels()}")
    missing = [m for m in ("torch", "autograd", "jax", "numba") if not have(m)]
    if missing:
        print(f"peers not installed (their columns are skipped): {', '.join(missing)}")
    res = {"blas": blas_kernels()}
    if "net1" in only:
        res["64-32-10, batch 1"] = network(64, 32, 10, 1, 200, rep)
        report("64-32-10, batch 1: one SGD step (forward + backward + update)",
               res["64-32-10, batch 1"], "us/step", 1e6)
    if "net128" in only:
        res["784-256-10, batch 128"] = network(784, 256, 10, 128, 10, rep)
        report("784-256-10, batch 128: one SGD step", res["784-256-10, batch 128"],
               "us/step", 1e6)
    if "rosen" in only:
        res["rosenbrock"] = rosen(rep)
        report("gradient of the 10-d Rosenbrock function, NumPy array in and out",
               res["rosenbrock"], "us/call", 1e6)
    if "callpath" in only:
        res["call path"] = callpath(rep)
        report("tanh of a 10-element value, by call path", res["call path"], "us/call", 1e6,
               ours=())
    if "matmul" in only:
        res["matmul GFLOP/s"] = gf = matmul_gflops(rep)
        print("\nthis core's float64 matmul (GFLOP/s)")
        for name, v in gf.items():
            print(f"  {name:32s} {v:8.1f}")
    if "compile" in only:
        res["compile"] = cc = compile_cost()
        print("\nfirst call in a fresh process, seconds (trace + compile; import of chainrule"
              " and, for numba, of numba)")
        for label, v in cc.items():
            print(f"  {label:20s} import {v['import']:7.3f}   64-32-10 step "
                  f"{v['64-32-10 step']:7.3f}   rosenbrock {v['rosenbrock']:7.3f}")
    if "chain" in only:
        res["chain"] = chain(2000, 3 * rep)
        report("chain of tanh and *, 10 elements: record + backward per op",
               res["chain"], "us/op", 1e6)
    if "memory" in only:
        n = 10 ** 6
        mem = memory(n)
        res["memory"] = mem
        print(f"\nmemory, chain of {n} ops on 10-element arrays (bytes per op)")
        print(f"  floor (values kept as NumPy arrays in a list): {mem['floor']:.0f}")
        print(f"  chainrule (peak while differentiating):        {mem['chainrule']:.0f}"
              f"   ratio {mem['chainrule'] / mem['floor']:.2f}x the floor")
    summary(res)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
