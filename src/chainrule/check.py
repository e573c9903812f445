"""gradcheck: compare chainrule's derivatives with finite differences, and when they
disagree, name the vertex whose rule is wrong.

Other libraries stop at "Jacobian mismatch". Here a mismatch starts a search:
f is traced once (the tape is the notes' graph, vertices in creation order),
and each vertex's local rules are checked against central differences of that
vertex's own forward function (``op.fun``) at the values it saw. The first
vertex (in creation order) whose rule disagrees is the root cause: every later
error may be inherited from it. ``GradcheckError`` names it: index, op, which
input, which rule (VJP or JVP), the largest error, both local Jacobians, and
the line of user code that created it.

Example:
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.check import gradcheck
    >>> gradcheck(lambda x: cr.tanh(x) * x, np.array([0.5, -1.0]))
    True
"""
import warnings

import numpy as np

from .anomaly import debug_hooks
from .backward import fit_cotangent
from .errors import GradcheckError, MissingRuleError, RuleError
from .forward import derived_jvp
from .primitive import rule_of
from .pytree import flatten, is_leaf, unflatten
from .tensor import Tensor, value as _value
from .tracing import Transform, leaf
from .transforms import jvp, vjp

_RNG_SEED = 0  # the random cotangents/tangents of order 2 are the same on every run


def gradcheck(f, *args, eps=1e-6, atol=1e-5, rtol=1e-3, order=1):
    """Check f's derivatives at ``args`` against central finite differences (float64).

    First order compares the full Jacobian from reverse mode (``vjp``) and from
    forward mode (``jvp``) with finite differences. ``order=2`` then checks
    second derivatives: the Jacobian of a random vector-Jacobian product
    x -> u^T J(x), from reverse over reverse and forward over reverse, and of
    a random Jacobian-vector product, from reverse over forward. That tests
    that every rule is itself differentiated correctly.

    Args:
        f: a function of ``args`` returning an array, a float, or a pytree of them.
        *args: the point: arrays, floats, or pytrees (dict/list/tuple) of them.
            Floating-point entries are differentiated, in float64 (float32
            entries are converted, with a warning); integer and boolean entries
            (labels, indices) are held fixed.
        eps: the finite-difference step.
        atol, rtol: an entry passes when |analytic - numerical| <= atol + rtol * |numerical|.
        order: 1 or 2.

    Returns:
        True when every derivative agrees.

    Raises:
        GradcheckError: naming the first vertex whose local rule disagrees with
            finite differences of its own function: ``err.vertex`` (1-based
            index in creation order, leaves first), ``err.op``, ``err.input``,
            ``err.rule`` ('VJP' or 'JVP'), ``err.order``, ``err.where`` (the
            user code line), ``err.max_error``, ``err.analytic`` and
            ``err.numerical`` (the two local Jacobians, d_out x d_in). When
            every local rule agrees, the message says so and lists the usual
            causes instead (``err.vertex`` is None).
        RuleError: a rule returned a non-array or a wrong shape; the message
            then also names the vertex and its line.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.check import gradcheck
        >>> @cr.primitive
        ... def cube(x):
        ...     return x ** 3
        >>> _ = cube.defvjp(lambda g, ans, x: g * 3 * x)   # wrong: should be 3 x**2
        >>> try:
        ...     gradcheck(lambda x: cr.sum(cube(cr.sin(x))), np.array([0.3, 0.7]))
        ... except cr.GradcheckError as e:
        ...     print(e.vertex, e.op, e.input, e.rule)
        3 cube 0 VJP
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    point = _Point(f, args)
    check = _Checker(eps, atol, rtol)
    tape = _trace(point, point.x)
    missing = _missing_jvp(tape)
    if missing is not None:
        warnings.warn(f"gradcheck: primitive '{missing}' has no JVP rule, so forward mode is "
                      f"not checked (add one with {missing}.defjvp(...))", stacklevel=2)
    forward = missing is None

    try:
        found = check.function(point, point.x, forward)
    except RuleError:
        check.vertices(tape, forward, order=1)  # re-raises it naming the vertex
        raise
    if found is not None:
        check.vertices(tape, forward, order=1)
        raise check.unexplained(found, point, order=1)
    if order == 2:
        for what, fun in _second_order_functions(point, forward):
            fwd = forward and what == "vjp"  # forward over reverse
            try:
                found = check.function(fun, point.x, fwd)
            except RuleError as e:
                if not (fwd and isinstance(e, MissingRuleError)):
                    check.vertices(tape, forward, order=2)
                    raise
                # a rule is written with an op that has no JVP rule: reverse mode only
                warnings.warn(f"gradcheck: forward over reverse not checked: {e}", stacklevel=2)
                forward = False
                found = check.function(fun, point.x, False)
            if found is not None:
                check.vertices(tape, forward, order=2)
                raise check.unexplained(found, point, order=2, what=what)
    return True


# ----- f as a function of its floating-point entries ---------------------------------------
class _Point:
    """f at ``args``, seen as a function of the floating-point leaves of args only."""

    def __init__(self, f, args):
        self.f = f
        self.trees = []
        self.slots = []   # (argument, leaf) of each variable
        self.x = []       # the variables' values, float64
        for i, a in enumerate(args):
            leaves, tdef = flatten(a)
            leaves = [l.value if type(l) is Tensor else l for l in leaves]
            self.trees.append((leaves, tdef))
            for j, leaf in enumerate(leaves):
                v = np.asarray(leaf)
                if v.dtype.kind != "f":
                    continue  # integers, booleans: held fixed
                if v.dtype != np.float64:
                    warnings.warn(
                        f"gradcheck: {_arg_name(tdef, i, j)} has dtype {v.dtype}; "
                        f"finite differences need float64, so it is checked in float64",
                        stacklevel=3)
                self.slots.append((i, j))
                self.x.append(np.array(v, dtype=np.float64))
        if not self.x:
            raise ValueError("gradcheck: no floating-point argument to differentiate")

    def name(self, n):
        """'argument 1' or 'argument 1, leaf 2' for variable n."""
        i, j = self.slots[n]
        return _arg_name(self.trees[i][1], i, j)

    def __call__(self, *xs):
        args = [list(leaves) for leaves, _ in self.trees]
        for (i, j), x in zip(self.slots, xs):
            args[i][j] = x
        return self.f(*[unflatten(tdef, a) for a, (_, tdef) in zip(args, self.trees)])


def _arg_name(tdef, i, j):
    return f"argument {i}" + ("" if is_leaf(tdef) else f", leaf {j}")


def _trace(fun, xs):
    """Run fun on fresh leaves, recording every vertex and the user line that made it."""
    with debug_hooks(), Transform() as tr:
        fun(*[leaf(x) for x in xs])
        return list(tr.vertices())


def _inputs(v):
    """Positions of v's inputs that carry a gradient."""
    return [k for k, a in enumerate(v.args) if type(a) is Tensor and a.requires_grad]


