"""The Weibull fit (examples/weibull_survival.py) against HIPS autograd doing the same fit.

    python benchmarks/bench_likelihood.py [--n 400] [--repeat 7]

Times, in one run with threads pinned to one, medians of interleaved repetitions:
a gradient call (value_and_grad of the NLL over the raveled parameters, as L-BFGS-B
calls it), the Hessian (standard errors), and the whole fit (minimize + Hessian).
Ratios are chainrule / autograd (goal: <= 0.5x).
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import weibull_survival as crw  # noqa: E402

import chainrule as cr  # noqa: E402


def median_times(fns, number, repeat):
    for f in fns.values():
        f()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t = time.perf_counter()
            for _ in range(number):
                f()
            times[k].append((time.perf_counter() - t) / number)
    return {k: float(np.median(v)) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400, help="subjects")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    try:
        import autograd
        import weibull_autograd as agw
    except ImportError:
        sys.exit("HIPS autograd is not installed: pip install autograd")
    X, t, d = crw.simulate(n=args.n)
    flat0, unravel = cr.ravel_pytree(crw.initial_params(X.shape[1]))
    x = flat0 + 0.1
    cr_obj = lambda f: crw.negative_log_likelihood(unravel(f), X, t, d)  # noqa: E731
    ag_obj = lambda f: agw.negative_log_likelihood(unravel(f), X, t, d)  # noqa: E731
    cr_vg, ag_vg = cr.value_and_grad(cr_obj), autograd.value_and_grad(ag_obj)
    cr_h, ag_h = cr.hessian(cr_obj), autograd.hessian(ag_obj)
    rows = [
        ("gradient call (value_and_grad)", median_times(
            {"chainrule": lambda: cr_vg(x), "autograd": lambda: ag_vg(x)}, 50, args.repeat)),
        ("Hessian (standard errors)", median_times(
            {"chainrule": lambda: cr_h(x), "autograd": lambda: ag_h(x)}, 5, args.repeat)),
        ("whole fit (L-BFGS-B + Hessian)", median_times(
            {"chainrule": lambda: crw.fit(X, t, d), "autograd": lambda: agw.fit(X, t, d)},
            1, args.repeat)),
    ]
    print(f"Weibull fit, n = {args.n} subjects, {X.shape[1]} covariates, "
          f"medians of {args.repeat} interleaved repetitions")
    for name, tm in rows:
        print(f"  {name:32s} chainrule {tm['chainrule'] * 1e3:9.3f} ms   "
              f"autograd {tm['autograd'] * 1e3:9.3f} ms   ratio {tm['chainrule'] / tm['autograd']:.2f}x")


if __name__ == "__main__":
    main()
