"""Data-parallel training throughput with 1 and 2 MPI ranks (docs/distributed.md).

    python benchmarks/bench_distributed.py              # launches mpiexec -n 1 and -n 2
    python benchmarks/bench_distributed.py --steps 40 --repeat 3
    BENCH_DEFAULT_MALLOC=1 python benchmarks/bench_distributed.py   # glibc untuned (A/B)

The workload: the notes' network 784-256-10 (tanh), a global batch of 256 split across the
ranks, plain SGD, a fixed number of steps on synthetic MNIST-shaped data, through the same
data-parallel step as ``mpiexec -n N chainrule train`` (``nn.train_epoch`` with one
Allreduce per step) and with glibc told to keep freed memory, as that command does
(``chainrule/allocator.py``). Each rank runs one BLAS/OpenMP thread (set below, before NumPy
loads), so N ranks use N cores. Reported per rank count (median over --repeat runs,
the runs of 1 and 2 ranks interleaved): examples per second, time per step, the time per
step spent in the gradient Allreduce (waiting for the slower rank included), and the
Allreduce of the same 1.6 MB buffer alone, after a barrier (the wire cost). Then the
ring-allreduce cost model of docs/distributed.md, fed with this machine's step times by
local batch size, predicts the speed-up on 2 to 64 nodes of two cluster networks.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

SIZES = [784, 256, 10]
GLOBAL_BATCH = 256


def worker(steps: int, compute_only: bool = False) -> None:
    """One rank: warm up, time ``steps`` data-parallel steps, print JSON on rank 0.

    ``compute_only``: every process takes half of each batch (as one of 2 ranks) and
    skips the Allreduce, so that 1 process measures a rank's share of the work alone
    and 2 processes measure it while the other core does the same.
    """
    import chainrule as cr
    from chainrule import distributed as dist
    from chainrule.allocator import keep_freed_memory

    if not os.environ.get("BENCH_DEFAULT_MALLOC"):  # A/B: glibc as it comes
        keep_freed_memory()  # as `chainrule train` does
    rank, n = dist.rank(), dist.size()
    rng = np.random.default_rng(0)  # the same data on every rank, as the CLI loads it
    X = rng.normal(size=(GLOBAL_BATCH * steps, SIZES[0]))
    y = rng.integers(0, SIZES[-1], size=len(X))
    model = cr.nn.MLP(SIZES, activation="tanh", seed=0)
    opt = cr.optim.SGD(model.parameters(), lr=0.01)

    comm_cpu = [0.0]

    def allreduce_sum(tree):  # CPU time inside the Allreduce (MPICH polls: it burns CPU)
        if compute_only:
            return tree
        t = time.process_time()
        out = dist.allreduce_sum(tree)
        comm_cpu[0] += time.process_time() - t
        return out

    def epoch(rows):
        cr.nn.train_epoch(model, opt, X[:rows], y[:rows], GLOBAL_BATCH,
                          np.random.default_rng(1), replace=False,
                          shard=(rank % 2, 2) if compute_only else (rank, n),
                          allreduce_sum=allreduce_sum)

    epoch(GLOBAL_BATCH * 3)  # warm up: allocations, BLAS, MPI connections
    dist.barrier()
    dist.reset_stats()
    comm_cpu[0] = 0.0
    start, cpu = time.perf_counter(), time.process_time()
    epoch(len(X))
    cpu = time.process_time() - cpu - comm_cpu[0]
    dist.barrier()
    seconds = time.perf_counter() - start
    if compute_only:
        if dist.is_main():
            print(json.dumps({"ms_per_step": 1e3 * seconds / steps}))
        return
    comm = dist.stats["allreduce_seconds"] / steps
    # Each rank's CPU time outside the Allreduce: its compute, what a step costs it on a
    # core of its own whatever else the machine runs. The slowest rank sets the pace.
    compute = max(dist.allgather(cpu / steps))

    grads = {k: np.zeros_like(p.value) for k, p in model.parameters().items()}
    wire = []
    for _ in range(100):  # the best of many: some run while both ranks hold a core
        dist.barrier()
        t = time.perf_counter()
        dist.allreduce_sum(grads)
        wire.append(time.perf_counter() - t)
    if dist.is_main():
        print(json.dumps({
            "ranks": n, "steps": steps, "seconds": seconds,
            "examples_per_second": GLOBAL_BATCH * steps / seconds,
            "ms_per_step": 1e3 * seconds / steps, "allreduce_ms_per_step": 1e3 * comm,
            "allreduce_alone_ms": 1e3 * float(np.median(wire)),
            "allreduce_alone_best_ms": 1e3 * float(np.min(wire)),
            "compute_cpu_ms_per_step": 1e3 * compute,
            "gradient_bytes": int(sum(g.nbytes for g in grads.values())),
        }))


#: (alpha seconds per message, beta seconds per byte) of two cluster networks.
NETWORKS = {"InfiniBand 100 Gb/s": (2e-6, 1 / 12.5e9), "10 Gb Ethernet": (30e-6, 1 / 1.25e9)}


def step_costs(batches=(4, 8, 32, 128, 256), repeat=7, number=10) -> dict:
    """One process's step CPU time by local batch size (best of ``repeat``, the batch sizes
    interleaved): the compute, as CPU time so that other jobs on the machine do not count.

    Also ``"rank share"``: one rank's data-parallel step of the global batch on 2 ranks
    (``nn.training``'s own step: half the rows, the sum loss, packing the gradients for the
    Allreduce), the Allreduce itself left out.
    """
    import chainrule as cr
    from chainrule.allocator import keep_freed_memory
    from chainrule.nn import training

    keep_freed_memory()

    rng = np.random.default_rng(0)
    model = cr.nn.MLP(SIZES, activation="tanh", seed=0)
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    data = {b: (rng.normal(size=(b, SIZES[0])), rng.integers(0, SIZES[-1], size=b))
            for b in batches}
    Xg, yg = data[GLOBAL_BATCH] if GLOBAL_BATCH in data else data[max(data)]
    every = np.arange(len(Xg))

    def plain(b):
        X, y = data[b]
        cr.nn.cross_entropy(model(X), y, reduction="sum").backward()
        opt.step()
        opt.zero_grad()

    def share():
        training._shared_step(model, opt, Xg, yg, every, 1, 2, _pack_only, False, 1)

    cases = {b: (lambda b=b: plain(b)) for b in batches}
    cases["rank share"] = share
    best = {k: float("inf") for k in cases}
    for _ in range(repeat):
        for k, f in cases.items():
            t = time.process_time()
            for _ in range(number):
                f()
            best[k] = min(best[k], (time.process_time() - t) / number)
    return best


def _pack_only(tree):
    """allreduce_sum's packing and unpacking, without MPI (one process)."""
    from chainrule import distributed as dist
    return dist.allreduce_sum(tree)