def _missing_jvp(tape):
    """The name of a primitive on the tape with no forward rule for an input it needs, or None.

    A missing JVP rule is derived from the VJP rule (forward.py), so forward mode
    is missing only where both are.
    """
    for v in tape:
        if v.op is None or not v.requires_grad:
            continue
        for k in _inputs(v):
            if not (rule_of(v.op.jvps, k)[0] or rule_of(v.op.vjps, k)[0]):
                return v.op.name
    return None


def _second_order_functions(point, forward):
    """x -> u^T J(x) (checked by reverse over reverse and forward over reverse) and,
    when forward mode is available, x -> J(x) t (checked by reverse over forward)."""
    rng = np.random.default_rng(_RNG_SEED)
    leaves, tdef = flatten(point(*point.x))
    u = unflatten(tdef, [rng.standard_normal(np.shape(_value(l))) for l in leaves])
    t = [rng.standard_normal(x.shape) for x in point.x]

    def vjp_of_f(*xs):
        return vjp(point, *xs)[1](u)

    def jvp_of_f(*xs):
        return jvp(point, xs, t)[1]
    yield "vjp", vjp_of_f
    if forward:
        yield "jvp", jvp_of_f


# ----- Jacobians three ways ------------------------------------------------------------------
def _flat(out):
    """A pytree of results as one float64 vector."""
    leaves, _ = flatten(out)
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(_value(l), dtype=np.float64)) for l in leaves])


def _numerical(fun, xs, eps):
    """Central differences, one column per input entry: (d_out, d_in)."""
    cols = []
    for i, x in enumerate(xs):
        for j in range(x.size):
            step = np.zeros(x.size)
            step[j] = eps
            step = step.reshape(x.shape)
            plus, minus = list(xs), list(xs)
            plus[i], minus[i] = x + step, x - step
            cols.append((_flat(fun(*plus)) - _flat(fun(*minus))) / (2 * eps))
    return np.stack(cols, 1)


