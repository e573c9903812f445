"""Pure Python against the compiled hot path (setup.py's Cython build), in one run.

    python benchmarks/bench_compiled.py                  # callgrind counts + CPU-time medians
    python benchmarks/bench_compiled.py --no-callgrind   # timings only (no valgrind needed)
    python benchmarks/bench_compiled.py --pure /venvA/bin/python --compiled /venvB/bin/python

Two builds of the same source, each in child processes:

- compiled: an interpreter where chainrule was installed with ``pip install .``
  (default: this one; the script stops if its chainrule is not compiled);
- pure: the same interpreter with the repository's ``src/`` first on PYTHONPATH
  (the .py files, never compiled in place), or ``--pure PYTHON`` (e.g. a venv
  installed with ``CHAINRULE_PURE_PYTHON=1``).

Workloads (``peers.py``, as in bench.py): ``chain``, one op of ``x = tanh(x);
x = x * c`` on 10 elements, recorded and differentiated (per op); ``sgd1``, one
SGD step of the notes' 64-32-10 net on one example (value_and_grad + update);
``rosen``, one gradient of the 10-d Rosenbrock function, NumPy in and out.

Figures:

- instructions per unit, counted by valgrind's callgrind (deterministic: the
  machines are shared and timings are noisy): the count of a process that sets
  up every workload and runs N units of one, minus that of a process that sets
  them up and runs none (imports, set-up and warm-up cancel), divided by N; run
  with PYTHONHASHSEED=0 and address randomization off (``setarch -R``);
- CPU-time medians of interleaved repetitions: both builds run as long-lived
  children that take turns, so a slow spell of the machine hits both.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
THREADS = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

# The child: builds the workloads, then either runs N units once (callgrind) or
# serves "name count" requests on stdin with the CPU seconds they took.
CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, chainrule as cr, peers
mode = sys.argv[2]
def build(name):
    if name == "chain":
        x0 = np.random.default_rng(0).uniform(0.9, 1.1, 10)
        return peers.chain_chainrule(x0, 200), 200     # one call = 200 ops
    if name == "sgd1":
        p, X, y = peers.make_data(64, 32, 10, 1)
        return peers.chainrule_step(p, X, y), 1
    if name == "rosen":
        return peers.rosen_chainrule(peers.rosen_x0()), 1
    raise SystemExit("unknown workload " + name)
if mode == "which":
    from chainrule.build import build_info
    print(sys.modules["chainrule.primitive"].__file__, build_info()["compiled"])
    raise SystemExit
if mode == "count":  # argv: workloads (comma-separated), the one to run, calls
    fns = {name: build(name) for name in sys.argv[3].split(",")}
    for fn, per in fns.values():                       # warm-up: first-call costs
        fn(); fn()
    if sys.argv[4] != "none":
        fn = fns[sys.argv[4]][0]
        for _ in range(int(sys.argv[5])):
            fn()
    raise SystemExit
fns = {}
for line in sys.stdin:
    name, calls = line.split()
    if name not in fns:
        fns[name] = build(name)
        fns[name][0](); fns[name][0]()
    fn, per = fns[name]
    t = time.process_time()
    for _ in range(int(calls)):
        fn()
    print((time.process_time() - t) / (int(calls) * per), flush=True)
"""

UNITS = {"chain": 200, "sgd1": 1, "rosen": 1}  # units per call of each workload
CALLS = {"chain": 10, "sgd1": 200, "rosen": 200}  # calls per callgrind run (~2000 ops, steps)
TIMED = {"chain": 5, "sgd1": 200, "rosen": 200}  # calls per timed repetition


def builds(args):
    """{label: (python, extra env)} of the two builds."""
    pure_env = {} if args.pure else {"PYTHONPATH": SRC}
    return {"pure": (args.pure or sys.executable, pure_env),
            "compiled": (args.compiled or sys.executable, {"PYTHONPATH": ""})}


def child_env(extra):
    env = dict(os.environ, **THREADS, PYTHONHASHSEED="0")
    env.update(extra)
    if not env.get("PYTHONPATH"):
        env.pop("PYTHONPATH", None)
    return env