def cost_model(costs: dict, gradient_bytes: int) -> None:
    """Fit T(b) = T_fixed + b t_row and print the ring-allreduce model's speed-ups."""
    share = costs.pop("rank share")
    b = np.array(sorted(costs), dtype=float)
    t = np.array([costs[k] for k in sorted(costs)])
    t_row, t_fixed = np.polyfit(b, t, 1)
    print("step CPU time by local batch (1 process, best of 7): "
          + ", ".join(f"{int(k)}: {1e3 * costs[k]:.2f} ms" for k in sorted(costs)))
    print(f"one rank's share of a 2-rank step (128 rows, packing included): "
          f"{1e3 * share:.2f} ms CPU; 1 rank / (share + Allreduce) = 2-rank speed-up on "
          "cores of their own: "
          + ", ".join(f"{1e3 * w:.2f} ms Allreduce: {costs[GLOBAL_BATCH] / (share + w):.2f}x"
                      for w in (0.1e-3, 0.3e-3, 0.5e-3)))
    print(f"fit T(b) = {1e3 * t_fixed:.2f} ms + b x {1e6 * t_row:.1f} us")
    n = gradient_bytes
    for name, (alpha, beta) in NETWORKS.items():
        for weak in (False, True):
            cells = []
            for p in (1, 2, 8, 16, 64):
                local = GLOBAL_BATCH if weak else GLOBAL_BATCH / p
                ring = 2 * (p - 1) * alpha + 2 * (p - 1) / p * n * beta
                step = t_fixed + local * t_row + ring
                one = t_fixed + (GLOBAL_BATCH * (p if weak else 1)) * t_row
                cells.append(f"p={p}: {one / step:.1f}x ({1e3 * ring:.2f} ms)")
            kind = "batch 256 per process" if weak else "global batch 256"
            print(f"{name}, {kind}: " + "; ".join(cells))


