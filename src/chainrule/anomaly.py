"""Anomaly detection: find the vertex where a NaN or an infinity is born.

A NaN is usually noticed far from where it appears: a loss prints ``nan`` and
every gradient is ``nan``. Inside ``with cr.detect_anomaly():`` every vertex is
checked as it is created and every backward message p as it is computed, and
the first one that becomes non-finite *from finite inputs* raises
``AnomalyError`` naming that vertex: its op, its inputs' ranges and the line of
user code that created it. That is the root cause, not the place where the
NaN was finally seen.

The same module records *where* vertices are created (``user_frame``): while
``state.record_where`` is on, each new vertex gets ``.where``, the first
frame outside chainrule (and NumPy) on the stack. ``cr.gradcheck`` uses it too.

Example:
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.anomaly import detect_anomaly, AnomalyError
    >>> with detect_anomaly():
    ...     try:
    ...         cr.grad(lambda x: cr.sum(cr.sqrt(x)))(np.array([1.0, 0.0]))
    ...     except AnomalyError as e:
    ...         print(str(e).splitlines()[0])
    detect_anomaly: the backward message p for input 0 of operation #1 'sqrt' is not finite, but the message it received is finite
"""
import contextlib
import linecache
import os
import sys
import threading
import weakref
from collections import namedtuple

import numpy as np

from .errors import ChainruleError
from .state import hooks, state
from .tensor import Tensor


class AnomalyError(ChainruleError, FloatingPointError):
    """detect_anomaly found a vertex whose value or backward message became non-finite."""


# ----- where a vertex was created ------------------------------------------------------
class Where(namedtuple("Where", "filename lineno function")):
    """The user code line that created a vertex: file, line number, function name."""

    __slots__ = ()

    @property
    def source(self):
        """The text of that line, stripped ('' when the file cannot be read)."""
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self):
        src = self.source
        return (f"{self.filename}:{self.lineno} in {self.function}"
                + (f": `{src}`" if src else ""))


_SKIP = tuple(os.path.dirname(os.path.abspath(f)) + os.sep for f in (__file__, np.__file__))


