"""Data-parallel training over MPI: which process this is, collectives over pytrees of
arrays, and an optimiser wrapper that averages gradients across processes before a step.

Start N copies of a script with ``mpiexec -n N python train.py``; each copy is one *rank*
(0..N-1) holding the same parameters and its own share of every batch. After the backward
pass the ranks add their gradients with one Allreduce over a single flat buffer, so every
rank takes the same step. Without an MPI launcher (or with ``-n 1``) every function here is
the single-process case, so the same loop runs unchanged either way::

    import chainrule as cr
    from chainrule import distributed as dist

    net = cr.nn.MLP([784, 256, 10], seed=0)
    opt = dist.DistributedOptimizer(cr.optim.SGD(net.parameters(), lr=0.1))  # rank 0's values
    for idx in batches:                        # the same global batch on every rank
        mine = idx[dist.rank()::dist.size()]   # this rank's share
        cr.nn.cross_entropy(net(X[mine]), y[mine]).backward()
        opt.step()                             # gradients averaged over the ranks, then SGD
        opt.zero_grad()

Importing this module under an MPI launcher makes an uncaught exception on any rank end
the whole job (like ``python -m mpi4py``): the failing rank prints one line naming itself
and the cause, and MPI_Abort stops the others instead of leaving them waiting in a
collective forever. MPI comes from the ``mpi`` extra: ``pip install "chainrule[mpi]"``
(mpi4py and the MPICH wheel, which brings ``mpiexec``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback

import numpy as np

from .pytree import flatten, unflatten
from .tensor import Tensor, value as _value

#: Gradients larger than this many bytes are reduced in several Allreduce calls of at most
#: this size, so no collective needs a second buffer of the whole model's size at once.
BUCKET_BYTES = 64 * 2 ** 20

INSTALL_HINT = 'pip install "chainrule[mpi]"'

# What launchers set: MPICH/Intel MPI (hydra), Open MPI, MVAPICH, and Slurm's srun.
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "PMIX_RANK")


class DistributedError(RuntimeError):
    """MPI is needed but missing, or the processes disagree (structure, data, versions)."""


def launch_size() -> int:
    """How many processes the launcher started, read from its environment (1 if none)."""
    for var in _SIZE_VARS:
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    if "SLURM_STEP_ID" in os.environ and os.environ.get("SLURM_STEP_NUM_TASKS", "").isdigit():
        return int(os.environ["SLURM_STEP_NUM_TASKS"])  # srun without an MPI plugin's vars
    return 1


def launch_rank() -> int:
    """This process's rank according to the launcher's environment (0 if none)."""
    for var in (*_RANK_VARS, "SLURM_PROCID"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


class _World:
    """The communicator, or None for a single process."""

    def __init__(self):
        self.comm = None
        self.rank, self.size = 0, 1
        n = launch_size()
        if n <= 1 and "mpi4py.MPI" not in sys.modules:
            return  # no launcher: do not initialise MPI at all
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise DistributedError(
                f"this process was started by an MPI launcher with {n} processes, but "
                f"mpi4py cannot be imported ({e}); install it with {INSTALL_HINT}") from None
        comm = MPI.COMM_WORLD
        if n > 1 and comm.Get_size() == 1:  # each would train alone and write its own run
            raise DistributedError(
                f"the launcher started {n} processes but MPI sees only this one: the "
                "launcher and mpi4py's MPI do not match (use the mpiexec next to mpi4py's "
                "MPI, or srun --mpi=pmi2 / pmix with an mpi4py built for the site's MPI)")
        if comm.Get_size() > 1:
            self.comm, self.rank, self.size = comm, comm.Get_rank(), comm.Get_size()
            self.MPI = MPI


_world = None

#: Counters of the collectives that move arrays (the benchmark and metrics.json read them).
stats = {"allreduce_calls": 0, "allreduce_seconds": 0.0, "allreduce_bytes": 0}


def _get_world() -> _World:
    global _world
    if _world is None:
        _world = _World()
    return _world


def rank() -> int:
    """This process's rank, 0..size()-1 (0 without MPI)."""
    return _get_world().rank


def size() -> int:
    """The number of processes (1 without MPI)."""
    return _get_world().size


