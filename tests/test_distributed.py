"""chainrule.distributed and ``mpiexec -n 2 chainrule train``, with a real MPI.

The MPI tests start ``mpiexec -n 2`` (the one next to this Python, from the ``mpi`` extra)
as a subprocess; they skip, saying why, only where mpi4py or mpiexec is missing. The
single-process tests run everywhere.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule import distributed as dist

SRC = os.path.dirname(os.path.dirname(cr.__file__))


def _mpiexec():
    near = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return near if os.access(near, os.X_OK) else shutil.which("mpiexec")


def _have_mpi4py():
    try:
        import mpi4py  # noqa: F401  (importing the package does not start MPI)
    except ImportError:
        return False
    return True


MPIEXEC = _mpiexec()
needs_mpi = pytest.mark.skipif(
    MPIEXEC is None or not _have_mpi4py(),
    reason="needs MPI: mpi4py and mpiexec come with pip install 'chainrule[mpi]' "
           f"(mpi4py importable: {_have_mpi4py()}, mpiexec: {MPIEXEC})")


def _env(**more):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "OMPI_", "PMIX_", "MPI_LOCAL", "SLURM_"))}
    env.update(PYTHONPATH=SRC, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", **more)
    return env


def mpirun(n, argv, cwd=None, timeout=60, **env):
    """``mpiexec -n n python argv...``; returns the CompletedProcess."""
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *argv], cwd=cwd,
                          capture_output=True, text=True, env=_env(**env), timeout=timeout)


def make_csv(tmp_path, n_per_class=30):
    """Three well separated classes, labels in the last column."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], n_per_class)
    X = np.array([[3, 0, 0], [0, 3, 0], [0, 0, 3]])[y] + rng.normal(size=(len(y), 3))
    p = tmp_path / "blobs.csv"
    p.write_text("a,b,c,label\n" + "".join(f"{a:.5f},{b:.5f},{c:.5f},k{k}\n"
                                           for (a, b, c), k in zip(X, y)))
    return str(p)


def train_argv(csv, out, *more):
    argv = ["-m", "chainrule.cli", "train", "--dataset", csv, "--hidden", "6",
            "--batch-size", "8", "--epochs", "3", "--lr", "0.2", "--no-progress", *more]
    return argv + (["--out", str(out)] if out is not None else [])


def params_of(run_dir):
    with np.load(os.path.join(run_dir, "model.npz"), allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k.startswith("param:")}


def one_error_line(err):
    """The one line chainrule printed (MPICH adds its own "Abort(...)" line after it)."""
    ours = [ln for ln in err.strip().splitlines()
            if ln.startswith("chainrule") and "MPI_Abort" not in ln]
    assert len(ours) == 1, err
    assert "Traceback" not in err, err
    return ours[0]


# ----- one process: the trivial case, no MPI started ------------------------------------------
def test_single_process_is_the_trivial_case():
    assert (dist.rank(), dist.size(), dist.is_main()) == (0, 1, True)
    tree = {"w": np.arange(3.0), "b": [np.float32(2), np.array([1, 2])]}
    s, m = dist.allreduce_sum(tree), dist.allreduce_mean(tree)
    assert np.array_equal(s["w"], tree["w"]) and not np.shares_memory(s["w"], tree["w"])
    assert s["b"][0].dtype == np.float32 and m["b"][1].dtype == np.float64
    b = dist.broadcast(tree)
    assert np.array_equal(b["b"][1], [1, 2])
    assert dist.allgather("x") == ["x"] and dist.share(5) == 5


@pytest.mark.parametrize("style", ["backward", "cr.grad"])
def test_distributed_optimizer_alone_is_the_optimizer(style):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 0, 1, 2])
    nets = [cr.nn.MLP([3, 4, 3], seed=1) for _ in range(2)]
    opts = [cr.optim.Adam(nets[0].parameters(), lr=0.1),
            dist.DistributedOptimizer(cr.optim.Adam(nets[1].parameters(), lr=0.1))]
    for net, opt in zip(nets, opts):
        for _ in range(3):
            if style == "backward":
                cr.nn.cross_entropy(net(X), y).backward()
                opt.step()
                opt.zero_grad()
            else:
                opt.step(cr.grad(lambda p: cr.nn.cross_entropy(net(X, p), y))(
                    net.state_dict()))
    for k, v in nets[0].state_dict().items():
        assert np.array_equal(v, nets[1].state_dict()[k])
    assert opts[1].t == 3 and "Adam" in repr(opts[1])


