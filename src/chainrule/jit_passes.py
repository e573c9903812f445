"""The program cr.jit records, as a list of nodes, and the passes that shorten it.

A recorded program is the notes' forward pass written out: one ``Node`` per
vertex, u_i = f^i(A^i), in creation order. Its arguments are other nodes,
the function's inputs (``Input``), constants known when it was traced
(``Const``), or Tensors from outside read afresh at each call (``Live``).

The passes change how a value is computed, never what it is (each rewrite is
exact in floating point unless its comment says otherwise):

- ``fold``: a node all of whose arguments are constants is a constant: its
  traced value (the backward pass of ``sum`` seeds ones, the rules multiply
  them by constants: all of that is done once, when the program is traced).
- ``simplify``: x**1 -> x, x**2 -> square(x), 1*x -> x, x > y on real arrays ->
  the ufunc itself (the comparison's Python check for complex input is settled by
  the signature), a constant array of
  one repeated number -> that number (the ufunc broadcasts it for free),
  -(c*x) -> (-c)*x, transpose of a transpose -> one or none, a reshape or
  squeeze to the same shape -> nothing.
- ``cse``: the same function of the same arguments is computed once
  (``x[:-1]`` in the forward pass and again in the backward pass).
- ``dead``: nodes no output needs are dropped.
"""
import numpy as np


class Input:
    """The k-th array input of the recorded function."""
    __slots__ = ("k", "shape", "dtype")

    def __init__(self, k, value):
        self.k, self.shape, self.dtype = k, value.shape, value.dtype


class Const:
    """A value fixed when the program was traced."""
    __slots__ = ("value", "shape", "dtype")

    def __init__(self, value):
        self.value = value
        a = np.asarray(value)
        self.shape, self.dtype = a.shape, a.dtype


class Live:
    """A Tensor recorded outside the traced function: its value is read at every call."""
    __slots__ = ("tensor", "shape", "dtype")

    def __init__(self, tensor):
        self.tensor = tensor
        self.shape, self.dtype = tensor.value.shape, tensor.value.dtype


class Node:
    """One recorded operation: ``fun(*args, **kw)``; ``value`` is what it gave when traced."""
    __slots__ = ("op", "name", "fun", "args", "kw", "shape", "dtype", "value")

    def __init__(self, op, name, fun, args, kw, value):
        self.op, self.name, self.fun, self.args, self.kw = op, name, fun, list(args), kw
        self.value = value
        a = np.asarray(value)
        self.shape, self.dtype = a.shape, a.dtype


def _scalar(c):
    """The one number a constant array repeats, as a NumPy scalar of its dtype, or None."""
    if not isinstance(c, Const):
        return None
    a = np.asarray(c.value)
    if a.size == 0 or a.dtype.kind not in "biufc":
        return None
    first = a.flat[0]
    if a.size > 1 and not (a == first).all():
        return None
    return a.dtype.type(first)


def _is_one(c):
    s = _scalar(c)
    return s is not None and s == 1


def transpose_axes(node):
    """The axes of a recorded transpose (positional, keyword, or None: reversed)."""
    axes = node.args[1].value if len(node.args) > 1 else (node.kw or {}).get("axes")
    ndim = len(node.args[0].shape)
    return tuple(range(ndim))[::-1] if axes is None else tuple(int(a) % ndim for a in axes)


def _same(node, arg):
    """True if ``arg`` already is the node's result (same shape and dtype)."""
    return arg.shape == node.shape and arg.dtype == node.dtype


def simplify(nodes, outs, ops):
    """Fold, simplify and share: returns (nodes, outs) rewritten; ``ops`` names the primitives."""
    subst = {}      # id(node) -> what replaces it
    seen = {}       # cse key -> node
    kept = []

    def sub(a):
        return subst.get(id(a), a) if isinstance(a, Node) else a

    for n in nodes:
        n.args = [sub(a) for a in n.args]
        r = _rewrite(n, ops)
        if r is not n:
            subst[id(n)] = r
            continue
        key = _cse_key(n)
        if key is not None:
            other = seen.get(key)
            if other is not None:
                subst[id(n)] = other
                continue
            seen[key] = n
        kept.append(n)
    return dead(kept, [sub(o) for o in outs]), [sub(o) for o in outs]


