"""Building the notes' graphs by hand: the checks behind ``Graph.from_edges``.

``check(n, l, edges, functions, jacobians, names)`` validates a hand-written
graph (n, l, E, f^i) with one clear error per mistake (``GraphError``) and
returns what ``Graph.from_edges`` needs: each vertex's parents in increasing
order, the functions, the given Jacobians, the names. ``local_op(fun, i,
parents, given)`` turns a plain f^i into a ``Primitive`` whose VJP rule per
parent uses the given J^{j->i} or, without one, runs f^i on chainrule tensors.

This module sits below ``graph.py`` (which imports it); it knows nothing of
``Vertex`` or ``Graph``.

Example:
    >>> from chainrule.graph_build import GraphError, check
    >>> b = check(4, 2, [(1, 3), (2, 3), (2, 4), (3, 4)],
    ...           {3: lambda u1, u2: u1 + u2, 4: lambda u2, u3: u2 * u3})
    >>> b.parents[4]
    [2, 3]
    >>> try:
    ...     check(3, 1, [(2, 1)], {})
    ... except GraphError as e:
    ...     print(e)
    edge (2, 1) goes from 2 to 1, but every edge must go from a lower to a higher number (j < i): the numbering is a topological order. Renumber the vertices so parents come first.
"""
import inspect
from typing import NamedTuple

import numpy as np

from .backward import backward_pass
from .errors import ChainruleError
from .primitive import Primitive
from .tensor import Tensor
from .tracing import Transform, leaf


class GraphError(ChainruleError, ValueError):
    """A graph was built or queried in a way the notes' definition does not allow."""


class Checked(NamedTuple):
    """A validated hand-built graph: what ``Graph.from_edges`` assembles its vertices from."""

    n: int
    l: int
    edges: list        # E, sorted
    parents: dict      # {i: [j, ...]} in increasing order, for every vertex
    functions: dict    # {i: f^i} for i = l+1..n
    jacobians: dict    # {(j, i): J or function of A^i}, the given ones
    names: dict        # {i: name}, only the given ones


def check(n, l, edges, functions, jacobians=None, names=None):
    """Validate (n, l, E, f^i, given J^{j->i}, names); returns a ``Checked``.

    Raises:
        GraphError: the first mistake found, saying which rule of the notes'
            definition it breaks and how to fix it.
        TypeError: ``functions``/``jacobians`` of the wrong kind.
    """
    n, l = _check_sizes(n, l)
    E = _check_edges(n, l, edges)
    parents = {i: [] for i in range(1, n + 1)}
    for j, i in E:
        parents[i].append(j)
    for i in parents:
        parents[i].sort()
    for i in range(l + 1, n + 1):
        if not parents[i]:
            raise GraphError(
                f"vertex {i} is not a leaf (leaves are 1..{l}) but has no incoming edge; "
                f"f^{i} needs at least one parent: add an edge (j, {i}), or renumber so "
                f"that it is a leaf")
    _check_reaches_output(n, E)
    functions = _check_functions(n, l, functions, parents)
    given = _check_jacobian_keys(jacobians, E)
    return Checked(n, l, E, parents, functions, given, _names(n, names))


def local_op(fun, i, parents, given):
    """f^i as a ``Primitive`` taking its parents' values in increasing order.

    A chainrule primitive (``cr.add``, ``cr.multiply``...) is used as it is,
    with its own rules, unless Jacobians are given for its edges. Any other
    function gets one VJP rule per parent: the given J^{j->i}, or one found by
    running ``fun`` on chainrule tensors.
    """
    mine = {j: J for (j, k), J in given.items() if k == i}
    if isinstance(fun, Primitive) and not mine:
        return fun
    fname = getattr(fun, "__name__", None)
    op = Primitive(fun, fname if isinstance(fname, str) and fname.isidentifier() else f"f^{i}")
    op.defvjp(*[_hand_vjp(fun, k, mine.get(j), j, i) for k, j in enumerate(parents)])
    return op


