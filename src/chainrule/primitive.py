"""Primitive operations: a NumPy forward function plus its derivative rules.

Every operation of chainrule is a ``Primitive``: the local function f^i of the
notes (``fun``, plain NumPy), one vector-Jacobian product rule per positional
input (``vjps[k](g, ans, *args, **kw)`` returns p_i J^{k->i}, ``None`` means
"no gradient through this input") and one Jacobian-vector product rule per
input for forward mode (``jvps[k](t, ans, *args, **kw)``). Rules are written
with chainrule's own operations, so when the backward pass is recorded
(higher-order derivatives) they are differentiated like any other program.

Calling a primitive on plain values just runs NumPy; calling it on a Tensor
records a new vertex (``Primitive.__call__``).
"""
import inspect
import re

import numpy as np

from . import anomaly
from .errors import RuleError, ShapeError
from .state import hooks, state
from .tensor import Tensor

class Primitive:
    """An operation with its own derivative rules.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> @cr.primitive
        ... def cube(x):
        ...     return x ** 3
        >>> cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
        <primitive cube>
        >>> float(cr.grad(cube)(2.0))
        12.0
    """

    def __init__(self, fun, name=None, broadcasts=False):
        self.fun = fun
        self.name = name or getattr(fun, "__name__", "primitive")
        self.vjps = None
        self.jvps = None
        # Elementwise ops broadcast their inputs; their rules may then return
        # an output-shaped cotangent that the engine sums back (one helper).
        self.broadcasts = broadcasts
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__wrapped__ = fun

    def defvjp(self, *rules):
        """Register the VJP rule of each positional input, in order (None: no gradient)."""
        self.vjps = self._checked("defvjp", rules)
        return self

    def defjvp(self, *rules):
        """Register the JVP (forward-mode) rule of each positional input, in order."""
        self.jvps = self._checked("defjvp", rules)
        return self

    def _checked(self, method, rules):
        for k, r in enumerate(rules):
            if r is not None and not callable(r):
                raise RuleError(f"{self.name}.{method}: rule for input {k} must be callable "
                                f"or None, got {type(r).__name__}")
        n = _positional_count(self.fun)
        if n is not None and len(rules) > n:
            raise RuleError(
                f"{self.name}.{method}: {len(rules)} rules given, but {self.name} takes "
                f"{n} positional input(s); give one rule per positional input, in order "
                f"(None for an input without a gradient)")
        return rules

    def __call__(self, *args, **kw):
        """Run the op; on Tensor inputs, record the result as a new vertex.

        This is the hot path of recording, kept flat on purpose.
        """
        vals = None
        track = fwd = record = False
        k = 0
        for a in args:
            if type(a) is Tensor:
                if vals is None:
                    vals = list(args)
                vals[k] = a.value
                if a.requires_grad:
                    track = True
                elif a.op is not None:
                    record = True  # recorded without a gradient (a mask, a jit input)
                if a.tangent is not None:
                    fwd = True
            k += 1
        try:
            # an empty **kw still costs a dict unpacking per call: skip it
            if vals is None:
                return self.fun(*args, **kw) if kw else self.fun(*args)
            ans = self.fun(*vals, **kw) if kw else self.fun(*vals)
        except ValueError as e:
            raise operand_error(self, args, e) from e
        if type(ans) is not np.ndarray:
            ans = np.asarray(ans)
        out = _new(Tensor)
        out.value = ans
        out.tangent = None
        if track or record:
            out.op = self
            out.args = args
            out.kw = kw or None
            out.requires_grad = track
            tape = state.tape
            if tape is not None:
                tape.append(out)
            elif track:
                # No transform running: the graph lives on until .backward(), so
                # NumPy arrays among the inputs are copied (the caller may change
                # them in place first). A transform differentiates before it returns.
                out.args, out.kw = _owned(args, kw)
        else:
            out.op = out.args = out.kw = None
            out.requires_grad = False
        if fwd and state.cap:
            out.tangent = push_tangents(self, out, args, vals, kw, track)
        if hooks.active:
            _debug_hooks(out, self, args)
        return out

    def __repr__(self):
        return f"<primitive {self.name}>"