def user_frame():
    """The first frame on the stack outside chainrule and NumPy, as a ``Where`` (or None)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_SKIP):
        f = f.f_back
    if f is None:
        return None
    return Where(f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


# ----- switching the debug hooks on and off ----------------------------------------------
_lock = threading.Lock()
_users = 0  # debug contexts open in any thread: hooks.active is a process-wide switch


class _Local(threading.local):
    def __init__(self):
        self.count = 0                           # operations recorded by detect_anomaly
        # id(vertex) -> (weak reference, operation number); keyed by id because
        # a Tensor's == is elementwise, which weak dictionaries trip over
        self.number = {}


_local = _Local()


@contextlib.contextmanager
def debug_hooks(anomaly=False):
    """Turn on line recording (and anomaly checks if ``anomaly``) in this thread."""
    global _users
    saved = state.anomaly, state.record_where
    with _lock:
        _users += 1
        hooks.active = True
    state.record_where = True
    if anomaly and not saved[0]:
        state.anomaly = True
        _local.count = 0
        _local.number = {}
    try:
        yield
    finally:
        state.anomaly, state.record_where = saved
        with _lock:
            _users -= 1
            hooks.active = _users > 0


def detect_anomaly():
    """Context manager (or decorator): raise at the first non-finite value or message.

    Inside it, each operation checks its result: a NaN or infinity computed
    from finite inputs raises ``AnomalyError`` naming the operation, its
    inputs' ranges and the user code line. The backward pass checks each
    message p_j a rule returns the same way, and forward mode each tangent.
    Checks cost a pass over every value, so use it to debug, not to train.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.anomaly import detect_anomaly
        >>> with detect_anomaly():
        ...     cr.grad(lambda x: cr.sum(cr.log(x)))(np.array([1.0, 2.0]))
        array([1. , 0.5])
    """
    return debug_hooks(anomaly=True)


# ----- the checks, called by primitive.apply and backward_pass ---------------------------
def _finite(x):
    """True unless x is a floating-point array or number with a NaN or infinity in it."""
    if type(x) is Tensor:
        x = x.value
    if isinstance(x, (np.ndarray, np.generic, float, complex)):
        x = np.asarray(x)
        return x.dtype.kind not in "fc" or bool(np.isfinite(x).all())
    if isinstance(x, (list, tuple)):
        return all(_finite(i) for i in x)
    return True


def check_forward(out, op, args):
    """Raise if ``out`` (or its tangent) is non-finite although every input is finite."""
    _local.count += 1
    if out.op is not None:
        _local.number[id(out)] = (weakref.ref(out), _local.count)
    if not _finite(out.value):
        if all(_finite(a) for a in args):
            raise AnomalyError(_report(
                f"operation #{_local.count} '{op.name}' produced a non-finite value "
                f"from finite inputs", out, out.value, op, args,
                "log or sqrt of a negative number, 0/0, inf - inf, or an overflow (exp of a "
                "large number)"))
    elif out.tangent is not None and not all(_finite(t) for t in out.tangent.values()):
        tangents = [t for a in args if type(a) is Tensor and a.tangent is not None
                    for t in a.tangent.values()]
        if all(_finite(a) for a in args) and all(_finite(t) for t in tangents):
            raise AnomalyError(_report(
                f"the forward-mode tangent of operation #{_local.count} '{op.name}' is not "
                f"finite, but its inputs and their tangents are", out,
                next(t for t in out.tangent.values() if not _finite(t)), op, args,
                f"the JVP rule of '{op.name}' is infinite at these inputs (a derivative "
                f"like sqrt'(0) or log'(0)), or it is wrong", label="tangent"))


def check_backward(v, k, g, ga):
    """Raise if the message ``ga`` a rule of vertex ``v`` sent to its input k is non-finite
    although the message ``g`` it received, v's value and v's inputs were all finite."""
    if _finite(ga) or not (_finite(g) and _finite(v.value) and all(_finite(a) for a in v.args)):
        return
    ref, n = _local.number.get(id(v), (None, None))
    name = (f"operation #{n} '{v.op.name}'" if ref is not None and ref() is v
            else f"a '{v.op.name}' vertex recorded before detect_anomaly was on")
    gv = np.asarray(g.value if type(g) is Tensor else g)
    raise AnomalyError(_report(
        f"the backward message p for input {k} of {name} is not finite, but the message "
        f"it received is finite", v, ga, v.op, v.args,
        f"the VJP rule of '{v.op.name}' for input {k} is infinite at these inputs (sqrt or "
        f"log at 0, x**y at x = 0...) or it is wrong",
        label=f"p sent to input {k}", received=f"p received: {_describe(gv)}"))


def _report(headline, v, bad, op, args, cause, label="result", received=None):
    lines = ["detect_anomaly: " + headline]
    where = v.where
    lines.append(f"  created at {where}" if where is not None
                 else "  created at: unknown (the vertex was made outside detect_anomaly)")
    if getattr(v, "name", None):
        lines.append(f"  vertex name: {v.name!r}")
    lines.append(f"  {label}: {_describe(np.asarray(bad.value if type(bad) is Tensor else bad))}")
    if received:
        lines.append("  " + received)
    for k, a in enumerate(args):
        lines.append(f"  input {k}: {_describe_input(a)}")
    lines.append(f"  likely cause: {cause}.")
    return "\n".join(lines)


def _describe(x):
    """Shape, dtype, range, and where the first non-finite entry is."""
    x = np.asarray(x)
    text = f"shape {x.shape}, {x.dtype}"
    if x.dtype.kind not in "fc" or x.size == 0:
        return text
    fin = np.isfinite(x)
    if fin.any():
        text += f", finite range [{x[fin].min():.4g}, {x[fin].max():.4g}]"
    if not fin.all():
        idx = tuple(int(i) for i in np.argwhere(~fin)[0])
        text += (f", {int((~fin).sum())} of {x.size} entries non-finite "
                 f"(first: {x[idx] if idx else x[()]} at index {idx})")
    return text


def _describe_input(a):
    if type(a) is Tensor:
        return _describe(a.value)
    if isinstance(a, (np.ndarray, np.generic, float, int)) and not isinstance(a, bool):
        return "constant " + _describe(a)
    r = repr(a)
    return "constant " + (r if len(r) <= 60 else r[:57] + "...")
