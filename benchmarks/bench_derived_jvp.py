"""What a derived JVP rule costs against a hand-written one (forward.py's derived_jvp).

    python benchmarks/bench_derived_jvp.py

A primitive softplus with both rules, and the same primitive with only its VJP rule
(forward mode then derives J t as the VJP of the VJP rule: one small backward pass),
timed in jvp, jacfwd and hessian-vector products; medians of interleaved repetitions.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402


def softplus_with(jvp_rule):
    op = cr.Primitive(lambda x: np.logaddexp(0.0, x), "softplus")
    op.defvjp(lambda g, ans, x: g * cr.sigmoid(x))
    if jvp_rule:
        op.defjvp(lambda t, ans, x: t * cr.sigmoid(x))
    return op


def median(f, number=200, repeat=9):
    f()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            f()
        ts.append((time.perf_counter() - t) / number)
    return float(np.median(ts))


def main():
    written, derived = softplus_with(True), softplus_with(False)
    for n in (10, 1000):
        x, v = np.linspace(-2, 2, n), np.ones(n)
        for what, make in [
            ("jvp", lambda op: lambda: cr.jvp(op, (x,), (v,))),
            ("hvp (forward over reverse)", lambda op: lambda: cr.hvp(
                lambda y: cr.sum(op(y)))(x, v)),
        ]:
            tw, td = median(make(written)), median(make(derived))
            print(f"n = {n:5d}  {what:28s} written {tw * 1e6:8.1f} us   derived "
                  f"{td * 1e6:8.1f} us   ratio {td / tw:.2f}x")


if __name__ == "__main__":
    main()
