"""The backward pass of the notes: p_n = 1; p_j = sum over children i of p_i J^{j->i}.

``backward_pass`` is the whole reverse-mode engine: one loop over the vertices
in reverse creation order (children before parents), no recursion, no sort.
Each p_i J^{j->i} is a vector-Jacobian product computed by the op's rule
(``vertex_vjps``); fan-out is accumulated by addition. A message p_i is dropped
as soon as it has been passed on, so memory is released during the pass.
"""
import numpy as np

from .anomaly import check_backward
from .errors import MissingRuleError, RuleError
from .ops.elementwise import real
from .ops.shape import unbroadcast
from .state import hooks, state
from .tensor import Tensor


def backward_pass(vertices, seeds, create_graph=False, keep=False, stop=None):
    """Propagate the cotangents ``seeds`` back through ``vertices``.

    Args:
        vertices: the graph's vertices, children before parents (a reversed tape).
        seeds: {output vertex: its cotangent}, e.g. {u_n: p_n = 1}.
        create_graph: run the rules on Tensors so the pass itself is recorded
            (needed to differentiate the result again).
        keep: keep p_i of every vertex (for inspection), not only of leaves.
        stop: vertices whose p is wanted but not propagated further (the
            leaves of a transform that wrap an outer value).

    Returns:
        dict {vertex: p}: every leaf reached (and every vertex if ``keep``).
    """
    p = dict(seeds)                      # p_n = the seed; other messages start empty
    done = {}                            # messages that are not passed on: leaves, stops
    take = p.get if keep else p.pop      # drop p_i once passed on, unless asked to keep
    stop = stop or ()
    for v in vertices:                   # children before parents: p_i is complete here
        p_i = take(v, None)
        if p_i is None:                  # v does not lead to the output
            continue
        if v.op is None or v in stop:    # a leaf: p_i is an answer
            done[v] = p_i
            continue
        for a, g in vertex_vjps(v, p_i, create_graph):  # p_j += p_i J^{j->i}, each parent j
            old = p.get(a)
            p[a] = g if old is None else old + g
    if keep:
        return p
    done.update((v, g) for v, g in p.items() if v.op is None)
    return done


def vertex_vjps(v, g, create_graph=False):
    """[(u_j, p_i J^{j->i}) for each parent j of vertex v = i that carries a gradient].

    Runs the op's VJP rules on values (first order) or on the vertex's own
    Tensors (``create_graph``: the rules' operations are recorded), fits each
    result to its input's shape and kind, and checks it under
    ``detect_anomaly``. One call per vertex, not per edge: the inputs' values
    are gathered once (this is the hot loop of every gradient).
    """
    op, kw, args = v.op, v.kw, v.args
    if create_graph:
        ans, xs = v, args
    elif len(args) == 1:  # the commonest case: a lone input is always a Tensor
        ans, xs = v.value, (args[0].value,)  # saves ~0.3 us/op over the comprehension
    else:
        ans, xs = v.value, [a.value if type(a) is Tensor else a for a in args]
    rules = op.vjps
    out = []
    k = -1
    for a in args:
        k += 1
        if type(a) is not Tensor or not a.requires_grad:
            continue
        try:
            rule = rules[k]  # a tuple, or Each (variadic ops)
        except (TypeError, IndexError):  # no rule list, or none for input k
            raise MissingRuleError(
                f"primitive '{op.name}' has no VJP rule for input {k}; add one with "
                f"{op.name}.defvjp(...), or pass None there to declare that no "
                f"gradient flows through that input.") from None
        if rule is None:
            continue  # declared: no derivative through input k
        ga = rule(g, ans, *xs, **kw) if kw else rule(g, ans, *xs)
        x = a.value
        # fitting is needed only for a broadcast, a complex cotangent of a real
        # input, or a Tensor (higher order): one comparison skips it otherwise
        if type(ga) is not np.ndarray or ga.shape != x.shape or ga.dtype is not x.dtype:
            ga = fit_cotangent(ga, x, op, k)
        if hooks.active and state.anomaly:
            check_backward(v, k, g, ga)
        out.append((a, ga))
    return out


def fit_cotangent(ga, x, op, k):
    """A rule's result as a cotangent of input x: its shape, and real if x is real.

    Broadcasting ops may return an output-shaped cotangent: it is summed back
    to x's shape here, the one shared un-broadcast. A real input of a complex
    computation gets the real part (HIPS autograd's convention).
    """
    xv = x.value if type(x) is Tensor else np.asarray(x)
    try:
        shape, gv = ga.shape, (ga.value if type(ga) is Tensor else ga)
    except AttributeError:
        raise RuleError(f"VJP rule of '{op.name}' for input {k} returned "
                        f"{type(ga).__name__}, expected an array of shape {xv.shape}") from None
    if shape != xv.shape:
        if not (op.broadcasts and _broadcastable(shape, xv.shape)):  # a wrong rule
            raise RuleError(f"VJP rule of '{op.name}' for input {k} returned shape {shape}, "
                            f"expected {xv.shape} (the shape of that input)")
        ga = unbroadcast(ga, xv.shape)
    if gv.dtype.kind == "c" and xv.dtype.kind != "c":
        ga = real(ga)
    return ga


def _broadcastable(shape, to):
    """True if a cotangent of ``shape`` sums back to ``to`` (the shapes broadcast)."""
    lead = len(shape) - len(to)
    if lead >= 0 and all(t == 1 or t == s for s, t in zip(shape[lead:], to)):
        return True  # the common case, without np.broadcast_shapes' Python-level cost
    try:
        np.broadcast_shapes(shape, to)
    except ValueError:
        return False
    return True


def reverse_topological(out):
    """Vertices that ``out`` depends on (requiring grad), children before parents.

    Kahn's algorithm on the reversed edges, iterative: a vertex is emitted once
    all of its children that lead to ``out`` have been emitted.
    """
    children = {out: 0}
    stack = [out]
    while stack:
        v = stack.pop()
        if v.args is None:
            continue
        for a in v.args:
            if type(a) is Tensor and a.requires_grad:
                n = children.get(a)
                if n is None:
                    children[a] = 1
                    stack.append(a)
                else:
                    children[a] = n + 1
    order = []
    ready = [out]
    while ready:
        v = ready.pop()
        order.append(v)
        if v.args is None:
            continue
        for a in v.args:
            if type(a) is Tensor and a.requires_grad:
                n = children[a] - 1
                children[a] = n
                if n == 0:
                    ready.append(a)
    return order
