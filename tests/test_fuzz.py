"""Property-based fuzzing: random programs must agree with PyTorch and with finite differences.

hypothesis draws programs: 1-3 float64 inputs (0-d, size-1 axes, up to 24 entries), then
a few steps, each an operation of ``cr.ops.__all__`` on earlier values (so values fan out)
or on constants and Python scalars (so shapes broadcast), with drawn axes, keepdims,
indices (slices with negative steps, None, Ellipsis, integer arrays with repeats,
boolean masks), joins and reshapes, called as ``cr.f``, as an operator or through
NumPy's ``np.f``. The program's output is a scalar: a few of its values contracted with
random cotangents. Then:

- ``test_program_matches_torch``: every value (shape and entries) and the gradient of
  every input agree with PyTorch (float64) to 1e-9;
- ``test_program_matches_finite_differences``: ``cr.grad`` agrees with central differences,
  ``.backward()`` with ``cr.grad``, and ``cr.jvp`` with the gradient (forward mode).

Each test runs once per operation, with that operation forced into every program, so
every op is exercised whatever hypothesis draws. Inputs are kept off kinks and ties
(relu/abs at 0, max ties, maximum ties, clip and comparison boundaries) by at least 0.05,
and values within +-100, so finite differences are meaningful: the builder shifts an
operand by a drawn scalar, or maps it into a domain (exp(tanh(x)) > 0.36 for log, sqrt,
divide, power), with more recorded steps.

Seeded (derandomize) and bounded: CHAINRULE_FUZZ_EXAMPLES (default 20) examples per
operation and test (about 30 s in all). CHAINRULE_FUZZ_EXAMPLES=500 is the long run
(docs/reliability.md).
"""
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings, strategies as st

import chainrule as cr
from fd import numeric_grad

EXAMPLES = int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), print_blob=False)
MARGIN = 0.05     # distance kept from kinks, ties and comparison boundaries
BOUND = 100.0     # largest |value| a program may compute
MAX_SIZE = 64     # largest array a program may compute
SHIFTS = [0.0] + [s * 0.137 for k in range(1, 61) for s in (k, -k)]  # 121 candidates


# ----- programs -------------------------------------------------------------------------
class Step:
    """out = name(*refs, **params); a ref is ("n", i) node i, ("c", array) or ("s", float)."""

    def __init__(self, name, refs, params):
        self.name, self.refs, self.params = name, refs, params

    def __repr__(self):
        def r(ref):
            if ref[0] == "n":
                return f"v{ref[1]}"
            if ref[0] == "c":
                return f"const{np.shape(ref[1])}"
            return repr(ref[1])
        ps = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.name}({', '.join(r(x) for x in self.refs)}{', ' if ps else ''}{ps})"


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array{v.shape}" if v.size > 6 else np.array2string(v, separator=",")
    if isinstance(v, tuple) and any(isinstance(i, np.ndarray) for i in v):
        return "(" + ", ".join(_short(i) for i in v) + ")"
    return repr(v)


class Program:
    def __init__(self, inputs, steps, outs):
        self.inputs, self.steps, self.outs = inputs, steps, outs

    def __repr__(self):
        lines = [f"v{i} = input{x.shape}" for i, x in enumerate(self.inputs)]
        lines += [f"v{len(self.inputs) + k} = {s!r}" for k, s in enumerate(self.steps)]
        lines.append("F = " + " + ".join(f"sum(v{i} * c{np.shape(c)})" for i, c in self.outs))
        return "\n".join(lines)


def replay(prog, leaves, be):
    """Every value of the program, computed by backend ``be`` from ``leaves``."""
    pool = list(leaves)
    for step in prog.steps:
        pool.append(be.run(step, pool))
    return pool


def output(prog, pool, be):
    total = None
    for i, c in prog.outs:
        term = be.contract(pool[i], c)
        total = term if total is None else total + term
    return total


