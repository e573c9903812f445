"""What each of cr.jit's levers buys, measured in one run on the three workloads it serves.

    python benchmarks/levers.py            # 11 interleaved repetitions per figure
    python benchmarks/levers.py --quick

Each row adds one lever to the row above it (threads pinned to one, as in bench.py):

  no passes          the recording replayed as recorded (dead values dropped)
  + simplify         constants folded, x**2 -> square, 1*x -> x, transposes cancel, cse
  + in place         elementwise ufuncs write over dead temporaries
  + direct indexing  x[1:], q[rows, y] and their scatters written as NumPy indexing
  + call path        the last signature checked by generated code (no pytree walk)
  + update inside    the SGD update traced into the program (as JAX's jit step does)
  + kept buffers     temporaries written into arrays kept from call to call (off by default)
  numba              the whole program compiled by numba (update inside)
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from bench import timeit_all  # noqa: E402

import chainrule as cr  # noqa: E402


def _unfast(jf, call):
    """``call`` with the last-signature path disabled (the general path every time)."""
    def run():
        jf._fast = None
        return call()
    return run


def network_variants(d, m, k, batch):
    params, X, y = peers.make_data(d, m, k, batch)
    vg = cr.value_and_grad(peers.chainrule_loss)

    def outside(opt, fast=True):
        p = {k: v.copy() for k, v in params.items()}
        jf = cr.jit(vg, optimize=opt)

        def step():
            loss, g = jf(p, X, y)
            for k in p:
                p[k] -= peers.LR * g[k]
            return loss
        return step if fast else _unfast(jf, step)

    def sgd(p, X, y):
        loss, g = vg(p, X, y)
        return loss, {k: p[k] - peers.LR * g[k] for k in p}

    def inside(opt, backend="numpy"):
        box = {"p": {k: v.copy() for k, v in params.items()}}
        jf = cr.jit(sgd, optimize=opt, backend=backend)

        def step():
            loss, box["p"] = jf(box["p"], X, y)
            return loss
        return step

    v = {"no passes": outside(False, fast=False),
         "+ simplify": outside({"simplify"}, fast=False),
         "+ in place": outside({"simplify", "in_place"}, fast=False),
         "+ direct indexing": outside({"simplify", "in_place", "index"}, fast=False),
         "+ call path": outside({"simplify", "in_place", "index"}),
         "+ update inside": inside({"simplify", "in_place", "index"}),
         "+ kept buffers": inside({"simplify", "in_place", "index", "buffers"})}
    if importlib.util.find_spec("numba"):
        v["numba"] = inside(True, "numba")
    return v


def rosen_variants():
    x0 = peers.rosen_x0()

    def rosen(x):
        return cr.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def make(opt, fast=True, backend="numpy"):
        jf = cr.jit(cr.grad(rosen), optimize=opt, backend=backend)
        call = lambda: jf(x0)  # noqa: E731
        return call if fast else _unfast(jf, call)
    v = {"no passes": make(False, fast=False),
         "+ simplify": make({"simplify"}, fast=False),
         "+ in place": make({"simplify", "in_place"}, fast=False),
         "+ direct indexing": make({"simplify", "in_place", "index"}, fast=False),
         "+ call path": make({"simplify", "in_place", "index"}),
         "+ kept buffers": make({"simplify", "in_place", "index", "buffers"})}
    if importlib.util.find_spec("numba"):
        v["numba"] = make(True, backend="numba")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    rep = 5 if a.quick else 11
    for title, variants, number in [
            ("64-32-10, batch 1, us/step", network_variants(64, 32, 10, 1), 300),
            ("784-256-10, batch 128, us/step", network_variants(784, 256, 10, 128), 10),
            ("gradient of the 10-d Rosenbrock, us/call", rosen_variants(), 1000)]:
        t = timeit_all(variants, number, rep)
        print(f"\n{title}")
        prev = None
        for name, s in t.items():
            gain = "" if prev is None else f"   {1e6 * (prev - s):+8.2f} us saved by this row"
            print(f"  {name:18s} {1e6 * s:10.2f}{gain}")
            prev = s if name != "numba" else prev
    print()


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
