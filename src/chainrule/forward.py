"""Forward mode: the tangent of each new vertex, u'_i = sum over parents k of J^{k->i} u'_k.

A ``jvp`` gives its leaves a tangent at its own *level* (``state.levels``;
an inner jvp has a higher level than an outer one), and every operation on
Tensors with tangents computes its output's tangents, level by level, with
the op's JVP rules. A Tensor's ``tangent`` is a dict {level: tangent}.

Nesting (jvp inside jvp, jacfwd of jacfwd) works because the rule for level
L runs with only the levels below L switched on (``state.cap = L - 1``): its
own operations carry the outer tangents, so the level-L tangent is itself a
function the outer levels differentiate, while level L never leaks into it
(no perturbation confusion: d/dx [x * d/dy (x + y)] = 1).

A primitive with a VJP rule and no JVP rule still works in forward mode: its
rule is derived (``derived_jvp``). A VJP rule u -> u J is linear in u, so
J t is the VJP of that map, with cotangent t: one small backward pass.
"""
import numpy as np

from .backward import backward_pass, fit_cotangent
from .errors import MissingRuleError, RuleError
from .ops.elementwise import real
from .ops.shape import broadcast_to
from .primitive import _new, rule_of, set_forward
from .state import state
from .tensor import Tensor
from .tracing import Transform


def push_tangents(op, out, args, vals, kw, track):
    """{level: tangent of ``out``} for the active levels its inputs carry, or None."""
    cap, active = state.cap, state.levels
    if len(active) == 1:
        # One jvp running (the common case): one level, none below it. Skips the
        # level bookkeeping (forward mode costs about a third less per op).
        L = active[0]
        if L > cap:
            return None
        t = _tangent_at(L, op, out, args, vals, kw, track, None, False)
        return None if t is None else {L: t}
    levels = set()
    for a in args:
        if type(a) is Tensor and a.tangent is not None:
            levels.update(L for L in a.tangent if L <= cap and L in active)
    tangents = {}
    for L in sorted(levels):  # outer levels first: level L's rule may need them on ans
        t = _tangent_at(L, op, out, args, vals, kw, track, tangents, True)
        if t is not None:
            tangents[L] = t
    return tangents or None


def _tangent_at(L, op, out, args, vals, kw, track, lower, nested):
    """The level-L tangent of ``out``: the sum over inputs k of J^{k->out} t_k."""
    # The rules see Tensors when their result must itself be differentiated: by
    # a reverse trace (track) or by the levels below L. They then see a twin of
    # ``out`` carrying those levels (``out`` itself would make a reference cycle
    # through its own tangent).
    if track or lower or (nested and any(
            type(a) is Tensor and a.tangent is not None and any(l < L for l in a.tangent)
            for a in args)):
        ans, xs = _twin(out, track, lower), args
    else:
        ans, xs = out.value, vals
    saved = state.cap
    state.cap = L - 1
    rules = op.jvps
    try:
        tan = None
        for k, a in enumerate(args):
            if type(a) is not Tensor or a.tangent is None:
                continue
            tk = a.tangent.get(L)
            if tk is None:
                continue
            try:
                rule, declared = rules[k], True  # a tuple, or Each (variadic ops)
            except (TypeError, IndexError):      # no rule list, or none for input k
                rule, declared = None, False
            if rule is not None:
                tk = rule(tk, ans, *xs, **kw) if kw else rule(tk, ans, *xs)
                if getattr(tk, "shape", None) != out.value.shape:
                    _check_tangent(tk, op, k, out.value.shape)
            elif not declared:
                tk = derived_jvp(op, k, tk, ans, xs, kw, out.value)
                if tk is None:
                    continue
            else:
                continue  # declared: no derivative through this input
            tan = tk if tan is None else tan + tk
    finally:
        state.cap = saved
    if tan is None:
        return None
    if tan.shape != out.value.shape:
        tan = broadcast_to(tan, out.value.shape)
    if out.value.dtype.kind != "c":
        dt = getattr(tan.value if type(tan) is Tensor else tan, "dtype", None)
        if dt is not None and dt.kind == "c":
            tan = real(tan)  # a real output has a real tangent
    return tan


def derived_jvp(op, k, t, ans, xs, kw, out_value):
    """J^{k->out} t from the VJP rule of input k, when the op has no JVP rule for it.

    u -> vjp_k(u) = u J is linear, so its own VJP with cotangent t is J t: one
    backward pass through the rule's operations, recorded (create_graph) so
    that the result can be differentiated again.
    """
    declared, rule = rule_of(op.vjps, k)
    if rule is None:
        if declared:
            return None
        raise MissingRuleError(
            f"primitive '{op.name}' has neither a JVP nor a VJP rule for input {k}, so it "
            f"cannot be differentiated in forward mode; add one with {op.name}.defjvp(...) "
            f"or {op.name}.defvjp(...).")
    with Transform() as tr:
        u = Tensor(np.zeros(out_value.shape, out_value.dtype), True)
        state.tape.append(u)
        r = rule(u, ans, *xs, **kw) if kw else rule(u, ans, *xs)
        x = xs[k]
        r = fit_cotangent(r, x, op, k)
        vertices = tr.vertices()
    if type(r) is not Tensor or not r.requires_grad:
        return None  # the rule does not depend on its cotangent: a zero derivative
    vertices.reverse()
    p = backward_pass(vertices, {r: t}, create_graph=True)
    return p.get(u)


def _twin(v, track, lower):
    """A second vertex with ``v``'s value and history, carrying the tangents ``lower``."""
    t = _new(Tensor)
    t.value, t.tangent = v.value, dict(lower) if lower else None
    if track:
        t.op, t.args, t.kw, t.requires_grad = v.op, v.args, v.kw, True
        if state.tape is not None:
            state.tape.append(t)
    else:
        t.op = t.args = t.kw = None
        t.requires_grad = False
    return t


def _check_tangent(tk, op, k, shape):
    """A JVP rule must give an array of the output's shape (or, for a broadcasting op,
    one that broadcasts to it)."""
    got = getattr(tk, "shape", None)
    if got is None:
        raise RuleError(f"JVP rule of '{op.name}' for input {k} returned {type(tk).__name__}, "
                        f"expected an array of shape {shape} (the shape of the output)")
    try:
        fits = op.broadcasts and np.broadcast_shapes(got, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise RuleError(f"JVP rule of '{op.name}' for input {k} returned shape {got}, "
                        f"expected {shape} (the shape of the output)")


set_forward(push_tangents)