def _rewrite(n, ops):
    """What node n can be replaced by (n itself when nothing applies)."""
    args, op = n.args, n.op
    if args and all(isinstance(a, Const) for a in args):
        return Const(n.value)  # fold: the traced value is the value at every call
    if op is ops.power and len(args) == 2 and isinstance(args[1], Const):
        y = _scalar(args[1])
        if y is not None and args[1].shape == () and _same(n, args[0]):
            if y == 1:
                return args[0]
            if y == 2:  # the same number (NumPy's power takes this path itself), half the time
                n.fun, n.name, n.args = np.square, "square", [args[0]]
    elif op is ops.multiply and len(args) == 2:
        for c, x in ((args[0], args[1]), (args[1], args[0])):
            if _is_one(c) and _same(n, x):
                return x  # 1 * x is x exactly (nan, inf and -0.0 included)
        _scalars(n)
        for k in (0, 1):  # c1 * (c2 * x) -> (c1*c2) * x: one rounding instead of two
            c, inner = args[k], args[1 - k]
            s = _scalar(c)
            if (s is not None and c.shape == () and isinstance(inner, Node)
                    and inner.op is ops.multiply and isinstance(inner.args[0], Const)
                    and inner.args[0].shape == () and _same(n, inner.args[1])
                    and n.dtype == inner.dtype):
                n.args = [Const(n.dtype.type(s * inner.args[0].value)), inner.args[1]]
                break
    elif op is ops.negative and isinstance(args[0], Node) and args[0].op is ops.multiply:
        inner = args[0]
        c, x = inner.args
        if isinstance(c, Const) and c.shape == () and _same(n, x):
            # -(c*x) == (-c)*x exactly: negation only flips the sign bit
            n.op, n.name, n.fun = ops.multiply, "multiply", ops.multiply.fun
            n.args = [Const(-c.value), x]
    elif op in (ops.add, ops.subtract, ops.divide):
        _scalars(n)
    elif op is ops.transpose:
        axes = transpose_axes(n)
        x = args[0]
        if isinstance(x, Node) and x.op is ops.transpose:
            inner = transpose_axes(x)
            axes = tuple(inner[a] for a in axes)
            x = x.args[0]
        if axes == tuple(range(len(axes))):
            return x
        n.args, n.kw = [x, Const(axes)], None
    elif op in (ops.reshape, ops.squeeze, ops.expand_dims) and _same(n, args[0]):
        return args[0]
    elif op in ops.ordering and all(a.dtype.kind != "c" for a in args):
        n.fun = ops.ordering[op]  # x > 0 on real arrays: the ufunc itself, no Python frame
    elif op is ops.unbroadcast and _sums_only_ones(args[0].shape, n.shape):
        if _same(n, args[0]):
            return args[0]
        # summing over axes of length 1 moves nothing: a reshape (batch 1's bias gradients)
        n.op, n.name, n.fun, n.args = ops.reshape, "reshape", ops.reshape.fun, [
            args[0], Const(tuple(n.shape))]
    return n


def _sums_only_ones(src, shape):
    """True if un-broadcasting ``src`` to ``shape`` sums over axes of length 1 only."""
    lead = len(src) - len(shape)
    return lead >= 0 and all(s == 1 for s in src[:lead]) and all(
        a == b or a == 1 for a, b in zip(src[lead:], shape))


def _scalars(n):
    """A constant operand that repeats one number becomes that number (its dtype kept)."""
    for k, c in enumerate(n.args):
        other = n.args[1 - k]
        if isinstance(c, Const) and c.shape != () and _same(n, other):
            s = _scalar(c)
            if s is not None:
                n.args[k] = Const(s)


def _cse_key(n):
    """A key equal for two nodes that compute the same thing, or None if unsure."""
    parts = [id(n.fun)]
    for a in n.args:
        if isinstance(a, (Node, Input)):
            parts.append(id(a))
        elif isinstance(a, Const) and np.ndim(a.value) == 0 and not isinstance(a.value, tuple):
            parts.append(("c", repr(a.value), str(a.dtype)))
        else:
            return None
    if n.kw:
        k = _plain_repr(n.kw)
        if k is None:
            return None
        parts.append(k)
    return tuple(parts)


def _plain_repr(obj):
    """repr(obj) when it is made of numbers, strings, slices, tuples and dicts only."""
    if isinstance(obj, dict):
        items = [(_plain_repr(k), _plain_repr(v)) for k, v in sorted(obj.items(), key=str)]
        return None if any(k is None or v is None for k, v in items) else repr(items)
    if isinstance(obj, (tuple, list)):
        parts = [_plain_repr(x) for x in obj]
        return None if None in parts else repr((type(obj).__name__, parts))
    if obj is None or obj is Ellipsis or isinstance(obj, (bool, int, float, str, slice,
                                                          np.integer, np.floating)):
        return repr(obj)
    return None


def dead(nodes, outs):
    """The nodes some output needs, in order (liveness: children before parents)."""
    needed = {id(o) for o in outs if isinstance(o, Node)}
    kept = []
    for n in reversed(nodes):
        if id(n) in needed:
            kept.append(n)
            needed.update(id(a) for a in n.args if isinstance(a, Node))
    kept.reverse()
    return kept


def uses(nodes, outs):
    """{id(value): [the nodes reading it]} and the index of each value's last reader."""
    readers, last = {}, {}
    for i, n in enumerate(nodes):
        for a in n.args:
            readers.setdefault(id(a), []).append(n)
            last[id(a)] = i
    for o in outs:
        last[id(o)] = len(nodes)  # an output lives past the end
    return readers, last