# ----- backends -------------------------------------------------------------------------
class Chainrule:
    """chainrule's operations, on Tensors (recorded) or NumPy arrays (plain NumPy)."""

    @staticmethod
    def arg(ref, pool):
        return pool[ref[1]] if ref[0] == "n" else ref[1]

    def run(self, step, pool):
        self._pool = pool  # where's condition reads nodes too
        args = [self.arg(r, pool) for r in step.refs]
        return getattr(self, "op_" + step.name)(*args, **step.params)

    @staticmethod
    def contract(v, c):
        return cr.sum(cr.multiply(v, c))

    def cond(self, spec, pool):
        kind = spec[0]
        if kind == "const":
            return spec[1]
        if kind == "cmp":
            a, b = self.arg(spec[2], pool), self.arg(spec[3], pool)
            if spec[4] == "op" and isinstance(a, cr.Tensor):
                return {"greater": a.__gt__, "greater_equal": a.__ge__, "less": a.__lt__,
                        "less_equal": a.__le__, "equal": a.__eq__,
                        "not_equal": a.__ne__}[spec[1]](b)
            return getattr(cr, spec[1])(a, b)
        if kind in ("isfinite", "isnan"):
            return getattr(cr, kind)(self.arg(spec[1], pool))
        if kind == "logical_not":
            return cr.logical_not(self.cond(spec[1], pool))
        return getattr(cr, kind)(self.cond(spec[1], pool), self.cond(spec[2], pool))

    # elementwise: style picks cr.f, the Python operator or NumPy's np.f
    def _call(self, name, style, *args):
        if style == "np":
            return getattr(np, {"abs": "absolute"}.get(name, name))(*args)
        return getattr(cr, name)(*args)

    def op_unary(self, a, fn, style):
        if style == "op" and fn == "negative":
            return -a
        if style == "op" and fn == "abs":
            return abs(a)
        if style == "np" and fn in ("relu", "sigmoid"):
            style = "cr"
        return self._call(fn, style, a)

    def op_binary(self, a, b, fn, style):
        if style == "op":
            return {"add": lambda: a + b, "subtract": lambda: a - b,
                    "multiply": lambda: a * b, "divide": lambda: a / b,
                    "power": lambda: a ** b}[fn]()
        return self._call(fn, style, a, b)

    def op_maximum(self, a, b, fn, style):
        return self._call(fn, style, a, b)

    def op_where(self, x, y, cond, style):
        c = self.cond(cond, self._pool)
        return np.where(c, x, y) if style == "np" else cr.where(c, x, y)

    def op_sign(self, x, a):
        return x * cr.sign(a)

    def op_clip(self, x, *bounds, lo, hi, style):
        it = iter(bounds)
        lo = next(it) if lo == "node" else lo
        hi = next(it) if hi == "node" else hi
        if style == "method" and isinstance(x, cr.Tensor):
            return x.clip(lo, hi)
        if style == "np":
            return np.clip(x, lo, hi)
        return cr.clip(x, a_min=lo, a_max=hi)

    def op_reduce(self, a, fn, axis, keepdims, style):
        if style == "method" and isinstance(a, cr.Tensor) and fn != "logsumexp":
            return getattr(a, fn)(axis=axis, keepdims=keepdims)
        if style == "np" and fn != "logsumexp":
            return getattr(np, fn)(a, axis=axis, keepdims=keepdims)
        return getattr(cr, fn)(a, axis=axis, keepdims=keepdims)

    def op_softmax(self, a, fn, axis):
        return getattr(cr, fn)(a, axis=axis)

    def op_matmul(self, a, b, fn, style):
        if style == "op" and fn == "matmul":
            return a @ b
        if style == "np":
            return getattr(np, fn)(a, b)
        return getattr(cr, fn)(a, b)

    def op_reshape(self, a, shape, style):
        if style == "method" and isinstance(a, cr.Tensor):
            return a.reshape(shape)
        return np.reshape(a, shape) if style == "np" else cr.reshape(a, shape)

    def op_transpose(self, a, axes, style):
        if style == "T" and isinstance(a, cr.Tensor) and axes is None:
            return a.T
        return np.transpose(a, axes) if style == "np" else cr.transpose(a, axes)

    def op_expand_dims(self, a, axis):
        return cr.expand_dims(a, axis)

    def op_squeeze(self, a, axis, style):
        return np.squeeze(a, axis) if style == "np" else cr.squeeze(a, axis)

    def op_broadcast_to(self, a, shape):
        return cr.broadcast_to(a, shape)

    def op_concatenate(self, *parts, axis, style):
        return np.concatenate(parts, axis) if style == "np" else cr.concatenate(list(parts), axis)

    def op_stack(self, *parts, axis, style):
        return np.stack(parts, axis) if style == "np" else cr.stack(list(parts), axis)

    def op_getitem(self, a, idx, style):
        if not isinstance(a, cr.Tensor):
            return a[idx]
        if style == "tensor index":  # integer index arrays given as (non-grad) Tensors
            idx = tuple(cr.tensor(i) if isinstance(i, np.ndarray) and i.dtype != bool else i
                        for i in idx)
        return a[idx] if style != "cr" else cr.getitem(a, idx)

    def op_index_add(self, g, idx, shape):
        return cr.index_add(g, idx, shape)