def _check_sizes(n, l):
    for name, x in (("n", n), ("l", l)):
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
            raise GraphError(f"{name} must be an integer, got {x!r}")
    if n < 2:
        raise GraphError(f"n = {n}: a graph needs at least one leaf and one other vertex (n >= 2)")
    if not 1 <= l < n:
        raise GraphError(f"l = {l} with n = {n}: the notes need 1 <= l < n (leaves 1..l, "
                         f"at least one non-leaf vertex, the output n)")
    return int(n), int(l)


def _check_edges(n, l, edges):
    seen = set()
    for e in edges:
        try:
            j, i = e
        except (TypeError, ValueError):
            raise GraphError(f"edge {e!r} is not a pair (j, i)") from None
        for x in (j, i):
            if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
                raise GraphError(f"edge {e!r}: vertex numbers must be integers")
            if not 1 <= x <= n:
                raise GraphError(f"edge ({j}, {i}): vertex {x} is out of range; vertices are "
                                 f"numbered 1..n = 1..{n}")
        if j >= i:
            raise GraphError(f"edge ({j}, {i}) goes from {j} to {i}, but every edge must go from "
                             f"a lower to a higher number (j < i): the numbering is a "
                             f"topological order. Renumber the vertices so parents come first.")
        if i <= l:
            raise GraphError(f"edge ({j}, {i}) ends at vertex {i}, which is a leaf (leaves are "
                             f"1..l = 1..{l}); leaves have no parents. Make {i} a non-leaf by "
                             f"renumbering, or remove the edge.")
        if (j, i) in seen:
            raise GraphError(f"edge ({j}, {i}) is listed twice; E is a set of edges")
        seen.add((int(j), int(i)))
    return sorted(seen)


def _check_reaches_output(n, E):
    reach = [False] * (n + 1)
    reach[n] = True
    children = {}
    for j, i in E:
        children.setdefault(j, []).append(i)
    for j in range(n - 1, 0, -1):
        reach[j] = any(reach[i] for i in children.get(j, ()))
    lost = [j for j in range(1, n) if not reach[j]]
    if lost:
        raise GraphError(
            f"vertex {lost[0]} does not reach the output vertex n = {n} (no directed path "
            f"{lost[0]} -> ... -> {n})"
            + (f"; nor do {lost[1:]}" if len(lost) > 1 else "")
            + ". Every vertex must lead to the output: add an edge from it, or leave it out.")


def _arity(fun):
    """(least, most) positional arguments ``fun`` accepts, or None when unknown."""
    nin = getattr(fun, "nin", None)  # NumPy ufuncs
    if isinstance(nin, int):
        return nin, nin
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        return None
    lo = hi = 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            hi += 1
            lo += p.default is p.empty
        elif p.kind is p.VAR_POSITIONAL:
            hi = float("inf")
    return lo, hi


def _check_functions(n, l, functions, parents):
    if not hasattr(functions, "items"):
        raise TypeError(f"functions must be a dict {{i: f^i}} for i = {l + 1}..{n}, got "
                        f"{type(functions).__name__}")
    for i, fun in functions.items():
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 1 <= i <= n:
            raise GraphError(f"functions has an entry for {i!r}, which is not a vertex: "
                             f"vertices are numbered 1..n = 1..{n}")
        if i <= l:
            raise GraphError(f"functions[{i}]: vertex {i} is a leaf (leaves are 1..{l}); leaves "
                             f"get values in forward(), not functions")
        if not callable(fun):
            raise TypeError(f"functions[{i}] must be callable (f^{i}), got {type(fun).__name__}")
    for i in range(l + 1, n + 1):
        args = ", ".join(f"u{j}" for j in parents[i])
        if i not in functions:
            raise GraphError(f"no function for vertex {i}: give functions[{i}] = f^{i}, a "
                             f"function of its parents' values f^{i}({args})")
        ar = _arity(functions[i])
        k = len(parents[i])
        if ar is not None and not ar[0] <= k <= ar[1]:
            takes = ar[0] if ar[0] == ar[1] else f"{ar[0]} to {ar[1]}"
            raise GraphError(f"functions[{i}] takes {takes} argument(s) but vertex {i} has {k} "
                             f"parent(s) {tuple(parents[i])}: f^{i} is called with the parents' "
                             f"values in increasing vertex order, f^{i}({args})")
    return dict(functions)