def _reverse(fun, xs, n_out):
    """One vector-Jacobian product per output entry: (d_out, d_in)."""
    out, pull = vjp(fun, *xs)
    leaves, tdef = flatten(out)
    shapes = [np.shape(_value(l)) for l in leaves]
    rows = []
    for r in range(n_out):
        e = np.zeros(n_out)
        e[r] = 1.0
        cts, start = [], 0
        for s in shapes:
            size = int(np.prod(s))
            cts.append(e[start:start + size].reshape(s))
            start += size
        rows.append(_flat(pull(unflatten(tdef, cts))))
    return np.array(rows).reshape(n_out, sum(x.size for x in xs))


def _forward(fun, xs):
    """One Jacobian-vector product per input entry: (d_out, d_in)."""
    cols = []
    for i, x in enumerate(xs):
        for j in range(x.size):
            ts = [np.zeros_like(a) for a in xs]
            ts[i].reshape(-1)[j] = 1.0
            cols.append(_flat(jvp(fun, xs, ts)[1]))
    return np.stack(cols, 1)


class _Mismatch:
    """Where an analytic Jacobian A disagrees most with the numerical one N."""

    def __init__(self, mode, A, N, index, error):
        self.mode, self.A, self.N, self.index, self.error = mode, A, N, index, error