class Torch:
    """The same programs in PyTorch (float64): the oracle."""

    def __init__(self, torch):
        self.t = torch

    def tensor(self, v):
        return self.t.as_tensor(np.asarray(v, dtype=np.float64))

    def arg(self, ref, pool):
        if ref[0] == "n":
            return pool[ref[1]]
        return self.tensor(ref[1]) if ref[0] == "c" else float(ref[1])

    def run(self, step, pool):
        args = [self.arg(r, pool) for r in step.refs]
        self._pool = pool
        return getattr(self, "op_" + step.name)(*args, **step.params)

    def contract(self, v, c):
        return (v * self.tensor(c)).sum()

    def _t(self, v):
        return v if isinstance(v, self.t.Tensor) else self.tensor(v)

    def cond(self, spec, pool):
        t = self.t
        kind = spec[0]
        if kind == "const":
            return t.as_tensor(spec[1])
        if kind == "cmp":
            a, b = self._t(self.arg(spec[2], pool)), self._t(self.arg(spec[3], pool))
            return {"greater": t.gt, "greater_equal": t.ge, "less": t.lt, "less_equal": t.le,
                    "equal": t.eq, "not_equal": t.ne}[spec[1]](a, b)
        if kind in ("isfinite", "isnan"):
            return getattr(t, kind)(self.arg(spec[1], pool))
        if kind == "logical_not":
            return t.logical_not(self.cond(spec[1], pool))
        return getattr(t, kind)(self.cond(spec[1], pool), self.cond(spec[2], pool))

    def op_unary(self, a, fn, style):
        t = self.t
        return {"abs": t.abs, "cos": t.cos, "exp": t.exp, "log": t.log, "negative": t.neg,
                "relu": t.relu, "sigmoid": t.sigmoid, "sin": t.sin, "sqrt": t.sqrt,
                "square": t.square, "tanh": t.tanh}[fn](a)

    def op_binary(self, a, b, fn, style):
        if fn == "power":
            return self.t.pow(a, b)
        return {"add": lambda: a + b, "subtract": lambda: a - b,
                "multiply": lambda: a * b, "divide": lambda: a / b}[fn]()

    def op_maximum(self, a, b, fn, style):
        return getattr(self.t, fn)(self._t(a), self._t(b))

    def op_where(self, x, y, cond, style):
        c = self.cond(cond, self._pool)
        return self.t.where(c, self._t(x), self._t(y))

    def op_sign(self, x, a):
        return x * self.t.sign(a)

    def op_clip(self, x, *bounds, lo, hi, style):
        it = iter(bounds)
        lo = next(it) if lo == "node" else lo
        hi = next(it) if hi == "node" else hi
        if isinstance(lo, self.t.Tensor) or isinstance(hi, self.t.Tensor):
            lo = None if lo is None else self._t(lo)
            hi = None if hi is None else self._t(hi)
        return self.t.clamp(x, min=lo, max=hi)

    def _dims(self, a, axis):
        if axis is None:
            return tuple(range(a.ndim))
        return (axis,) if isinstance(axis, int) else tuple(axis)

    def op_reduce(self, a, fn, axis, keepdims, style):
        if a.ndim == 0:  # a reduction of one entry is that entry
            return a * 1.0 if fn in ("sum", "mean", "max", "min", "logsumexp") else a
        dims = self._dims(a, axis)
        f = {"sum": self.t.sum, "mean": self.t.mean, "max": self.t.amax, "min": self.t.amin,
             "logsumexp": self.t.logsumexp}[fn]
        return f(a, dim=dims, keepdim=keepdims)

    def op_softmax(self, a, fn, axis):
        return getattr(self.t, fn)(a, dim=axis)

    def op_matmul(self, a, b, fn, style):
        if fn == "dot" and (a.ndim == 0 or b.ndim == 0):
            return a * b
        return self.t.matmul(a, b)

    def op_reshape(self, a, shape, style):
        return a.reshape(shape)

    def op_transpose(self, a, axes, style):
        if a.ndim == 0:
            return a
        return a.permute(*(axes if axes is not None else reversed(range(a.ndim))))

    def op_expand_dims(self, a, axis):
        return a.reshape(np.expand_dims(np.empty(tuple(a.shape)), axis).shape)

    def op_squeeze(self, a, axis, style):
        return a.reshape(np.squeeze(np.empty(tuple(a.shape)), axis).shape)

    def op_broadcast_to(self, a, shape):
        return self.t.broadcast_to(a, shape)

    def op_concatenate(self, *parts, axis, style):
        return self.t.cat(parts, dim=axis)

    def op_stack(self, *parts, axis, style):
        return self.t.stack(parts, dim=axis)

    def op_getitem(self, a, idx, style):
        flat = np.arange(int(np.prod(a.shape, dtype=int))).reshape(tuple(a.shape))[idx]
        return a.reshape(-1)[self.t.as_tensor(np.array(flat, dtype=np.int64))]

    def op_index_add(self, g, idx, shape):
        n = int(np.prod(shape, dtype=int))
        flat = np.arange(n).reshape(shape)[idx]
        out = self.t.zeros(n, dtype=self.t.float64)
        return out.index_add(0, self.t.as_tensor(np.asarray(flat, np.int64).reshape(-1)),
                             g.reshape(-1)).reshape(shape)


CR = Chainrule()


# ----- the builder ----------------------------------------------------------------------
def _far(v, points, m=MARGIN):
    v = np.asarray(v, dtype=np.float64)
    return all(np.all(np.abs(v - p) >= m) for p in np.atleast_1d(points))


def _broadcastable(s1, s2):
    try:
        return int(np.prod(np.broadcast_shapes(s1, s2), dtype=int)) <= MAX_SIZE
    except ValueError:
        return False