def is_main() -> bool:
    """True on rank 0, the one that prints and writes files."""
    return _get_world().rank == 0


def reset_stats() -> None:
    """Zero the counters in :data:`stats`."""
    stats.update(allreduce_calls=0, allreduce_seconds=0.0, allreduce_bytes=0)


# ----- collectives over pytrees -------------------------------------------------------------
def _leaf_array(leaf, what: str) -> np.ndarray:
    a = leaf.value if type(leaf) is Tensor else np.asarray(leaf)
    if a.dtype.kind not in "biufc":
        raise TypeError(f"chainrule.distributed.{what}: leaves must be numeric arrays, got "
                        f"dtype {a.dtype}")
    return a


def _pack(tree, what: str):
    """(arrays, treedef, flat buffer of one dtype): the tree's leaves end to end."""
    leaves, treedef = flatten(tree)
    arrays = [_leaf_array(x, what) for x in leaves]
    if not arrays:
        return arrays, treedef, np.empty(0)
    dtype = np.result_type(*arrays)
    if dtype.kind in "bu":  # MPI sums of bool or unsigned: go through int64
        dtype = np.dtype(np.int64)
    buf = np.empty(sum(a.size for a in arrays), dtype=dtype)
    at = 0
    for a in arrays:
        buf[at:at + a.size] = a.ravel()
        at += a.size
    return arrays, treedef, buf


def _unpack(arrays, treedef, buf):
    """The leaves cut back out of ``buf``: views of it (a fresh buffer per call, owned by
    nobody else) where the dtype is the leaf's, saving a copy of the model per step."""
    out, at = [], 0
    for a in arrays:
        out.append(buf[at:at + a.size].reshape(a.shape).astype(a.dtype, copy=False))
        at += a.size
    return unflatten(treedef, out)