class _Checker:
    def __init__(self, eps, atol, rtol):
        self.eps, self.atol, self.rtol = eps, atol, rtol

    def worst(self, mode, A, N):
        """A _Mismatch at the worst entry of A against N, or None when all entries pass."""
        if A.size == 0:
            return None
        err = np.abs(A - N)
        excess = err - (self.atol + self.rtol * np.abs(N))
        excess = np.where(np.isnan(excess), np.inf, excess)
        idx = np.unravel_index(np.argmax(excess), A.shape)
        if excess[idx] <= 0:
            return None
        return _Mismatch(mode, A, N, idx, float(err[idx]) if np.isfinite(err[idx]) else np.nan)

    def function(self, fun, xs, forward):
        """Compare reverse (and forward) mode with finite differences; the first mismatch."""
        N = _numerical(fun, xs, self.eps)
        found = self.worst("reverse mode", _reverse(fun, xs, N.shape[0]), N)
        if found is None and forward:
            found = self.worst("forward mode", _forward(fun, xs), N)
        return found

    # ----- the search for the faulty vertex --------------------------------------------
    def vertices(self, tape, forward, order):
        """Check each vertex's local rules in creation order; raise at the first faulty one.

        A RuleError (a rule returning a non-array or a wrong shape) is
        re-raised with the vertex and its line added.
        """
        rng = np.random.default_rng(_RNG_SEED)
        for n, v in enumerate(tape, 1):
            if v.op is None or not v.requires_grad:
                continue  # a leaf, or a vertex no gradient flows through (a mask)
            ks = _inputs(v)
            if not ks:
                continue
            xs = [np.asarray(v.args[k].value, dtype=np.float64) for k in ks]
            try:
                for rule, k, fun, fwd in self._local_functions(v, ks, forward, order, rng):
                    found = self.function(fun, xs, fwd)
                    if found is not None:
                        raise self.fault(n, len(tape), v, ks, xs, rule, k, found, order)
            except RuleError as e:
                raise type(e)(f"{e}\n  (vertex {n} '{v.op.name}', created at "
                              f"{v.where or 'an unknown line'})") from e
        return None

    def _local_functions(self, v, ks, forward, order, rng):
        """(rule, input, function of v's gradient-carrying inputs, check forward mode?)."""
        op, kw = v.op, v.kw or {}

        def call(ts):
            args = [_value(a) for a in v.args]
            for k, t in zip(ks, ts):
                args[k] = t
            return args

        if order == 1:
            # One function gives every input's local Jacobian (columns grouped by
            # input); fault() splits them. Reverse mode runs op's VJP rules,
            # forward mode its JVP rules, finite differences its own op.fun.
            yield "VJP/JVP", None, lambda *ts: op(*call(ts), **kw), forward
            return
        for k in ks:
            rule = op.vjps[k]
            if rule is None:
                continue
            u = rng.standard_normal(v.value.shape)
            shape = v.args[k].value.shape

            def vjp_k(*ts, rule=rule, u=u, k=k, shape=shape):
                args = call(ts)
                ga = rule(u, op(*args, **kw), *args, **kw)
                return fit_cotangent(ga, v.args[k], op, k)
            yield "VJP", k, vjp_k, forward
        if forward:
            for k in ks:
                declared, rule = rule_of(op.jvps, k)
                if declared and rule is None:
                    continue
                t = rng.standard_normal(v.args[k].value.shape)

                def jvp_k(*ts, rule=rule, t=t, k=k):
                    args = call(ts)
                    ans = op(*args, **kw)
                    if rule is None:  # derived from the VJP rule: checked like a written one
                        return derived_jvp(op, k, t, ans, args, kw, np.asarray(_value(ans)))
                    return rule(t, ans, *args, **kw)
                yield "JVP", k, jvp_k, False

    def fault(self, n, total, v, ks, xs, rule, k, found, order):
        """The GradcheckError for vertex n (v), input k, from mismatch ``found``."""
        # the columns of the worst entry's input: the local Jacobian d_out x d_in of that input
        offsets = np.cumsum([0] + [x.size for x in xs])
        r, c = found.index
        pos = int(np.searchsorted(offsets, c, side="right") - 1)
        A = found.A[:, offsets[pos]:offsets[pos + 1]]
        N = found.N[:, offsets[pos]:offsets[pos + 1]]
        c -= offsets[pos]
        in_shape = xs[pos].shape
        if k is None:
            k = ks[pos]
            rule = "VJP" if found.mode == "reverse mode" else "JVP"
            what = (f"its {rule} rule for input {k} disagrees with finite differences of "
                    f"the op's own function ({v.op.name}.fun) at the recorded inputs")
            out_shape, rows = v.value.shape, "output"
        else:
            what = (f"the derivative ({found.mode}) of its {rule} rule for input {k}, with "
                    f"respect to input {ks[pos]}, disagrees with finite differences of that "
                    f"rule. A rule that computes with plain values (.value, np.asarray, "
                    f"float()) is a constant to an outer derivative: write it with chainrule "
                    f"operations")
            out_shape = v.args[k].value.shape if rule == "VJP" else v.value.shape
            rows = f"{rule} rule result"
            if int(np.prod(out_shape)) != A.shape[0]:  # a broadcasting op's smaller result
                out_shape = (A.shape[0],)
        where = v.where
        lines = [
            f"gradcheck (order {order}): vertex {n} of {total}, op '{v.op.name}', is the "
            f"first whose local rule is wrong: {what}.",
            f"  created at {where}" if where is not None else "  created at: unknown line",
            f"  largest error {found.error:.3g} at {rows} entry {_entry(r, out_shape)}, "
            f"input entry {_entry(c, in_shape)}: rule gives {A[r, c]:.6g}, finite "
            f"differences give {N[r, c]:.6g} (eps={self.eps:g}, atol={self.atol:g}, "
            f"rtol={self.rtol:g})",
            f"  local Jacobian from the rule ({A.shape[0]} x {A.shape[1]}):",
            _show(A),
            "  local Jacobian from finite differences:",
            _show(N),
        ]
        err = GradcheckError("\n".join(lines))
        err.vertex, err.op, err.input, err.rule, err.order = n, v.op.name, k, rule, order
        err.where, err.max_error, err.analytic, err.numerical = where, found.error, A, N
        return err

    def unexplained(self, found, point, order, what=None):
        """The GradcheckError when f disagrees but every vertex's local rule agrees."""
        r, c = found.index
        offsets = np.cumsum([0] + [x.size for x in point.x])
        var = int(np.searchsorted(offsets, c, side="right") - 1)
        subject = {None: "f", "vjp": "x -> vjp(f, x)(u)", "jvp": "x -> jvp(f, x, t)"}[what]
        lines = [
            f"gradcheck (order {order}): the derivative of {subject} from {found.mode} "
            f"disagrees with finite differences: largest error {found.error:.3g} at result "
            f"entry {r}, {point.name(var)} entry "
            f"{_entry(c - offsets[var], point.x[var].shape)} ({found.A[r, c]:.6g} vs "
            f"{found.N[r, c]:.6g}; eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}).",
            "  Every vertex's local rule agrees with finite differences of its own function, "
            "so the cause is outside the rules. Usual causes: f computes part of its result "
            "with plain values (np.asarray(t), float(t), t.value, an np function without a "
            "chainrule rule), which hides that dependence; f is not differentiable at this "
            "point (relu, abs, max, clip at a kink); or eps is too large or too small for "
            "f's scale.",
            f"  Jacobian from {found.mode} ({found.A.shape[0]} x {found.A.shape[1]}):",
            _show(found.A),
            "  Jacobian from finite differences:",
            _show(found.N),
        ]
        err = GradcheckError("\n".join(lines))
        err.vertex = err.op = err.input = err.rule = err.where = None
        err.order, err.max_error, err.analytic, err.numerical = order, found.error, found.A, found.N
        return err


def _entry(flat_index, shape):
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape)))


def _show(J):
    """A Jacobian as indented text, summarised ('...') when large."""
    with np.printoptions(precision=5, threshold=64, edgeitems=3, linewidth=100):
        text = np.array2string(J)
    return "\n".join("    " + line for line in text.splitlines())