class Builder:
    """Draws a program step by step, evaluating it on the way (plain NumPy via chainrule)."""

    def __init__(self, data, inputs):
        self.data = data
        self.inputs = inputs
        self.vals = [np.asarray(x) for x in inputs]
        self.steps = []

    # drawing
    def draw(self, strategy, label=None):
        return self.data.draw(strategy, label=label)

    def choice(self, seq, label=None):
        return self.draw(st.sampled_from(list(seq)), label)

    def flag(self, label=None):
        return self.draw(st.booleans(), label)

    def node(self, pred=lambda v: True, label="node"):
        cands = [i for i, v in enumerate(self.vals) if pred(v)]
        return self.choice(cands, label) if cands else None

    def const(self, shape, lo=-2.0, hi=2.0):
        n = int(np.prod(shape, dtype=int))
        xs = self.draw(st.lists(st.floats(lo, hi, allow_nan=False), min_size=n, max_size=n),
                       "constant")
        return np.array(xs, dtype=np.float64).reshape(shape)

    # recording
    def emit(self, name, refs, **params):
        """Append the step if its value is finite, within BOUND and MAX_SIZE; its index."""
        step = Step(name, refs, params)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                out = np.asarray(CR.run(step, self.vals))
            except (ValueError, IndexError, TypeError):  # e.g. shapes that do not fit
                return None
        if (out.dtype.kind != "f" or out.size > MAX_SIZE or not np.all(np.isfinite(out))
                or (out.size and np.max(np.abs(out)) > BOUND)):
            return None
        self.steps.append(step)
        self.vals.append(out)
        return len(self.vals) - 1

    # always-feasible transforms
    def tanh(self, i):
        return self.emit("unary", [("n", i)], fn="tanh", style="cr")

    def positive(self, i):
        """exp(tanh(v)): in [0.36, 2.72]."""
        if np.all(self.vals[i] >= 0.3) and np.all(self.vals[i] <= 3.0):
            return i
        j = self.tanh(i)
        return self.emit("unary", [("n", j)], fn="exp", style="cr")

    def shifted(self, i, avoid, other=None):
        """v + s, s from SHIFTS (0 first), so that v + s keeps MARGIN from ``avoid``
        (points, or the values of ``other`` broadcast against v)."""
        v = self.vals[i]
        for s in SHIFTS:
            ok = (_far(v + s, avoid) if other is None
                  else np.all(np.abs(v + s - self.vals[other]) >= MARGIN))
            if ok and np.all(np.abs(v + s) <= BOUND):
                if s == 0.0:
                    return i
                j = self.emit("binary", [("n", i), ("s", s)], fn="add", style="op")
                if j is not None:
                    return j
        raise AssertionError("no shift found")  # cannot happen: 121 candidates, <= 64 values

    def distinct(self, i):
        """A node with all entries at least 2*MARGIN apart: 0.001 v + a staircase."""
        v = self.vals[i]
        flat = np.sort(v.reshape(-1))
        if flat.size < 2 or np.min(np.diff(flat)) >= 2 * MARGIN:
            return i
        if np.max(np.abs(v), initial=0.0) > 1:
            i = self.tanh(i)
        perm = self.draw(st.permutations(range(v.size)), "staircase")
        stairs = np.array(perm, dtype=np.float64).reshape(v.shape)
        j = self.emit("binary", [("n", i), ("s", 0.001)], fn="multiply", style="op")
        return self.emit("binary", [("n", j), ("c", stairs)], fn="add", style="cr")

    def small(self, i):
        return i if np.all(np.abs(self.vals[i]) <= 1) else self.tanh(i)

    # operands
    def partner(self, i, allow_scalar=True, label="partner"):
        """A second operand broadcasting with node i: a node, a constant or a scalar."""
        shape = self.vals[i].shape
        kinds = ["node", "const"] + (["scalar"] if allow_scalar else [])
        kind = self.choice(kinds, label + " kind")
        if kind == "node":
            j = self.node(lambda v: _broadcastable(v.shape, shape), label)
            if j is not None:
                return ("n", j)
            kind = "const"
        if kind == "const":
            return ("c", self.const(self.broadcast_shape(shape)))
        return ("s", self.draw(st.floats(-2, 2, allow_nan=False), "scalar"))

    def broadcast_shape(self, shape):
        """A shape that broadcasts against ``shape``: fewer leading axes, 1s, or one more."""
        kind = self.choice(["same", "drop", "ones", "prepend"], "broadcast")
        if kind == "drop" and len(shape):
            return shape[self.draw(st.integers(1, len(shape)), "drop"):]
        if kind == "ones":
            return tuple(1 if self.flag("one") else s for s in shape)
        if kind == "prepend" and int(np.prod(shape, dtype=int)) * 2 <= MAX_SIZE:
            return (2,) + shape
        return shape

    def axis_arg(self, ndim, allow_none=True, allow_tuple=True):
        kinds = (["none"] if allow_none else []) + (["int"] if ndim else []) + (
            ["tuple"] if allow_tuple and ndim else [])
        kind = self.choice(kinds, "axis kind")
        if kind == "none":
            return None
        if kind == "int":
            return self.draw(st.integers(-ndim, ndim - 1), "axis")
        axes = self.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                                  unique_by=lambda a: a % ndim), "axes")
        return tuple(axes)


# ----- how each op of cr.ops.__all__ gets into a program --------------------------------
UNARY = ["abs", "cos", "exp", "log", "negative", "relu", "sigmoid", "sin", "sqrt", "square",
         "tanh"]
BINARY = ["add", "subtract", "multiply", "divide", "power"]
REDUCE = ["sum", "mean", "max", "min", "logsumexp"]
COMPARE = ["greater", "greater_equal", "less", "less_equal", "equal", "not_equal"]
LOGICAL = ["logical_and", "logical_or", "logical_not", "isfinite", "isnan"]


def b_unary(b, fn):
    i = b.node()
    style = b.choice(["cr", "op", "np"], "style")
    if fn in ("log", "sqrt"):
        i = b.positive(i)
    elif fn == "exp":
        i = b.small(i) if np.max(b.vals[i], initial=0.0) > 4 else i
    elif fn in ("relu", "abs"):
        i = b.shifted(i, [0.0])
    elif fn == "square":
        i = b.small(i) if np.max(np.abs(b.vals[i]), initial=0.0) > 10 else i
    return b.emit("unary", [("n", i)], fn=fn, style=style)