def _check_jacobian_keys(jacobians, E):
    if jacobians is None:
        return {}
    if not hasattr(jacobians, "items"):
        raise TypeError(f"jacobians must be a dict {{(j, i): J}}, got {type(jacobians).__name__}")
    Eset = set(E)
    out = {}
    for key, J in jacobians.items():
        try:
            j, i = key
        except (TypeError, ValueError):
            raise GraphError(f"jacobians key {key!r} is not an edge (j, i)") from None
        if (j, i) not in Eset:
            raise GraphError(f"jacobians[({j}, {i})]: ({j}, {i}) is not an edge; Jacobians "
                             f"belong to the edges E = {sorted(Eset)}")
        if not callable(J):
            J = np.asarray(J)
            if not np.issubdtype(J.dtype, np.number):
                raise TypeError(f"jacobians[({j}, {i})] must be an array or a function of "
                                f"f^{i}'s arguments, got {type(jacobians[key]).__name__}")
        out[(int(j), int(i))] = J
    return out


def given_matrix(J, A, ui, uj, j, i):
    """An explicit J^{j->i} evaluated at A^i, checked to be (d_i x d_j)."""
    M = np.asarray(J(*A) if callable(J) else J)
    want = (np.size(ui), np.size(uj))
    if M.shape == want:
        return M
    if M.size == 1 and want == (1, 1):
        return M.reshape(1, 1)
    raise GraphError(f"J^{{{j}->{i}}} given in jacobians has shape {M.shape}, but must be "
                     f"(d_{i}, d_{j}) = {want}: one row per entry of u{i}, one column per "
                     f"entry of u{j} (matrices flattened row-major)")


def _hand_vjp(fun, k, J, j, i):
    """The VJP rule of a hand-built f^i for its k-th parent (vertex j)."""
    if J is not None:
        def rule(g, ans, *A):
            M = given_matrix(J, A, ans, A[k], j, i)
            return (np.reshape(g, -1) @ M).reshape(np.shape(A[k]))
    else:
        def rule(g, ans, *A):
            return _vjp_by_tracing(fun, A, g, i)[k]
    return rule


def _vjp_by_tracing(fun, A, g, i):
    """(g J^{1st parent -> i}, g J^{2nd -> i}, ...) by running f^i on chainrule tensors."""
    with Transform() as tr:
        xs = [leaf(np.asarray(a)) for a in A]
        out = fun(*xs)
        tape = list(tr.vertices())
    if type(out) is not Tensor or not out.requires_grad:
        raise GraphError(
            f"cannot derive the Jacobians of f^{i}: run on chainrule tensors it returned "
            f"{type(out).__name__}, not a tensor that depends on its arguments (math.* and "
            f"float() drop the graph). Write f^{i} with NumPy or chainrule operations, or give "
            f"its Jacobians: Graph.from_edges(..., jacobians={{(j, {i}): J}}).")
    if out.value.shape != np.shape(g):
        raise GraphError(f"f^{i} returned shape {out.value.shape} on tensors but "
                         f"{np.shape(g)} on arrays")
    p = backward_pass(reversed(tape), {out: g}, keep=True)
    return [np.zeros_like(x.value) if p.get(x) is None else np.asarray(p[x]) for x in xs]


def _names(n, names):
    if names is None:
        return {}
    if hasattr(names, "items"):
        return {int(i): str(s) for i, s in names.items()}
    names = list(names)
    if len(names) != n:
        raise GraphError(f"names: got {len(names)} names for {n} vertices")
    return {i: str(s) for i, s in enumerate(names, 1)}