class ConstantPrimitive(Primitive):
    """An operation with no derivative: comparisons, sign, masks.

    Its result never requires a gradient, but when an input is part of a
    recorded program the result is recorded too (as a vertex without
    gradient), so that a replay (``cr.jit``) recomputes it from new inputs
    instead of reusing a mask computed at trace time.
    """

    def __init__(self, fun, name=None):
        super().__init__(fun, name)
        self.vjps = self.jvps = Each(lambda k: None)

    def __call__(self, *args, **kw):
        recorded = False
        for a in args:
            if type(a) is Tensor and (a.requires_grad or a.op is not None):
                recorded = True
                break
        vals = [a.value if type(a) is Tensor else a for a in args]
        try:
            ans = self.fun(*vals, **kw)
        except ValueError as e:
            raise operand_error(self, args, e) from e
        if not recorded:
            return ans
        out = Tensor(np.asarray(ans))
        out.op, out.args, out.kw = self, args, kw or None
        if state.tape is not None:
            state.tape.append(out)
        return out


def primitive(fun=None, *, name=None, broadcasts=False):
    """Decorator: turn a NumPy function into a primitive; add rules with ``defvjp``/``defjvp``."""
    if fun is None:
        return lambda f: Primitive(f, name, broadcasts)
    return Primitive(fun, name, broadcasts)


class Each:
    """Rules of a variadic op (concatenate, stack): ``Each(f)[k]`` is ``f(k)``, for any k."""

    __slots__ = ("factory",)
    variadic = True

    def __init__(self, factory):
        self.factory = factory

    def __getitem__(self, k):
        return self.factory(k)


def rule_of(rules, k):
    """(declared, rule) for input k: declared is False when no rule list covers input k.

    ``rule`` None with ``declared`` True means "no derivative through input k".
    """
    if rules is None:
        return False, None
    if type(rules) is tuple:  # the common case first: defvjp/defjvp store a tuple
        return (True, rules[k]) if k < len(rules) else (False, None)
    if getattr(rules, "variadic", False):
        return True, rules[k]
    return (True, rules[k]) if k < len(rules) else (False, None)


def push_tangents(op, out, args, vals, kw, track):
    """The tangents of a new vertex (forward mode): None until forward.py plugs in."""
    raise RuntimeError("forward mode is not loaded (import chainrule)")


def set_forward(fn):
    """Forward mode (forward.py) plugs its tangent rule into recording here.

    It needs the operations (to broadcast a tangent, to derive a missing
    rule), which are built on this module, so it cannot be imported here.
    """
    global push_tangents
    push_tangents = fn


_new = object.__new__


def _owned(args, kw):
    """(args, kw or None) with every NumPy array among them replaced by a copy."""
    for a in args:
        if type(a) is np.ndarray:
            args = tuple([a.copy() if type(a) is np.ndarray else a for a in args])
            break
    if kw:
        for a in kw.values():
            if type(a) is np.ndarray:
                kw = {k: a.copy() if type(a) is np.ndarray else a for k, a in kw.items()}
                break
    return args, kw or None


def _debug_hooks(out, op, args):
    if state.record_where:
        out.where = anomaly.user_frame()
    if state.anomaly:
        anomaly.check_forward(out, op, args)


def _positional_count(fun):
    """How many positional parameters ``fun`` takes (None: any number, or not inspectable)."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    n = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n


def _describe(a):
    if type(a) is Tensor or isinstance(a, np.ndarray):
        v = a.value if type(a) is Tensor else a
        return f"array of shape {np.shape(v)} ({v.dtype})"
    return repr(a)


# NumPy's messages for operands whose shapes do not fit together.
_SHAPE_WORDS = re.compile(r"broadcast|shape|dimension|size|mismatch|align", re.I)


def operand_error(op, args, err):
    """The error to raise when op's forward function raised ``err`` on ``args``.

    A genuine shape mismatch becomes a ShapeError naming the op and its operands;
    any other ValueError keeps its type, with the op and operands named.
    """
    described = ", ".join(_describe(a) for a in args)
    if _SHAPE_WORDS.search(str(err)):
        return ShapeError(f"{op.name}: cannot apply to ({described}): {err}")
    return type(err)(f"{op.name}({described}): {err}")