def b_binary(b, fn):
    i = b.node()
    style = b.choice(["cr", "op", "np"], "style")
    if fn == "power":
        kind = b.choice(["x ** scalar", "x ** node", "scalar ** y", "x ** integer"], "power")
        if kind == "x ** integer":
            refs = [("n", b.small(i)), ("s", float(b.choice([0, 1, 2, 3], "n")))]
        elif kind == "scalar ** y":
            base = b.draw(st.floats(0.5, 3.0), "base")
            refs = [("s", base), ("n", b.small(i))]  # as an operator: Tensor.__rpow__
        else:
            x = b.positive(i)
            if kind == "x ** scalar":
                y = ("s", b.choice([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0], "p"))
            else:
                j = b.node(lambda v: _broadcastable(v.shape, b.vals[x].shape), "exponent")
                y = ("n", b.small(j)) if j is not None else ("c", b.const(b.vals[x].shape))
            refs = [("n", x), y]
        return b.emit("binary", refs, fn=fn, style=style)
    other = b.partner(i)
    if fn == "divide" and other[0] == "n":
        other = ("n", b.positive(other[1]))
    elif fn == "divide" and other[0] == "c":
        other = ("c", np.where(np.abs(other[1]) < 0.3, 0.5, other[1]))
    elif fn == "divide" and abs(other[1]) < 0.3:
        other = ("s", 0.5)
    if fn == "multiply" and np.max(np.abs(b.vals[i]), initial=0.0) > 10:
        i = b.small(i)
    refs = [("n", i), other]
    if b.flag("swap") and not (fn == "divide"):
        refs.reverse()
    return b.emit("binary", refs, fn=fn, style=style)


def b_maximum(b, fn):
    i = b.node()
    other = b.partner(i, label="other")
    if other[0] == "n":
        j = b.shifted(other[1], None, other=i)
        other = ("n", j)
    elif other[0] == "c":
        c = other[1]
        for s in SHIFTS:
            if np.all(np.abs(c + s - b.vals[i]) >= MARGIN):
                other = ("c", c + s)
                break
    else:
        i = b.shifted(i, [other[1]])
    refs = [("n", i), other]
    if b.flag("swap"):
        refs.reverse()
    return b.emit("maximum", refs, fn=fn, style=b.choice(["cr", "np"], "style"))


def _scalar_far_from(b, v, label="threshold"):
    cands = [s for s in SHIFTS if _far(v, [s])]
    return b.choice(cands[:20], label)


def b_cond(b, shape, force=None):
    """A condition (a mask) broadcasting with ``shape``, using ``force`` if given."""
    kind = force or b.choice(["const", "cmp", "cmp", "logical"], "cond")
    fits = lambda v: _broadcastable(v.shape, shape)  # noqa: E731
    if kind == "const":
        mshape = b.broadcast_shape(shape)
        n = int(np.prod(mshape, dtype=int))
        return ("const", np.array(b.draw(st.lists(st.booleans(), min_size=n, max_size=n),
                                         "mask"), dtype=bool).reshape(mshape))
    if kind in COMPARE or kind == "cmp":
        name = kind if kind in COMPARE else b.choice(COMPARE, "compare")
        i = b.node(fits, "compared")
        if name in ("equal", "not_equal") and b.flag("with itself"):
            rhs = ("n", i)
        else:
            rhs = ("s", _scalar_far_from(b, b.vals[i]))
        return ("cmp", name, ("n", i), rhs, b.choice(["cr", "op"], "cmp style"))
    name = kind if kind in LOGICAL else b.choice(LOGICAL, "logical")
    if name in ("isfinite", "isnan"):
        return (name, ("n", b.node(fits, "tested")))
    if name == "logical_not":
        return (name, b_cond(b, shape, "cmp"))
    return (name, b_cond(b, shape, "cmp"), b_cond(b, shape, "cmp"))


def b_where(b, force=None):
    i = b.node(label="x")
    y = b.partner(i, label="y")
    shape = np.broadcast_shapes(b.vals[i].shape, np.shape(Chainrule.arg(y, b.vals)))
    cond = b_cond(b, shape, force)
    refs = [("n", i), y]
    if b.flag("swap"):
        refs.reverse()
    return b.emit("where", refs, cond=cond, style=b.choice(["cr", "np"], "style"))


def b_sign(b):
    x = b.node(label="x")
    a = b.shifted(b.node(lambda v: _broadcastable(v.shape, b.vals[x].shape), "sign of"),
                  [0.0])
    return b.emit("sign", [("n", x), ("n", a)])


def b_clip(b):
    i = b.node()
    v = b.vals[i]
    kind = b.choice(["lo", "hi", "both", "node bound"], "clip")
    cands = [s for s in SHIFTS if _far(v, [s])]
    lo = hi = None
    refs = [("n", i)]
    if kind == "node bound":
        j = b.node(lambda u: _broadcastable(u.shape, v.shape), "bound")
        j = b.shifted(j, None, other=i)
        refs.append(("n", j))
        lo, hi = ("node", None) if b.flag("bound is lower") else (None, "node")
    else:
        a = b.choice(cands[:30], "bound")
        c = b.choice(cands[:30], "bound 2")
        if kind == "lo":
            lo = a
        elif kind == "hi":
            hi = a
        else:
            lo, hi = min(a, c), max(a, c)
    return b.emit("clip", refs, lo=lo, hi=hi, style=b.choice(["cr", "np", "method"], "style"))