def test_distributed_optimizer_wraps_only_optimizers():
    with pytest.raises(TypeError, match="wraps a chainrule.optim optimiser"):
        dist.DistributedOptimizer(object())


def test_launched_without_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(dist, "_world", None)
    with pytest.raises(dist.DistributedError, match=r'pip install "chainrule\[mpi\]"'):
        dist.size()


def test_cli_launched_without_mpi4py_says_it_in_one_line(tmp_path):
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "from chainrule import cli\n"
            f"sys.exit(cli.main({train_argv(make_csv(tmp_path), tmp_path / 'r')[2:]!r}))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=_env(PMI_SIZE="2", PMI_RANK="0"), timeout=60)
    assert p.returncode == 2
    assert one_error_line(p.stderr).endswith('install it with pip install "chainrule[mpi]"')
    assert not (tmp_path / "r").exists()


# ----- the command line under mpiexec -n 2 ----------------------------------------------------
@needs_mpi
def test_two_ranks_train_the_one_rank_model_and_only_rank_0_writes(tmp_path):
    csv = make_csv(tmp_path)
    one = subprocess.run([sys.executable, *train_argv(csv, tmp_path / "one")],
                         capture_output=True, text=True, env=_env(), timeout=60)
    assert one.returncode == 0, one.stderr
    work = tmp_path / "work"
    work.mkdir()
    two = mpirun(2, train_argv(csv, None), cwd=work)  # default --out: runs/<name>-<time>
    assert two.returncode == 0, two.stderr
    runs = os.listdir(work / "runs")
    assert len(runs) == 1 and os.listdir(work) == ["runs"]  # one folder, by rank 0 alone
    for e in (1, 2, 3):
        assert two.stdout.count(f"epoch {e}/3  train loss") == 1
    assert two.stdout.count("test accuracy") == 4 and two.stderr == ""
    a, b = params_of(tmp_path / "one"), params_of(work / "runs" / runs[0])
    diff = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
    print(f"\n2 ranks vs 1 rank, same global batch 8 and seed, 3 epochs of 9 steps: "
          f"largest parameter difference {diff:.2e}")
    assert diff <= 1e-12  # summation order only (measured: about 1e-16)
    m1 = json.loads((tmp_path / "one" / "metrics.json").read_text())
    m2 = json.loads((work / "runs" / runs[0] / "metrics.json").read_text())
    assert (m1["processes"], m2["processes"]) == (1, 2)
    assert m2["communication"]["gradient_allreduce_calls"] == m2["communication"]["steps"] == 27
    np.testing.assert_allclose(m1["test_loss"], m2["test_loss"], rtol=1e-10)
    assert m1["test_accuracy"] == m2["test_accuracy"]
    # evaluate is one process's job: under mpiexec rank 0 alone runs it and prints
    model = str(work / "runs" / runs[0] / "model.npz")
    ev1 = subprocess.run([sys.executable, "-m", "chainrule.cli", "evaluate", model],
                         capture_output=True, text=True, env=_env(), timeout=60)
    ev2 = mpirun(2, ["-m", "chainrule.cli", "evaluate", model])
    assert ev1.returncode == ev2.returncode == 0, ev2.stderr
    assert "accuracy" in ev1.stdout and ev2.stdout == ev1.stdout