def _buckets(buf, bucket_bytes):
    step = max(1, int(bucket_bytes) // max(buf.itemsize, 1))
    for start in range(0, buf.size, step):
        yield buf[start:start + step]


def allreduce_sum(tree, bucket_bytes: int = BUCKET_BYTES):
    """The elementwise sum over all ranks of a pytree of arrays, on every rank.

    The leaves travel as one flat buffer (one Allreduce, or one per ``bucket_bytes`` of it).
    Every rank must pass the same structure, shapes and dtypes.

    Args:
        tree: a dict / list / tuple of arrays, Tensors (their values) or numbers.

    Returns:
        The same structure with NumPy arrays (each leaf's shape and dtype).

    Example:
        >>> allreduce_sum({"w": np.ones(2)})["w"]   # one process: the input itself
        array([1., 1.])
    """
    arrays, treedef, buf = _pack(tree, "allreduce_sum")
    w = _get_world()
    if w.comm is not None and buf.size:
        start = time.perf_counter()
        for part in _buckets(buf, bucket_bytes):
            w.comm.Allreduce(w.MPI.IN_PLACE, part, op=w.MPI.SUM)
            stats["allreduce_calls"] += 1
        stats["allreduce_seconds"] += time.perf_counter() - start
        stats["allreduce_bytes"] += buf.nbytes
    return _unpack(arrays, treedef, buf)


def allreduce_mean(tree, bucket_bytes: int = BUCKET_BYTES):
    """The elementwise mean over all ranks of a pytree of arrays (see :func:`allreduce_sum`).

    Integer leaves give float64 means.

    Example:
        >>> allreduce_mean([np.array(3.0)])
        [array(3.)]
    """
    leaves, treedef = flatten(allreduce_sum(tree, bucket_bytes))
    n = size()
    return unflatten(treedef, [(x if x.dtype.kind in "fc" else x.astype(np.float64)) / n
                               for x in leaves])


def _signature(arrays, treedef):
    return (repr(treedef), tuple((a.shape, a.dtype.str) for a in arrays))


def broadcast(tree, root: int = 0, bucket_bytes: int = BUCKET_BYTES):
    """Rank ``root``'s values of a pytree of arrays, on every rank.

    Every rank passes a tree of the same structure, shapes and dtypes (its own values are
    replaced); a rank whose tree differs makes every rank raise :class:`DistributedError`.

    Returns:
        The same structure with NumPy arrays holding root's values.

    Example:
        >>> broadcast({"W": np.eye(2)})["W"]
        array([[1., 0.],
               [0., 1.]])
    """
    leaves, treedef = flatten(tree)
    arrays = [_leaf_array(x, "broadcast") for x in leaves]
    w = _get_world()
    if w.comm is None:
        return unflatten(treedef, [a.copy() for a in arrays])
    _check_root(root, w.size)
    theirs = w.comm.bcast(_signature(arrays, treedef), root=root)
    differs = theirs != _signature(arrays, treedef)
    bad = [r for r, d in enumerate(w.comm.allgather(differs)) if d]
    if bad:
        raise DistributedError(
            f"chainrule.distributed.broadcast: rank(s) {bad} passed a tree whose structure, "
            f"shapes or dtypes differ from rank {root}'s; every rank must pass the same "
            f"structure (rank {root}: {_describe(theirs)})")
    out = [None] * len(arrays)
    for dtype in sorted({a.dtype.str for a in arrays}):  # one flat buffer per dtype: exact
        group = [k for k, a in enumerate(arrays) if a.dtype.str == dtype]
        buf = np.concatenate([arrays[k].ravel() for k in group]).astype(dtype, copy=False)
        for part in _buckets(buf, bucket_bytes):
            w.comm.Bcast(part, root=root)
        for k, piece in zip(group, _split(buf, [arrays[k] for k in group])):
            out[k] = piece.copy()
    return unflatten(treedef, out)


def _split(buf, arrays):
    """``buf`` cut into pieces of the arrays' sizes and shapes."""
    out, at = [], 0
    for a in arrays:
        out.append(buf[at:at + a.size].reshape(a.shape))
        at += a.size
    return out


def _describe(signature) -> str:
    _, leaves = signature
    shown = ", ".join(f"{s}:{d}" for s, d in leaves[:4])
    return f"{len(leaves)} arrays [{shown}{', ...' if len(leaves) > 4 else ''}]"


def _check_root(root, n):
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < n:
        raise ValueError(f"chainrule.distributed: root must be a rank 0..{n - 1}, got {root!r}")


def broadcast_parameters(params: dict, root: int = 0) -> None:
    """Overwrite every parameter (Tensor or array, in place) with rank ``root``'s value."""
    new = broadcast({k: p for k, p in params.items()}, root=root)
    for k, p in params.items():
        if type(p) is Tensor:
            p.value = new[k]
        else:
            p[...] = new[k]


def allgather(obj) -> list:
    """Every rank's small Python object (a version string, a checksum), in rank order."""
    w = _get_world()
    return [obj] if w.comm is None else w.comm.allgather(obj)


def share(obj, root: int = 0):
    """Rank ``root``'s small Python object on every rank (a status, a folder name)."""
    w = _get_world()
    return obj if w.comm is None else w.comm.bcast(obj, root=root)


def barrier() -> None:
    """Wait until every rank gets here."""
    w = _get_world()
    if w.comm is not None:
        w.comm.Barrier()


def abort(message: str, status: int = 1) -> None:
    """Print ``message`` (one line, on stderr) and end every rank of the job now.

    With one process this is ``sys.exit(status)`` after printing.
    """
    w = _get_world()
    if w.comm is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
    sys.stderr.write(" ".join(str(message).split()) + "\n")
    sys.stderr.flush()
    if w.comm is None:
        raise SystemExit(status)
    # The launcher forwards our stderr through a pipe; aborting at once sometimes killed
    # it before it had passed the line on (1 run in about 10 of tests/test_distributed.py).
    time.sleep(0.3)
    try:
        w.comm.Abort(status)
    finally:  # MPI_Abort may come back (interrupted by a signal): this process ends anyway
        os._exit(status)


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def share_cores():
    """Limit BLAS threads so that the ranks on one machine share its cores, one thread
    each on a machine with as many cores as ranks (call on every rank: it is collective).

    Does nothing when the user set OMP_NUM_THREADS, OPENBLAS_NUM_THREADS or
    MKL_NUM_THREADS, or without MPI. Oversubscribed BLAS threads made 2 ranks on 2 cores
    slower than 1 rank (benchmarks/bench_distributed.py).

    Returns:
        threadpoolctl's limiter (``.unregister()`` restores the old limits), or None.
    """
    w = _get_world()
    if w.comm is None or any(v in os.environ for v in _THREAD_VARS):
        return None
    node = w.comm.Split_type(w.MPI.COMM_TYPE_SHARED)
    local = node.Get_size()
    node.Free()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return threadpool_limits(max(1, cores // local))


# ----- the optimiser wrapper ----------------------------------------------------------------
class DistributedOptimizer:
    """Wrap a ``cr.optim`` optimiser: average the gradients over all ranks, then step.

    Works both ways the optimisers do: ``opt.step()`` after ``loss.backward()`` (the
    Tensors' ``.grad``), and ``opt.step(grads)`` with the dict ``cr.grad`` returned. The
    average is over ranks, so each rank's loss should be the mean over its share of the
    batch (with unequal shares, weight it: ``loss_sum / global_batch`` and
    ``average=False``). All gradients travel in one Allreduce; a parameter without a
    gradient on some rank counts as zero there, and one without a gradient on every rank is
    left unchanged. Other attributes (``t``, ``params``, ``zero_grad``...) are the wrapped
    optimiser's.

    Args:
        opt: the optimiser (SGD, Adam, ...).
        broadcast: overwrite the parameters with rank 0's values now, so that every rank
            starts from the same point (default True).
        average: divide the sum of the ranks' gradients by the number of ranks (default
            True); False adds them.

    Example:
        >>> import chainrule as cr
        >>> W = cr.tensor(np.ones(2), requires_grad=True)
        >>> opt = DistributedOptimizer(cr.optim.SGD({"W": W}, lr=0.5))
        >>> cr.sum(W * W).backward(); opt.step(); W.value
        array([0., 0.])
    """

    def __init__(self, opt, broadcast: bool = True, average: bool = True):
        if not hasattr(opt, "step") or not isinstance(getattr(opt, "params", None), dict):
            raise TypeError("DistributedOptimizer wraps a chainrule.optim optimiser (SGD, "
                            f"Adam, ...); got {type(opt).__name__}")
        self.opt = opt
        self.average = bool(average)
        if broadcast and size() > 1:
            broadcast_parameters(opt.params)

    def step(self, grads=None) -> None:
        """Average the gradients over the ranks, then take the wrapped optimiser's step."""
        n = size()
        if n == 1:
            return self.opt.step(grads)
        params = self.opt.params
        mine = self.opt.checked_gradients(grads)  # the wrapped optimiser's own checks
        present = np.array([g is not None for g in mine.values()], dtype=np.float64)
        zeros = {k: (np.zeros(np.shape(_value(p)), dtype=_value(p).dtype)
                     if mine[k] is None else mine[k]) for k, p in params.items()}
        total, count = allreduce_sum((zeros, present))
        scale = 1.0 / n if self.average else 1.0
        out = {k: total[k] * scale for k, c in zip(params, count) if c > 0}
        if not out:
            raise ValueError("DistributedOptimizer.step(): no parameter has a gradient on any "
                             "rank; call loss.backward() first, or pass gradients from cr.grad")
        self.opt.step(out)

    def __getattr__(self, name):
        return getattr(self.opt, name)

    def __repr__(self):
        return f"DistributedOptimizer({self.opt!r}, ranks={size()})"




# ----- an uncaught exception ends the whole job ----------------------------------------------
def _abort_on_uncaught(kind, value, tb):
    """sys.excepthook under MPI: the traceback, one line naming rank and cause, MPI_Abort."""
    w = _get_world()
    if not issubclass(kind, KeyboardInterrupt):
        traceback.print_exception(kind, value, tb)
    cause = f"{kind.__name__}: {value}" if str(value) else kind.__name__
    abort(f"chainrule.distributed: rank {w.rank} of {w.size} failed ({cause}); "
          f"ending all {w.size} processes", 130 if issubclass(kind, KeyboardInterrupt) else 1)


def _install_hook():
    if launch_size() <= 1 and "mpi4py.MPI" not in sys.modules:
        return
    try:
        w = _get_world()
    except DistributedError:
        return  # raised again, with its advice, by the first function that needs MPI
    if w.comm is not None:
        sys.excepthook = _abort_on_uncaught


_install_hook()