def b_reduce(b, fn):
    i = b.node()
    nd = b.vals[i].ndim
    if fn in ("max", "min"):
        i = b.distinct(i)
    if fn == "logsumexp" and np.max(np.abs(b.vals[i]), initial=0.0) > 30:
        i = b.small(i)
    axis = b.axis_arg(nd)
    return b.emit("reduce", [("n", i)], fn=fn, axis=axis, keepdims=b.flag("keepdims"),
                  style=b.choice(["cr", "np", "method"], "style"))


def b_softmax(b, fn):
    i = b.node()
    nd = b.vals[i].ndim
    axis = b.draw(st.integers(-max(nd, 1), max(nd, 1) - 1), "axis") if nd else -1
    return b.emit("softmax", [("n", i)], fn=fn, axis=axis)


def b_matmul(b, fn):
    ok = (lambda v: 1 <= v.ndim <= 2) if fn == "dot" else (lambda v: v.ndim >= 1)
    i = b.node(ok)
    if i is None:
        i = b.emit("reshape", [("n", b.node())], shape=(-1,), style="cr")
    a = b.vals[i].shape
    if fn == "dot" and b.flag("0-d operand"):
        j = b.node(lambda v: v.ndim == 0, "scalar operand")
        other = ("n", j) if j is not None else ("c", b.const(()))
    else:
        k = a[-1]
        m = b.draw(st.integers(1, 3), "m")
        kind = b.choice(["vector", "matrix", "batch"] if fn == "matmul" else
                        ["vector", "matrix"], "right operand")
        need = {"vector": (k,), "matrix": (k, m), "batch": (2, k, m)}[kind]
        j = b.node(lambda v: v.shape == need, "right")
        other = ("n", b.small(j)) if j is not None else ("c", b.const(need))
    i = b.small(i)
    refs = [("n", i), other]
    if b.flag("swap") and other[0] == "n" and fn == "dot" and b.vals[other[1]].ndim == 0:
        refs.reverse()
    return b.emit("matmul", refs, fn=fn, style=b.choice(["cr", "op", "np"], "style"))