def which(python, extra):
    r = subprocess.run([python, "-c", CHILD, HERE, "which"], env=child_env(extra),
                       capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return r.stdout.strip()


def instructions(python, extra, names, name, calls):
    """Instructions callgrind counts for a child that builds and warms up the workloads
    ``names`` and then runs ``calls`` calls of ``name`` ("none": no calls)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
               python, "-c", CHILD, HERE, "count", ",".join(names), name, str(calls)]
        if shutil.which("setarch"):
            cmd = ["setarch", "-R"] + cmd  # no address randomization: repeatable counts
        r = subprocess.run(cmd, env=child_env(extra), capture_output=True, text=True,
                           cwd=tmp)
        m = re.search(r"Collected : (\d+)", r.stderr)
        if r.returncode or not m:
            raise RuntimeError(f"callgrind run failed ({r.returncode}):\n{r.stderr[-2000:]}")
        return int(m.group(1))


def count_all(bs, names):
    out = {}
    for label, (python, extra) in bs.items():
        base = instructions(python, extra, names, "none", 0)  # imports, set-up, warm-up
        for name in names:
            full = instructions(python, extra, names, name, CALLS[name])
            out.setdefault(name, {})[label] = (full - base) / (CALLS[name] * UNITS[name])
            print(f"  counted {label:8s} {name:5s}: {out[name][label]:10.0f} instructions/unit",
                  flush=True)
    return out


def time_all(bs, names, repeat):
    """Median CPU seconds per unit, the builds taking turns (interleaved)."""
    procs = {label: subprocess.Popen([python, "-c", CHILD, HERE, "serve"],
                                     env=child_env(extra), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True,
                                     cwd=tempfile.gettempdir())
             for label, (python, extra) in bs.items()}
    times = {name: {label: [] for label in procs} for name in names}
    try:
        for _ in range(repeat):
            for name in names:
                for label, p in procs.items():
                    p.stdin.write(f"{name} {TIMED[name]}\n")
                    p.stdin.flush()
                    times[name][label].append(float(p.stdout.readline()))
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait()
    return {name: {label: statistics.median(ts) for label, ts in per.items()}
            for name, per in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pure", help="python of a pure-Python install (default: this one + src/)")
    ap.add_argument("--compiled", help="python of a compiled install (default: this one)")
    ap.add_argument("--only", default="chain,sgd1,rosen", help="workloads, comma-separated")
    ap.add_argument("--repeat", type=int, default=21, help="timed repetitions per build")
    ap.add_argument("--no-callgrind", action="store_true", help="timings only")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    names = args.only.split(",")
    bs = builds(args)
    print("builds (chainrule.primitive's file, build_info()['compiled']):")
    for label, (python, extra) in bs.items():
        where = which(python, extra)
        print(f"  {label:8s} {python}  {where}")
        if where.split()[-1] != str(label == "compiled"):
            raise SystemExit(f"the {label} build is not what it should be ({where}); install "
                             f"the compiled one with pip install . (not -e), the pure one with "
                             f"CHAINRULE_PURE_PYTHON=1")
    res = {}
    if not args.no_callgrind:
        if not shutil.which("valgrind"):
            raise SystemExit("valgrind is not installed (apt-get install valgrind), or pass "
                             "--no-callgrind")
        print("callgrind (instructions per unit; N units minus none):")
        res["instructions"] = count_all(bs, names)
    res["cpu_seconds"] = time_all(bs, names, args.repeat)
    print("\n| workload | unit | pure | compiled | compiled / pure |")
    print("|---|---|---|---|---|")
    units = {"chain": "op", "sgd1": "step", "rosen": "call"}
    for kind, fmt in (("instructions", "{:.0f} instr"), ("cpu_seconds", "{:.2f} us")):
        if kind not in res:
            continue
        for name in names:
            r = res[kind][name]
            scale = 1e6 if kind == "cpu_seconds" else 1
            cells = [fmt.format(r[b] * scale) for b in ("pure", "compiled")]
            print(f"| {name} ({kind.replace('_', ' ')}) | {units[name]} | {cells[0]} | "
                  f"{cells[1]} | {r['compiled'] / r['pure']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