API = r"""
import numpy as np, chainrule as cr
from chainrule import distributed as dist
r, n = dist.rank(), dist.size()
assert (n, dist.is_main()) == (2, r == 0)
tree = {"a": np.full((2, 3), r + 1.0), "b": [np.array(r, np.int64), np.float32(r)]}
s = dist.allreduce_sum(tree)
assert np.array_equal(s["a"], np.full((2, 3), 3.0)) and s["b"][0] == 1
assert s["b"][1].dtype == np.float32 and s["b"][1] == 1
m = dist.allreduce_mean(tree)
assert np.array_equal(m["a"], np.full((2, 3), 1.5)) and m["b"][0] == 0.5
big = np.arange(1000.0) * (r + 1)
calls = dist.stats["allreduce_calls"]
assert np.array_equal(dist.allreduce_sum([big], bucket_bytes=800)[0], np.arange(1000.0) * 3)
assert dist.stats["allreduce_calls"] - calls == 10  # 8000 bytes in buckets of 800
b = dist.broadcast({"x": np.arange(3.0) + r, "i": np.array([r, 7])}, root=1)
assert np.array_equal(b["x"], [1.0, 2.0, 3.0]) and np.array_equal(b["i"], [1, 7])
try:
    dist.broadcast([np.zeros(2 + r)])
    raise SystemExit("a broadcast of different shapes was not refused")
except dist.DistributedError as e:
    assert "rank(s) [1]" in str(e), e

# DistributedOptimizer equals one process on the global batch, both styles
rng = np.random.default_rng(0)
X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
mine = slice(r * 4, r * 4 + 4)
for style in ("backward", "cr.grad"):
    ref = cr.nn.MLP([4, 5, 3], seed=0)
    ref_opt = cr.optim.SGD(ref.parameters(), lr=0.5, momentum=0.9)
    net = cr.nn.MLP([4, 5, 3], seed=r)  # different start: the wrapper broadcasts rank 0's
    opt = dist.DistributedOptimizer(cr.optim.SGD(net.parameters(), lr=0.5, momentum=0.9))
    for _ in range(4):
        cr.nn.cross_entropy(ref(X), y).backward(); ref_opt.step(); ref_opt.zero_grad()
        if style == "backward":
            cr.nn.cross_entropy(net(X[mine]), y[mine]).backward(); opt.step(); opt.zero_grad()
        else:
            opt.step(cr.grad(lambda p: cr.nn.cross_entropy(net(X[mine], p), y[mine]))(
                net.state_dict()))
    for k, v in ref.state_dict().items():
        assert np.max(np.abs(net.state_dict()[k] - v)) < 1e-12, (style, k)
print(f"OK rank {r}")
"""


@needs_mpi
def test_python_api_under_two_ranks():
    p = mpirun(2, ["-c", API])
    assert p.returncode == 0, p.stdout + p.stderr
    # the two ranks' lines may interleave on the shared stdout: count them, not lines
    assert p.stdout.count("OK rank 0") == 1 and p.stdout.count("OK rank 1") == 1, p.stdout


HOOK = r"""
import numpy as np
from chainrule import distributed as dist
if dist.rank() == 1:
    raise ValueError("bad batch 7")
dist.allreduce_sum([np.ones(3)])  # rank 0 waits here for a rank that will never come
"""


@needs_mpi
def test_an_uncaught_exception_in_a_users_script_ends_the_job():
    p = mpirun(2, ["-c", HOOK])
    assert p.returncode == 1
    assert "Traceback" in p.stderr  # the failing rank's traceback, then the one line
    line = [ln for ln in p.stderr.splitlines() if ln.startswith("chainrule.distributed")]
    assert line == ["chainrule.distributed: rank 1 of 2 failed (ValueError: bad batch 7); "
                    "ending all 2 processes"], p.stderr


FAULT = r"""
import sys
from chainrule import cli, distributed as dist
from chainrule.nn import training
fault = sys.argv[1]
if dist.rank() == 1:
    if fault in ("raise", "interrupt"):
        real, calls = training.cross_entropy, [0]
        def failing(*a, **k):
            calls[0] += 1
            if calls[0] == 3:
                raise (KeyboardInterrupt() if fault == "interrupt" else
                       ValueError("bad batch: row 17 has 2 features, expected 3"))
            return real(*a, **k)
        training.cross_entropy = failing
    elif fault == "version":
        cli._version = lambda: "0.0.1"
    elif fault == "data":
        from chainrule import data
        real_load = data.load_dataset
        def other(*a, **k):
            ds = real_load(*a, **k)
            ds.X[0, 0] += 1.0
            return ds
        data.load_dataset = other
sys.exit(cli.main(sys.argv[2:]))
"""