def _factor_shapes(n):
    shapes = [(n,), (1, n), (n, 1), (-1,)]
    for a in range(2, n):
        if n % a == 0:
            shapes += [(a, n // a), (a, -1), (1, a, n // a)]
    return shapes


def b_reshape(b):
    i = b.node()
    v = b.vals[i]
    shapes = _factor_shapes(v.size) + ([()] if v.size == 1 else [])
    return b.emit("reshape", [("n", i)], shape=b.choice(shapes, "shape"),
                  style=b.choice(["cr", "np", "method"], "style"))


def b_transpose(b):
    i = b.node()
    nd = b.vals[i].ndim
    axes = None if b.flag("reverse") else tuple(b.draw(st.permutations(range(nd)), "axes"))
    return b.emit("transpose", [("n", i)], axes=axes, style=b.choice(["cr", "np", "T"], "style"))


def b_expand_dims(b):
    i = b.node()
    nd = b.vals[i].ndim
    if b.flag("two axes"):
        axis = tuple(b.draw(st.lists(st.integers(-(nd + 2), nd + 1), min_size=2, max_size=2,
                                     unique_by=lambda a: a % (nd + 2)), "axes"))
    else:
        axis = b.draw(st.integers(-(nd + 1), nd), "axis")
    return b.emit("expand_dims", [("n", i)], axis=axis)


def b_squeeze(b):
    i = b.node(lambda v: 1 in v.shape, "with a size-1 axis")
    if i is None:
        i = b.emit("expand_dims", [("n", b.node())], axis=0)
    ones = [k for k, s in enumerate(b.vals[i].shape) if s == 1]
    kind = b.choice(["none", "one", "all"], "squeeze")
    axis = None if kind == "none" else (b.choice(ones, "axis") if kind == "one"
                                        else tuple(ones))
    return b.emit("squeeze", [("n", i)], axis=axis, style=b.choice(["cr", "np"], "style"))


def b_broadcast_to(b):
    i = b.node(lambda v: v.size * 2 <= MAX_SIZE)
    if i is None:
        i = b.emit("reduce", [("n", b.node())], fn="sum", axis=None, keepdims=False,
                   style="cr")
    shape = b.vals[i].shape
    target = tuple(b.choice([1, 2, 3], "stretch") if s == 1 else s for s in shape)
    if b.flag("prepend"):
        target = (b.choice([1, 2], "new axis"),) + target
    return b.emit("broadcast_to", [("n", i)], shape=target)


def b_join(b, fn):
    i = b.node(lambda v: v.ndim >= 1 or fn == "stack")
    if i is None:
        i = b.emit("reshape", [("n", b.node())], shape=(-1,), style="cr")
    v = b.vals[i]
    nd = v.ndim
    if fn == "stack":
        axis = b.draw(st.integers(-(nd + 1), nd), "axis")
        same = [j for j, u in enumerate(b.vals) if u.shape == v.shape]
    else:
        axis = b.draw(st.integers(-nd, nd - 1), "axis")
        ax = axis % nd

        def fits(u):
            return (u.ndim == nd and u.shape[:ax] == v.shape[:ax]
                    and u.shape[ax + 1:] == v.shape[ax + 1:])
        same = [j for j, u in enumerate(b.vals) if fits(u)]
    parts = b.draw(st.lists(st.sampled_from(same), min_size=1, max_size=3), "parts")
    refs = [("n", i)] + [("n", j) for j in parts]
    if b.flag("a constant part"):
        refs.insert(b.draw(st.integers(0, len(refs)), "at"), ("c", b.const(v.shape)))
    return b.emit(fn, refs, axis=axis, style=b.choice(["cr", "np"], "style"))


def draw_index(b, shape):
    """A NumPy index for an array of ``shape``: basic, advanced or mixed."""
    nd = len(shape)
    kind = b.choice(["basic", "int array", "mask", "two arrays", "scalar"] if nd else
                    ["empty tuple", "ellipsis", "newaxis"], "index kind")
    if kind == "empty tuple":
        return ()
    if kind == "ellipsis":
        return (Ellipsis,)
    if kind == "newaxis":
        return (None,)
    if kind == "scalar":
        return tuple(b.draw(st.integers(-s, s - 1), "i") for s in shape)
    if kind == "mask":
        full = b.flag("full mask")
        mshape = shape if full else shape[:1]
        n = int(np.prod(mshape, dtype=int))
        mask = np.array(b.draw(st.lists(st.booleans(), min_size=n, max_size=n), "mask"),
                        dtype=bool).reshape(mshape)
        return (mask,)
    if kind in ("int array", "two arrays"):
        ax = b.draw(st.integers(0, nd - 1), "axis")
        n = b.draw(st.integers(1, 4), "length")
        arr = np.array(b.draw(st.lists(st.integers(-shape[ax], shape[ax] - 1), min_size=n,
                                       max_size=n), "indices"))
        idx = [slice(None)] * ax + [arr]
        if kind == "two arrays" and nd >= 2:
            ax2 = (ax + 1) % nd
            arr2 = np.array(b.draw(st.lists(st.integers(-shape[ax2], shape[ax2] - 1),
                                            min_size=n, max_size=n), "indices 2"))
            idx = [slice(None)] * nd
            idx[ax], idx[ax2] = arr, arr2
        return tuple(idx)
    idx = []
    for s in shape:
        k = b.choice(["slice", "int", "all", "none"], "part")
        if k == "int":
            idx.append(b.draw(st.integers(-s, s - 1), "i"))
        elif k == "slice":
            step = b.choice([1, 2, -1, -2], "step")
            start = b.draw(st.one_of(st.none(), st.integers(-s, s)), "start")
            stop = b.draw(st.one_of(st.none(), st.integers(-s - 1, s)), "stop")
            idx.append(slice(start, stop, step))
        elif k == "none":
            idx += [None, slice(None)]
        else:
            idx.append(slice(None))
    if idx and b.flag("ellipsis"):
        idx = [Ellipsis] + idx[b.draw(st.integers(1, len(idx)), "after"):]
    return tuple(idx)


def b_getitem(b):
    i = b.node()
    idx = draw_index(b, b.vals[i].shape)
    return b.emit("getitem", [("n", i)], idx=idx,
                  style=b.choice(["op", "cr", "tensor index"], "style"))


def b_index_add(b):
    """index_add(g, idx, shape): g lands in a zero array of ``shape`` at ``idx``."""
    i = b.node()
    g = b.vals[i].shape
    if not g:
        k = b.draw(st.integers(1, 4), "size")
        return b.emit("index_add", [("n", i)], idx=(b.draw(st.integers(-k, k - 1), "i"),),
                      shape=(k,))
    ax = b.draw(st.integers(0, len(g) - 1), "axis")
    k = b.draw(st.integers(1, 4), "target size")
    shape = g[:ax] + (k,) + g[ax + 1:]
    if b.flag("slice") and k >= g[ax]:
        start = b.draw(st.integers(0, k - g[ax]), "start")
        idx = (slice(None),) * ax + (slice(start, start + g[ax]),)
    else:
        idx = (slice(None),) * ax + (np.array(b.draw(st.lists(
            st.integers(-k, k - 1), min_size=g[ax], max_size=g[ax]), "targets")),)
    return b.emit("index_add", [("n", i)], idx=idx, shape=shape)


BUILDERS = {}
for _f in UNARY:
    BUILDERS[_f] = lambda b, _f=_f: b_unary(b, _f)
for _f in BINARY:
    BUILDERS[_f] = lambda b, _f=_f: b_binary(b, _f)
for _f in ("maximum", "minimum"):
    BUILDERS[_f] = lambda b, _f=_f: b_maximum(b, _f)
for _f in REDUCE:
    BUILDERS[_f] = lambda b, _f=_f: b_reduce(b, _f)
for _f in ("softmax", "log_softmax"):
    BUILDERS[_f] = lambda b, _f=_f: b_softmax(b, _f)
for _f in ("matmul", "dot"):
    BUILDERS[_f] = lambda b, _f=_f: b_matmul(b, _f)
for _f in ("concatenate", "stack"):
    BUILDERS[_f] = lambda b, _f=_f: b_join(b, _f)
for _f in COMPARE + LOGICAL:
    BUILDERS[_f] = lambda b, _f=_f: b_where(b, _f)
BUILDERS.update(where=b_where, sign=b_sign, clip=b_clip, reshape=b_reshape,
                transpose=b_transpose, expand_dims=b_expand_dims, squeeze=b_squeeze,
                broadcast_to=b_broadcast_to, getitem=b_getitem, index_add=b_index_add)
OPS = sorted(BUILDERS)


def shapes():
    dims = st.lists(st.integers(1, 4), min_size=0, max_size=3).filter(
        lambda d: int(np.prod(d, dtype=int)) <= 24)
    return dims.map(tuple)


def arrays(shape):
    n = int(np.prod(shape, dtype=int))
    return st.lists(st.floats(-3, 3, allow_nan=False, allow_subnormal=False), min_size=n,
                    max_size=n).map(lambda xs: np.array(xs, dtype=np.float64).reshape(shape))


def draw_program(data, forced):
    k = data.draw(st.integers(1, 3), "number of inputs")
    inputs = [data.draw(shapes().flatmap(arrays), f"input {j}") for j in range(k)]
    b = Builder(data, inputs)
    before = data.draw(st.integers(0, 2), "steps before")
    after = data.draw(st.integers(0, 3), "steps after")
    forced_at = None
    for phase in ("before", "forced", "after"):
        count = {"before": before, "forced": 1, "after": after}[phase]
        for _ in range(count):
            name = forced if phase == "forced" else b.choice(OPS, "op")
            for attempt in range(4):
                n_before = len(b.steps)
                i = BUILDERS[name](b)
                if i is not None:
                    break
                del b.steps[n_before:]  # a failed attempt leaves no partial steps
                del b.vals[len(b.inputs) + n_before:]
            else:
                if phase == "forced":
                    reject()
            if phase == "forced":
                forced_at = i
    n_nodes = len(b.vals)
    # the output: the forced op's value, the last value and up to two drawn ones
    outs = data.draw(st.lists(st.integers(0, n_nodes - 1), min_size=0, max_size=2),
                     "outputs")
    outs = sorted(set(outs + [forced_at, n_nodes - 1]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), "cotangent seed"))
    return Program(inputs, b.steps, [(i, rng.standard_normal(b.vals[i].shape)) for i in outs])


# ----- checks -----------------------------------------------------------------------------
def _close(actual, expected, rtol, what, prog):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected,
                                                                        dtype=np.float64)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} != {expected.shape}\nprogram:\n{prog!r}")
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale,
                               err_msg=f"{what}\nprogram:\n{prog!r}")


