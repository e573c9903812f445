"""The backward pass of the notes: p_n = 1; p_j = sum over children i of p_i J^{j->i}.

``backward_pass`` is the whole reverse-mode engine: one loop over the vertices
in reverse creation order (children before parents), no recursion, no sort.
Each p_i J^{j->i} is a vector-Jacobian product computed by the op's rule;
fan-out is accumulated by addition. A message p_i is dropped as soon as it has
been passed on, so memory is released during the pass.
"""
import sys

import numpy as np

from .anomaly import check_backward
from .errors import RuleError
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
    p = dict(seeds)
    kept = {}
    take = p.get if keep else p.pop
    stop = stop or None  # an empty set would cost a lookup per vertex
    anomaly = hooks.active and state.anomaly  # detect_anomaly: check every message
    for v in vertices:
        g = take(v, None)
        if g is None:
            continue
        op = v.op
        if op is None or (stop is not None and v in stop):
            kept[v] = g
            continue
        args = v.args
        if create_graph:
            ans, xs = v, args
        elif len(args) == 1:  # the commonest case, inlined (this loop is the hot path);
            ans, xs = v.value, (args[0].value,)  # a lone input is always a Tensor
        else:
            ans = v.value
            xs = _values(args)
        rules = op.vjps
        kw = v.kw
        k = -1
        for a in args:
            k += 1
            if type(a) is not Tensor or not a.requires_grad:
                continue
            try:
                rule = rules[k]
            except (TypeError, IndexError):
                raise RuleError(
                    f"primitive '{op.name}' has no VJP rule for input {k}; add one with "
                    f"{op.name}.defvjp(...), or pass None there to declare that no "
                    f"gradient flows through that input.") from None
            if rule is None:
                continue
            ga = rule(g, ans, *xs, **kw) if kw else rule(g, ans, *xs)
            try:
                fits = ga.shape == a.value.shape
            except AttributeError:
                raise RuleError(
                    f"VJP rule of '{op.name}' for input {k} returned {type(ga).__name__}, "
                    f"expected an array of shape {a.value.shape}") from None
            if not fits:
                ga = _fit(ga, a.value.shape, op, k)
            if anomaly:
                check_backward(v, k, g, ga)
            old = p.get(a)
            p[a] = ga if old is None else old + ga
    if keep:
        return p
    kept.update((v, g) for v, g in p.items() if v.op is None)
    return kept


class Handed:
    """Hands gradients to the caller as NumPy arrays they own, copying only when needed.

    A gradient the backward pass computed is usually a fresh array nobody
    else holds; copying it (a 1.6 MB weight gradient, every step) would be
    pure waste. It is copied when it might be shared: a view, a read-only
    array, the same array already handed out for another leaf (``x + y``
    gives both the same g), a cotangent the caller passed in, or the leaf's
    own value.
    """

    def __init__(self, cotangents=()):
        self.seen = {id(c) for c in cotangents}

    def own(self, g, leaf=None):
        """g as an array the caller owns (in the leaf's dtype when a leaf is given)."""
        if type(g) is Tensor:
            g = g.value
        if (type(g) is not np.ndarray or id(g) in self.seen
                or (leaf is not None and (g.dtype != leaf.value.dtype or g is leaf.value))
                # a view is only safe when nothing else holds what it views, and only
                # views can be read-only here (rules make fresh arrays; broadcast_to views)
                or (g.base is not None and not (_private_view(g) and g.flags.writeable))):
            g = np.array(g, dtype=None if leaf is None else leaf.value.dtype)
        self.seen.add(id(g))
        return g


def _private_view(g):
    """True if g is a view (say a transpose) of a temporary array that nothing else holds.

    The gradient of W in ``x @ W.T`` is the transpose of a fresh product: handing
    out that view is as safe as handing out the product, and saves a copy.
    """
    base = g.base
    # 3 references: the view's own, the local name `base`, getrefcount's argument (CPython)
    return type(base) is np.ndarray and base.base is None and sys.getrefcount(base) <= 3


def _values(args):
    """The NumPy values of a vertex's inputs of two or more (two unrolled: hot path)."""
    if len(args) == 2:
        a, b = args
        return (a.value if type(a) is Tensor else a, b.value if type(b) is Tensor else b)
    return [a.value if type(a) is Tensor else a for a in args]


def _fit(ga, shape, op, k):
    """Sum a broadcast cotangent back to its input's shape (the one shared un-broadcast)."""
    if op.broadcasts:
        try:
            np.broadcast_shapes(ga.shape, shape)
            return unbroadcast(ga, shape)
        except ValueError:
            pass
    raise RuleError(f"VJP rule of '{op.name}' for input {k} returned shape {ga.shape}, "
                    f"expected {shape} (the shape of that input)")


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    if type(g) is np.ndarray:  # first order: plain NumPy, nothing to record
        return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)
    from .ops.reduce import sum as _sum
    from .ops.shape import reshape
    if axes:
        g = _sum(g, axes, keepdims=True)
    if g.shape != shape:
        g = reshape(g, shape)
    return g


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