def _fault(tmp_path, fault, *more, n=2):
    out = tmp_path / "out"
    start = time.monotonic()
    p = mpirun(n, ["-c", FAULT, fault, *train_argv(make_csv(tmp_path), out, *more)[2:]],
               cwd=tmp_path)
    return p, time.monotonic() - start, out


def _no_run_folder(tmp_path, out):
    assert not out.exists()
    assert [f for f in os.listdir(tmp_path) if "partial" in f] == []


@needs_mpi
@pytest.mark.parametrize("fault, status, words", [
    ("raise", 1, ["rank 1 of 2", "ValueError: bad batch: row 17", "ending all 2 processes"]),
    ("interrupt", 130, ["rank 1 of 2", "interrupted"]),
])
def test_a_failing_rank_ends_the_job(tmp_path, fault, status, words):
    p, seconds, out = _fault(tmp_path, fault, "--epochs", "50")
    print(f"\n{fault} on rank 1: the job ended after {seconds:.1f} s (status {p.returncode})")
    assert p.returncode == status
    line = one_error_line(p.stderr)
    for w in words:
        assert w in line, line
    _no_run_folder(tmp_path, out)


@needs_mpi
@pytest.mark.parametrize("fault, more, n, words", [
    ("none", ["--batch-size", "1"], 2, ["--batch-size 1 is the global batch", "at least 2"]),
    ("version", [], 2, ["different chainrule versions", "rank 1: 0.0.1"]),
    ("data", [], 2, ["dataset differs between processes", "rank(s) [1]"]),
    ("none", ["--dataset", "MISSING.csv"], 2, ["file not found: MISSING.csv"]),
])
def test_bad_starts_are_refused_by_every_rank(tmp_path, fault, more, n, words):
    p, _, out = _fault(tmp_path, fault, *more, n=n)
    assert p.returncode == 2, p.stderr
    line = one_error_line(p.stderr)
    assert line.startswith("chainrule train: error: ")
    for w in words:
        assert w in line, line
    _no_run_folder(tmp_path, out)


@needs_mpi
def test_more_ranks_than_training_rows(tmp_path):
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("a,label\n1,x\n2,y\n3,x\n4,y\n")
    p = mpirun(3, ["-m", "chainrule.cli", "train", "--dataset", str(tiny), "--batch-size", "3",
                   "--test-fraction", "0.5", "--out", str(tmp_path / "o")])
    assert p.returncode == 2
    assert "3 processes but only 2 training rows" in one_error_line(p.stderr)
    assert not (tmp_path / "o").exists()


@needs_mpi
def test_stop_on_nan_under_two_ranks(tmp_path):
    p, _, out = _fault(tmp_path, "none", "--lr", "1e300", "--activation", "relu",
                       "--stop-on-nan")
    assert p.returncode == 2
    line = one_error_line(p.stderr)
    assert "the loss is not finite at step" in line and "on rank" in line, line
    _no_run_folder(tmp_path, out)


@needs_mpi
def test_ctrl_c_to_mpiexec_ends_every_rank(tmp_path):
    out = tmp_path / "out"
    argv = [MPIEXEC, "-n", "2", sys.executable,
            *train_argv(make_csv(tmp_path, 300), out, "--epochs", "1000", "--batch-size", "2")]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env())
    first_epoch = ""
    while "epoch" not in first_epoch.split(" ")[0]:  # wait until training runs
        first_epoch = p.stdout.readline()
        assert first_epoch, p.stderr.read()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130
    assert "interrupted" in one_error_line(err)
    _no_run_folder(tmp_path, out)


@needs_mpi
def test_a_launcher_whose_processes_cannot_see_each_other_is_refused(tmp_path):
    # PMI_SIZE=2 without hydra's PMI connection: MPI starts as a singleton, so the two
    # "ranks" would each train alone and both write; refuse instead
    p = subprocess.run([sys.executable, *train_argv(make_csv(tmp_path), tmp_path / "r")],
                       capture_output=True, text=True, env=_env(PMI_SIZE="2", PMI_RANK="0"),
                       timeout=60)
    assert p.returncode == 2
    assert "launcher started 2 processes but MPI sees only this one" in one_error_line(p.stderr)
    assert not (tmp_path / "r").exists()