def _grads(prog):
    nums = tuple(range(len(prog.inputs)))

    def F(*xs):
        return output(prog, replay(prog, xs, CR), CR)
    return F, cr.value_and_grad(F, argnums=nums)(*[x.copy() for x in prog.inputs])


def test_every_op_is_fuzzed():
    assert set(OPS) == set(cr.ops.__all__), (
        "a new operation needs a builder in tests/test_fuzz.py: "
        f"missing {set(cr.ops.__all__) - set(OPS)}, unknown {set(OPS) - set(cr.ops.__all__)}")


@pytest.mark.parametrize("op", OPS)
@FUZZ
@given(data=st.data())
def test_program_matches_torch(op, data):
    torch = pytest.importorskip("torch")
    prog = draw_program(data, op)
    TO = Torch(torch)
    # values: every node, chainrule (recorded) against torch
    leaves = [cr.tensor(x, requires_grad=True) for x in prog.inputs]
    tleaves = [torch.tensor(x, requires_grad=True) for x in prog.inputs]
    pool = replay(prog, leaves, CR)
    tpool = replay(prog, tleaves, TO)
    for k, (v, tv) in enumerate(zip(pool, tpool)):
        assert np.asarray(v).dtype == np.float64, f"v{k} dtype\nprogram:\n{prog!r}"
        _close(np.asarray(v), tv.detach().numpy(), 1e-10, f"value of v{k}", prog)
    out = output(prog, pool, CR)
    tout = output(prog, tpool, TO)
    _close(out.value, tout.detach().numpy(), 1e-10, "output", prog)
    tout.backward()
    _, (value, grads) = _grads(prog)
    for j, (g, tl) in enumerate(zip(grads, tleaves)):
        tg = tl.grad.numpy() if tl.grad is not None else np.zeros_like(prog.inputs[j])
        _close(g, tg, 1e-9, f"gradient of input {j}", prog)


@pytest.mark.parametrize("op", OPS)
@FUZZ
@given(data=st.data())
def test_program_matches_finite_differences(op, data):
    prog = draw_program(data, op)
    F, (value, grads) = _grads(prog)
    for j, g in enumerate(grads):
        assert g.dtype == np.float64 and g.shape == prog.inputs[j].shape
        _close(g, numeric_grad(F, prog.inputs, j), 1e-5, f"gradient of input {j} vs "
               f"central differences", prog)
    # object style: same gradients through .backward()
    leaves = [cr.tensor(x, requires_grad=True) for x in prog.inputs]
    out = F(*leaves)
    if out.requires_grad:
        out.backward()
    for j, (g, leaf) in enumerate(zip(grads, leaves)):
        got = leaf.grad if leaf.grad is not None else np.zeros_like(g)
        _close(got, g, 1e-12, f".backward() gradient of input {j} vs cr.grad", prog)
    # forward mode: J t == <grad, t>
    rng = np.random.default_rng(len(prog.steps))
    tangents = [rng.standard_normal(x.shape) for x in prog.inputs]
    v, t = cr.jvp(F, tuple(x.copy() for x in prog.inputs), tuple(tangents))
    _close(v, value, 1e-12, "jvp value", prog)
    _close(t, sum(float(np.sum(g * tt)) for g, tt in zip(grads, tangents)), 1e-9,
           "jvp tangent vs gradient", prog)