def launch(n: int, steps: int, *more: str) -> dict:
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.access(mpiexec, os.X_OK):
        mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        sys.exit('mpiexec not found: pip install "chainrule[mpi]"')
    out = subprocess.run([mpiexec, "-n", str(n), sys.executable, os.path.abspath(__file__),
                          "--worker", "--steps", str(steps), *more],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--compute-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.steps, args.compute_only)
    runs = {1: [], 2: []}
    for _ in range(args.repeat):  # interleaved: a slow spell of the machine hits both
        for n in runs:
            runs[n].append(launch(n, args.steps))
    print(f"784-256-10 tanh, global batch {GLOBAL_BATCH}, {args.steps} steps, "
          f"1 BLAS thread per rank, {os.cpu_count()} cores; median of {args.repeat} runs")
    med = {}
    for n, rs in runs.items():
        med[n] = {k: float(np.median([r[k] for r in rs])) for k in rs[0]
                  if isinstance(rs[0][k], float)}
        m = med[n]
        print(f"{n} rank{'s' if n > 1 else ' '}: {m['examples_per_second']:8.0f} examples/s  "
              f"{m['ms_per_step']:6.2f} ms/step  Allreduce {m['allreduce_ms_per_step']:5.2f} "
              f"ms/step (alone {m['allreduce_alone_ms']:.2f} ms, "
              f"{rs[0]['gradient_bytes'] / 1e6:.2f} MB)")
    speedup = med[2]["examples_per_second"] / med[1]["examples_per_second"]
    print(f"2 ranks / 1 rank throughput: {speedup:.2f}x (target >= 1.6x); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    # On a busy machine the wall clock measures the other jobs too; CPU time does not.
    own = {n: med[n]["compute_cpu_ms_per_step"] + (med[n]["allreduce_alone_best_ms"]
                                                   if n > 1 else 0.0) for n in med}
    print(f"CPU time per step outside the Allreduce (slowest rank): 1 rank "
          f"{med[1]['compute_cpu_ms_per_step']:.2f} ms, 2 ranks "
          f"{med[2]['compute_cpu_ms_per_step']:.2f} ms; with the best Allreduce "
          f"({med[2]['allreduce_alone_best_ms']:.2f} ms) on cores of their own: "
          f"{own[1] / own[2]:.2f}x")
    shares = {1: [], 2: []}
    for _ in range(args.repeat):
        for n in shares:
            shares[n].append(launch(n, args.steps, "--compute-only")["ms_per_step"])
    alone, both = (float(np.median(shares[n])) for n in (1, 2))
    wire = med[2]["allreduce_alone_best_ms"]
    print(f"one rank's share (128 rows), no Allreduce: {alone:.2f} ms/step alone, "
          f"{both:.2f} ms/step while the other core runs the same ({both / alone - 1:+.0%}: "
          f"shared cache, memory, clock); ceiling with the best Allreduce, no waiting: "
          f"{med[1]['ms_per_step']:.2f} / ({both:.2f} + {wire:.2f}) = "
          f"{med[1]['ms_per_step'] / (both + wire):.2f}x")
    print("\nthe ring-allreduce model (docs/distributed.md): speed-up over 1 process "
          "(Allreduce time)")
    cost_model(step_costs(), runs[1][0]["gradient_bytes"])


if __name__ == "__main__":
    main()
