"""NumPy's shape and assembly functions: ravel, stacks, splits, pad, roll, flips, diag, sort, take...

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted;
without any Tensor among the arguments, NumPy's own function runs).

Almost all of them only move entries around, so they are compositions of the
core shape operations (reshape, transpose, getitem, index_add, concatenate,
broadcast_to, where): their rules, to every order and in both modes, are
those of the parts. ``sort`` and ``partition`` gather along the permutation
NumPy's argsort/argpartition gives (a recorded constant, so a replayed
program, ``cr.jit``, sorts its new inputs): the gradient of each output entry
goes to the input entry that landed there; tied values go where the stable
sort put them (as ``torch.sort(stable=True)``).
"""
import numpy as np

from ..primitive import ConstantPrimitive, Primitive
from ..state import refuse_value
from ..tensor import Tensor
from ._npapi import as_dtype, has_tensor, numpy_function
from ._util import linear_jvp, pack, shape_of, value
from . import ufuncs
from .compare import equal, isnan
from .elementwise import cast, exp, log, multiply, where
from .reduce import sum as _sum
from .shape import (broadcast_to, concatenate, getitem, index_add, reshape, stack,
                    transpose)

NUMPY_IMPLS = {}


def _register(npfun, name=None):
    """Decorator: implement ``npfun`` (see ``numpy_function``) and list it in NUMPY_IMPLS."""
    def deco(impl):
        wrapped = numpy_function(npfun, name)(impl)
        wrapped.__name__ = wrapped.__qualname__ = npfun.__name__  # NumPy's name, for docs
        NUMPY_IMPLS[npfun] = wrapped
        return wrapped
    return deco


def _ndim(x):
    return len(shape_of(x))


def _axis(axis, nd):
    """One axis as a non-negative int, NumPy's AxisError if out of range."""
    axis = int(axis)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(axis, nd)
    return axis % nd


def _axes(axis, nd):
    """An int or a sequence of axes as a tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (int, np.integer)):
        return (_axis(axis, nd),)
    return tuple(_axis(a, nd) for a in axis)


def _along(ax, idx):
    """An index selecting ``idx`` along axis ``ax`` (every entry of the axes before)."""
    return (slice(None),) * ax + (idx,)


# ----- reshaping ---------------------------------------------------------------------
@_register(np.ravel)
def ravel(a, order="C"):
    """np.ravel: the entries as a 1-D array (order 'C'; 'F' reads the transpose)."""
    a = pack(a)
    if order == "F":
        a = transpose(a)
    elif order not in ("C", "A", "K"):
        raise ValueError(f"np.ravel: order must be one of 'C', 'F', 'A', 'K', got {order!r}")
    return reshape(a, (-1,))


@_register(np.swapaxes)
def swapaxes(a, axis1, axis2):
    """np.swapaxes: exchange two axes."""
    a = pack(a)
    nd = _ndim(a)
    perm = list(range(nd))
    i, j = _axis(axis1, nd), _axis(axis2, nd)
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, tuple(perm))


@_register(np.moveaxis)
def moveaxis(a, source, destination):
    """np.moveaxis: move axes to new positions, the others keeping their order."""
    a = pack(a)
    nd = _ndim(a)
    source, destination = _axes(source, nd), _axes(destination, nd)
    if len(source) != len(destination):
        raise ValueError("np.moveaxis: `source` and `destination` arguments must have the "
                         "same number of elements")
    order = [n for n in range(nd) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, tuple(order))


@_register(np.rollaxis)
def rollaxis(a, axis, start=0):
    """np.rollaxis: move one axis to before position ``start``."""
    a = pack(a)
    nd = _ndim(a)
    axis = _axis(axis, nd)
    if start < 0:
        start += nd
    if not 0 <= start < nd + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-nd} <= start < {nd + 1}, "
                                      f"but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = list(range(nd))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, tuple(axes))


def _atleast(nd, a):
    a = pack(a)
    s = shape_of(a)
    if len(s) >= nd:
        return a
    if nd == 1:
        return reshape(a, (1,))
    if nd == 2:
        return reshape(a, (1,) * (2 - len(s)) + s)
    # atleast_3d: 0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)
    return reshape(a, {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def _atleast_fn(nd, npfun):
    def impl(*arys):
        res = tuple(_atleast(nd, a) for a in arys)
        return res[0] if len(res) == 1 else res
    impl.__name__ = impl.__qualname__ = npfun.__name__
    impl.__doc__ = f"np.{npfun.__name__}: views with at least {nd} dimension(s)."
    return _register(npfun)(impl)


atleast_1d = _atleast_fn(1, np.atleast_1d)
atleast_2d = _atleast_fn(2, np.atleast_2d)
atleast_3d = _atleast_fn(3, np.atleast_3d)


# ----- joining and splitting -----------------------------------------------------------
@_register(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    """np.hstack: join along the second axis (the first for 1-D arrays)."""
    arrs = [_atleast(1, a) for a in tup]
    if not arrs:
        raise ValueError("np.hstack: need at least one array to concatenate")
    return concatenate(arrs, 0 if _ndim(arrs[0]) == 1 else 1)


@_register(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    """np.vstack: join along the first axis (1-D arrays become rows)."""
    return concatenate([_atleast(2, a) for a in tup], 0)


if hasattr(np, "row_stack"):
    NUMPY_IMPLS[np.row_stack] = numpy_function(np.row_stack)(vstack.__wrapped__)


@_register(np.dstack)
def dstack(tup):
    """np.dstack: join along the third axis."""
    return concatenate([_atleast(3, a) for a in tup], 2)


@_register(np.column_stack)
def column_stack(tup):
    """np.column_stack: 1-D arrays as columns, joined along the second axis."""
    cols = []
    for a in tup:
        a = pack(a)
        s = shape_of(a)
        cols.append(reshape(a, (-1, 1)) if len(s) < 2 else a)
    return concatenate(cols, 1)


def _split_at(a, points, ax):
    n = shape_of(a)[ax]
    bounds = [0] + list(points) + [n]
    return [getitem(a, _along(ax, slice(st, end))) for st, end in zip(bounds[:-1], bounds[1:])]


@_register(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """np.array_split: pieces along ``axis`` (sections of nearly equal size, or at indices)."""
    a = pack(ary)
    ax = _axis(axis, _ndim(a))
    n = shape_of(a)[ax]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("np.array_split: number sections must be larger than 0.")
        each, extras = divmod(n, sections)
        sizes = [each + 1] * extras + [each] * (sections - extras)
        return _split_at(a, np.cumsum(sizes)[:-1].tolist(), ax)
    return _split_at(a, list(indices_or_sections), ax)


@_register(np.split)
def split(ary, indices_or_sections, axis=0):
    """np.split: pieces along ``axis``; a number of sections must divide the axis."""
    a = pack(ary)
    if np.ndim(indices_or_sections) == 0:
        n = shape_of(a)[_axis(axis, _ndim(a))]
        if n % int(indices_or_sections):
            raise ValueError("np.split: array split does not result in an equal division "
                             f"(axis of length {n} into {indices_or_sections} sections); "
                             "use np.array_split for unequal pieces")
    return array_split.__wrapped__(a, indices_or_sections, axis)


def _split_fn(npfun, min_nd, axis_of):
    def impl(ary, indices_or_sections):
        a = pack(ary)
        nd = _ndim(a)
        if nd < min_nd:
            raise ValueError(f"np.{npfun.__name__} only works on arrays of {min_nd} or more "
                             f"dimensions, got shape {shape_of(a)}")
        return split.__wrapped__(a, indices_or_sections, axis_of(nd))
    impl.__name__ = impl.__qualname__ = npfun.__name__
    impl.__doc__ = f"np.{npfun.__name__}: np.split along its axis."
    return _register(npfun)(impl)


hsplit = _split_fn(np.hsplit, 1, lambda nd: 1 if nd > 1 else 0)
vsplit = _split_fn(np.vsplit, 2, lambda nd: 0)
dsplit = _split_fn(np.dsplit, 3, lambda nd: 2)


@_register(np.append)
def append(arr, values, axis=None):
    """np.append: values joined at the end (both flattened when axis is None)."""
    arr, values = pack(arr), pack(values)
    if axis is None:
        return concatenate([reshape(arr, (-1,)), reshape(values, (-1,))], 0)
    return concatenate([arr, values], axis)


# ----- repetition and padding ----------------------------------------------------------
@_register(np.tile)
def tile(A, reps):
    """np.tile: A repeated ``reps`` times along each axis (a broadcast, then a reshape)."""
    A = pack(A)
    reps = tuple(int(r) for r in np.atleast_1d(reps))
    s = shape_of(A)
    nd = max(len(s), len(reps))
    s = (1,) * (nd - len(s)) + s
    reps = (1,) * (nd - len(reps)) + reps
    inter = tuple(x for d in s for x in (1, d))
    full = tuple(x for r, d in zip(reps, s) for x in (r, d))
    return reshape(broadcast_to(reshape(A, inter), full), tuple(r * d for r, d in zip(reps, s)))


@_register(np.repeat)
def repeat(a, repeats, axis=None):
    """np.repeat: each entry repeated along ``axis`` (flattened when axis is None)."""
    a = pack(a)
    if axis is None:
        a, ax = reshape(a, (-1,)), 0
    else:
        ax = _axis(axis, _ndim(a))
    idx = np.repeat(np.arange(shape_of(a)[ax]), value(repeats))
    return getitem(a, _along(ax, idx))


@_register(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """np.pad: modes constant, edge, reflect, symmetric and wrap.

    constant: the array written into a zero array of the padded shape, plus the
    constants (which may be a scalar Tensor, then differentiated). The other
    modes gather: along each axis, the source index of each output position
    is np.pad applied to arange(n), so reflect/wrap/edge/symmetric are exactly
    NumPy's, and the gradient of a repeated entry adds up.
    """
    a = pack(array)
    s = shape_of(a)
    nd = len(s)
    # NumPy's forms: n, (n,), (before, after), ((before, after),), one pair per axis
    pw = np.broadcast_to(np.asarray(value(pad_width), dtype=np.intp), (nd, 2))
    if (pw < 0).any():
        raise ValueError("np.pad: index can't contain negative values")
    if mode == "constant":
        cv = kwargs.pop("constant_values", 0)
        if kwargs:
            raise TypeError(f"np.pad: unsupported keyword(s) {sorted(kwargs)} for mode 'constant'")
        dt = value(a).dtype
        inner = tuple(slice(b, b + n) for (b, _), n in zip(pw, s))
        out_shape = tuple(int(b + n + e) for (b, e), n in zip(pw, s))
        out = index_add(a, inner, out_shape)
        if type(cv) is Tensor:
            if cv.ndim:
                raise TypeError("np.pad: a differentiated constant_values must be a scalar")
            border = np.pad(np.zeros(s, dtype=dt), pw, constant_values=1)
            return out + cv * border
        border = np.pad(np.zeros(s, dtype=dt), pw, constant_values=cv)
        return out + border if border.any() else out
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(
            f"np.pad: mode {mode!r} has no derivative rule in chainrule; supported: "
            f"'constant', 'edge', 'reflect', 'symmetric', 'wrap'")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("np.pad: reflect_type='odd' has no derivative rule in "
                                  "chainrule; use the default 'even'")
    if nd == 0:
        return a
    idx = [np.pad(np.arange(n), tuple(p), mode=mode, **kwargs) for n, p in zip(s, pw)]
    return getitem(a, np.ix_(*idx))


# ----- moving entries ---------------------------------------------------------------
@_register(np.roll)
def roll(a, shift, axis=None):
    """np.roll: entries shifted cyclically along axes (two slices joined per axis)."""
    a = pack(a)
    if axis is None:
        return reshape(roll.__wrapped__(reshape(a, (-1,)), shift, 0), shape_of(a))
    nd = _ndim(a)
    shifts = {}
    for sh, ax in np.broadcast(shift, axis):
        ax = _axis(ax, nd)
        shifts[ax] = shifts.get(ax, 0) + int(sh)
    for ax, sh in shifts.items():
        n = shape_of(a)[ax]
        if n == 0 or sh % n == 0:
            continue
        k = n - sh % n
        a = concatenate([getitem(a, _along(ax, slice(k, None))),
                         getitem(a, _along(ax, slice(0, k)))], ax)
    return a


@_register(np.flip)
def flip(m, axis=None):
    """np.flip: entries in reverse order along the axes."""
    m = pack(m)
    nd = _ndim(m)
    axes = _axes(axis, nd)
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(nd)))


@_register(np.fliplr)
def fliplr(m):
    """np.fliplr: reverse the second axis."""
    m = pack(m)
    if _ndim(m) < 2:
        raise ValueError("np.fliplr: Input must be >= 2-d.")
    return flip.__wrapped__(m, 1)


@_register(np.flipud)
def flipud(m):
    """np.flipud: reverse the first axis."""
    m = pack(m)
    if _ndim(m) < 1:
        raise ValueError("np.flipud: Input must be >= 1-d.")
    return flip.__wrapped__(m, 0)


@_register(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """np.rot90: rotate by 90 degrees k times in the plane of ``axes`` (NumPy's recipe)."""
    m = pack(m)
    nd = _ndim(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("np.rot90: len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == nd:
        raise ValueError("np.rot90: Axes must be different.")
    a0, a1 = _axis(axes[0], nd), _axis(axes[1], nd)
    k %= 4
    if k == 0:
        return getitem(m, ())
    if k == 2:
        return flip.__wrapped__(flip.__wrapped__(m, a0), a1)
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip.__wrapped__(m, a1), tuple(perm))
    return flip.__wrapped__(transpose(m, tuple(perm)), a1)


# ----- diagonals and triangles -------------------------------------------------------
@_register(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """np.diagonal: the diagonal of the (axis1, axis2) planes, as the last axis."""
    a = pack(a)
    nd = _ndim(a)
    if nd < 2:
        raise ValueError("np.diagonal: diag requires an array of at least two dimensions")
    ax1, ax2 = _axis(axis1, nd), _axis(axis2, nd)
    if ax1 == ax2:
        raise ValueError("np.diagonal: axis1 and axis2 cannot be the same")
    a = moveaxis.__wrapped__(a, (ax1, ax2), (-2, -1))
    n1, n2 = shape_of(a)[-2:]
    if offset >= 0:
        m = max(0, min(n1, n2 - offset))
        rows, cols = np.arange(m), np.arange(m) + offset
    else:
        m = max(0, min(n1 + offset, n2))
        rows, cols = np.arange(m) - offset, np.arange(m)
    return getitem(a, (Ellipsis, rows, cols))


@_register(np.diag)
def diag(v, k=0):
    """np.diag: the k-th diagonal of a matrix, or a matrix with v on its k-th diagonal."""
    v = pack(v)
    s = shape_of(v)
    if len(s) == 2:
        return diagonal.__wrapped__(v, k)
    if len(s) != 1:
        raise ValueError(f"np.diag: Input must be 1- or 2-d, got shape {s}")
    n = s[0] + abs(k)
    i = np.arange(s[0])
    return index_add(v, (i - min(k, 0), i + max(k, 0)), (n, n))


@_register(np.diagflat)
def diagflat(v, k=0):
    """np.diagflat: a matrix with the flattened input on its k-th diagonal."""
    return diag.__wrapped__(reshape(pack(v), (-1,)), k)


@_register(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """np.trace: the sum along a diagonal."""
    d = diagonal.__wrapped__(a, offset, axis1, axis2)
    return _sum(as_dtype("np.trace", d, dtype), -1)


def _triangle(m, mask):
    return where(mask, m, value(m).dtype.type(0))


@_register(np.tril)
def tril(m, k=0):
    """np.tril: the lower triangle (entries above the k-th diagonal set to 0)."""
    m = pack(m)
    return _triangle(m, np.tri(*shape_of(m)[-2:], k=k, dtype=bool))


@_register(np.triu)
def triu(m, k=0):
    """np.triu: the upper triangle (entries below the k-th diagonal set to 0)."""
    m = pack(m)
    return _triangle(m, ~np.tri(*shape_of(m)[-2:], k=k - 1, dtype=bool))


@_register(np.kron)
def kron(a, b):
    """np.kron: the Kronecker product (an outer product of interleaved axes, reshaped)."""
    a, b = pack(a), pack(b)
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return multiply(a, b)
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    a = reshape(a, tuple(x for d in sa for x in (d, 1)))
    b = reshape(b, tuple(x for d in sb for x in (1, d)))
    return reshape(multiply(a, b), tuple(x * y for x, y in zip(sa, sb)))


# ----- choosing and gathering --------------------------------------------------------
@_register(np.select)
def select(condlist, choicelist, default=0):
    """np.select: from the first choice whose condition holds (else default)."""
    if len(condlist) != len(choicelist):
        raise ValueError("np.select: list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("np.select: select with an empty condition list is not possible")
    out = pack(default)
    for c, ch in reversed(list(zip(condlist, choicelist))):
        c = pack(c)
        if np.asarray(value(c)).dtype != bool:
            raise TypeError("np.select: invalid entry in condlist: should be boolean ndarray")
        out = where(c, pack(ch), out)
    shapes = [shape_of(pack(x)) for x in list(condlist) + list(choicelist)]
    shape = np.broadcast_shapes(*shapes, shape_of(out))
    return out if shape_of(out) == shape else broadcast_to(out, shape)


@_register(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """np.take: entries at ``indices`` along ``axis`` (of the flattened array if None)."""
    a = pack(a)
    if axis is None:
        a, ax = reshape(a, (-1,)), 0
    else:
        ax = _axis(axis, _ndim(a))
    if mode in ("wrap", "clip"):
        n = shape_of(a)[ax]
        if type(indices) is Tensor:
            refuse_value(indices, f"np.take(mode={mode!r}) with traced indices")
        i = np.asarray(value(indices))
        indices = i % n if mode == "wrap" else np.clip(i, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"np.take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if isinstance(indices, list):
        indices = np.asarray(indices)
    return getitem(a, _along(ax, indices))


@_register(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """np.take_along_axis: gather along one axis with an index array of arr's rank."""
    arr = pack(arr)
    if axis is None:
        arr, axis = reshape(arr, (-1,)), 0
    s = shape_of(arr)
    nd = len(s)
    if _ndim(indices) != nd:
        raise ValueError(f"np.take_along_axis: `indices` and `arr` must have the same number "
                         f"of dimensions (got {_ndim(indices)} and {nd})")
    ax = _axis(axis, nd)
    idx = tuple(indices if d == ax else
                np.arange(s[d]).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1))
                for d in range(nd))
    return getitem(arr, idx)


_argsort = ConstantPrimitive(lambda a, axis=-1, kind=None: np.argsort(a, axis=axis, kind=kind),
                             "argsort")
_argpartition = ConstantPrimitive(
    lambda a, kth, axis=-1, kind="introselect": np.argpartition(a, kth, axis=axis, kind=kind),
    "argpartition")


@_register(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """np.sort: the entries in order; each output's gradient goes to the entry sorted there."""
    if order is not None:
        raise NotImplementedError("np.sort: order= (structured arrays) is not differentiable")
    a = pack(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), -1
    _axis(axis, _ndim(a))
    # stable unless asked otherwise: the values are the same, and tied entries get
    # their gradients in a defined order (as torch.sort(stable=True))
    kind = "stable" if stable or (kind is None and stable is None) else kind
    return take_along_axis.__wrapped__(a, _argsort(a, axis=axis, kind=kind), axis)


@_register(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """np.partition: the kth entries in sorted place; gradient to the entries that landed there."""
    if order is not None:
        raise NotImplementedError("np.partition: order= (structured arrays) is not "
                                  "differentiable")
    a = pack(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), -1
    _axis(axis, _ndim(a))
    return take_along_axis.__wrapped__(a, _argpartition(a, kth, axis=axis, kind=kind), axis)


# ----- gathering by labels ---------------------------------------------------------------
def _by_labels(parts, npfun):
    """``npfun`` applied to the parts' entry labels; the result gathers those entries.

    Each entry of each part gets a distinct integer label; NumPy's own function
    rearranges the labels (np.insert, np.choose, np.block, np.resize: every
    broadcasting and ordering rule is NumPy's), and the output reads the
    labelled entries from the parts joined flat. The gradient of an entry used
    several times adds up.
    """
    parts = [pack(p) for p in parts]
    labels, start = [], 0
    for p in parts:
        shp = shape_of(p)
        size = int(np.prod(shp, dtype=int))
        labels.append(np.arange(start, start + size).reshape(shp))
        start += size
    r = np.asarray(npfun(labels))
    flat = concatenate([reshape(p, (-1,)) for p in parts], 0)
    return getitem(flat, r)


@_register(np.insert)
def insert(arr, obj, values, axis=None):
    """np.insert: values inserted before the given indices (differentiable in arr and values)."""
    if type(obj) is Tensor:
        refuse_value(obj, "np.insert with traced indices")
    obj = value(obj)
    return _by_labels([arr, values], lambda lab: np.insert(lab[0], obj, lab[1], axis=axis))


@_register(np.choose)
def choose(a, choices, out=None, mode="raise"):
    """np.choose: each entry from the choice its index in ``a`` names (no derivative in a)."""
    if type(a) is Tensor:
        refuse_value(a, "np.choose with a traced index array")
    a = np.asarray(value(a))
    return _by_labels(list(choices), lambda lab: np.choose(a, lab, mode=mode))


@_register(np.resize)
def resize(a, new_shape):
    """np.resize: the entries repeated in order to fill new_shape."""
    return _by_labels([a], lambda lab: np.resize(lab[0], new_shape))


@_register(np.block)
def block(arrays):
    """np.block: an array assembled from nested lists of blocks (NumPy's depth rules)."""
    flat, todo = [], [arrays]
    while todo:  # the blocks, in order, wherever they sit in the nesting
        x = todo.pop()
        if isinstance(x, list):
            todo.extend(reversed(x))
        else:
            flat.append(x)

    def rebuild(labels):
        it = iter(labels)

        def walk(x):
            return [walk(i) for i in x] if isinstance(x, list) else next(it)
        return np.block(walk(arrays))
    return _by_labels(flat, rebuild)


@_register(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """np.unwrap: p plus multiples of period (piecewise constant): the gradient is the identity."""
    p = pack(p)
    return p + _unwrap_shift(p, discont=discont, axis=axis, period=period)


# a recorded constant, so that cr.jit recomputes the shifts from each call's input
_unwrap_shift = ConstantPrimitive(
    lambda p, discont, axis, period: np.unwrap(p, discont, axis, period=period) - p,
    "unwrap_shift")


@_register(np.sort_complex)
def sort_complex(a):
    """np.sort_complex: sorted by real part, then imaginary part, as complex numbers."""
    s = sort.__wrapped__(pack(a), axis=-1)
    dt = value(s).dtype
    return s if dt.kind == "c" else cast(s, np.result_type(dt, np.complex64))


@_register(np.vander)
def vander(x, N=None, increasing=False):
    """np.vander: the powers of x as columns (decreasing unless increasing=True)."""
    x = pack(x)
    if _ndim(x) != 1:
        raise ValueError("np.vander: x must be a one-dimensional array or sequence.")
    N = shape_of(x)[0] if N is None else int(N)
    powers = np.arange(N) if increasing else np.arange(N - 1, -1, -1)
    return reshape(x, (-1, 1)) ** powers.astype(value(x).dtype)


# ----- applying functions -----------------------------------------------------------------
@_register(np.apply_along_axis)
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """np.apply_along_axis: func1d on every 1-D slice along axis, results stacked in its place.

    One call of func1d per slice, recorded like any program (func1d must
    compute with chainrule's operations or NumPy dispatch for a gradient).
    """
    a = pack(arr)
    nd = _ndim(a)
    ax = _axis(axis, nd)
    a = moveaxis.__wrapped__(a, ax, -1)
    outer = shape_of(a)[:-1]
    if 0 in outer:
        raise ValueError("np.apply_along_axis: Cannot apply_along_axis when any iteration "
                         "dimensions are 0")
    res = [pack(func1d(getitem(a, idx), *args, **kwargs)) for idx in np.ndindex(*outer)]
    res = [r if type(r) is Tensor else np.asarray(r) for r in res]
    rshape = shape_of(res[0])
    out = reshape(stack(res, 0), outer + rshape)
    # the result's own axes go where the applied axis was
    k = len(rshape)
    perm = list(range(ax)) + list(range(len(outer), len(outer) + k)) + \
        list(range(ax, len(outer)))
    return transpose(out, tuple(perm))


@_register(np.apply_over_axes)
def apply_over_axes(func, a, axes):
    """np.apply_over_axes: func(a, axis) for each axis in turn, keeping the rank."""
    a = pack(a)
    for axis in np.atleast_1d(axes):
        nd = _ndim(a)
        axis = int(axis) % nd if nd else int(axis)
        b = pack(func(a, axis))
        if _ndim(b) == nd - 1:
            b = reshape(b, shape_of(b)[:axis] + (1,) + shape_of(b)[axis:])
        elif _ndim(b) != nd:
            raise ValueError("np.apply_over_axes: function is not returning an array of the "
                             "correct shape")
        a = b
    return a


@_register(np.trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    """np.trim_zeros: leading/trailing zeros cut off (where is read from the values)."""
    a = pack(filt)
    refuse_value(a, "np.trim_zeros (the result's shape depends on the values)")
    v = np.asarray(value(a))
    trim = trim.lower()
    if trim not in ("f", "b", "fb", "bf"):
        raise ValueError(f"np.trim_zeros: unexpected character(s) in `trim`: {trim!r}")
    nz = np.nonzero(v)
    idx = []
    for d, n in enumerate(v.shape):
        if axis is not None and d not in _axes(axis, v.ndim):
            idx.append(slice(None))
            continue
        if nz[d].size == 0:
            idx.append(slice(0, 0))
            continue
        idx.append(slice(int(nz[d].min()) if "f" in trim else 0,
                         int(nz[d].max()) + 1 if "b" in trim else n))
    return getitem(a, tuple(idx))


@_register(np.asarray_chkfinite)
def asarray_chkfinite(a, dtype=None, order=None):
    """np.asarray_chkfinite: a itself, after checking that every entry is finite."""
    a = pack(a)
    refuse_value(a, "np.asarray_chkfinite (it checks the values)")
    if value(a).dtype.kind in "fc" and not np.isfinite(value(a)).all():
        raise ValueError("np.asarray_chkfinite: array must not contain infs or NaNs")
    return as_dtype("np.asarray_chkfinite", a, dtype)


# ----- differences ------------------------------------------------------------------------
@_register(np.diff)
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """np.diff: the n-th discrete difference along an axis (prepend/append joined first)."""
    a = pack(a)
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"np.diff: order must be non-negative but got {n}")
    s = shape_of(a)
    if not s:
        raise ValueError("np.diff requires input that is at least one dimensional")
    ax = _axis(axis, len(s))
    parts = []
    for extra in (prepend, a, append):
        if extra is None:
            continue
        extra = pack(extra)
        if not shape_of(extra):  # a scalar: one slice of a's shape
            extra = broadcast_to(extra, s[:ax] + (1,) + s[ax + 1:])
        parts.append(extra)
    if len(parts) > 1:
        a = concatenate(parts, ax)
    for _ in range(n):
        a = getitem(a, _along(ax, slice(1, None))) - getitem(a, _along(ax, slice(None, -1)))
    return a


def _gradient_weights(n, spacing, edge_order):
    """NumPy's finite-difference weights along an axis of length n: {offset: weights (n,)}.

    np.gradient is linear and banded (offsets -2..2), so applying it to the
    five combs e_r (ones where i % 5 == r) reads every weight: row i of
    gradient(e_r) is the weight of the one column j = i + o with j % 5 == r.
    """
    rows = np.arange(n)
    w = {o: np.zeros(n) for o in range(-2, 3)}
    for r in range(5):
        comb = (rows % 5 == r).astype(float)
        d = np.gradient(comb, *spacing, edge_order=edge_order)
        for o in range(-2, 3):
            hit = (rows + o) % 5 == r
            w[o][hit] = d[hit]
    for o in range(-2, 3):  # columns outside the axis carry no weight
        w[o][(rows + o < 0) | (rows + o >= n)] = 0.0
    return {o: v for o, v in w.items() if v.any()}


@_register(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient: central differences inside, one-sided at the edges (NumPy's weights).

    Differentiable in f (the spacings and coordinates are constants): each
    output is a fixed weighted sum of at most five neighbours, with the exact
    weights NumPy uses (read off np.gradient itself).
    """
    f = pack(f)
    s = shape_of(f)
    nd = len(s)
    axes = _axes(axis, nd)
    if len(varargs) == 0:
        spacings = [()] * len(axes)
    elif len(varargs) == 1 and np.ndim(value(varargs[0])) == 0:
        spacings = [(value(varargs[0]),)] * len(axes)
    elif len(varargs) == len(axes):
        spacings = [(value(v),) for v in varargs]
    else:
        raise TypeError("np.gradient: invalid number of arguments")
    outs = []
    dt = value(f).dtype
    for ax, sp in zip(axes, spacings):
        n = s[ax]
        if n < edge_order + 1:
            raise ValueError("np.gradient: Shape of array too small to calculate a numerical "
                             "gradient, at least (edge_order + 1) elements are required.")
        idx = np.arange(n)
        out = None
        for o, w in _gradient_weights(n, sp, edge_order).items():
            shape = (1,) * ax + (n,) + (1,) * (nd - ax - 1)
            term = getitem(f, _along(ax, np.clip(idx + o, 0, n - 1))) * \
                w.astype(dt).reshape(shape)
            out = term if out is None else out + term
        outs.append(out)
    return outs[0] if len(outs) == 1 else tuple(outs)


# ----- building arrays -----------------------------------------------------------------
@_register(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """np.linspace: evenly spaced values, differentiable in start and stop.

    y_i = start + (stop - start) * i / div, and the last value is ``stop``
    itself when endpoint=True (as NumPy): d y_i / d start = 1 - i/div,
    d y_i / d stop = i/div.
    """
    num = int(num)
    if num < 0:
        raise ValueError(f"np.linspace: Number of samples, {num}, must be non-negative.")
    start, stop = pack(start), pack(stop)
    div = (num - 1) if endpoint else num
    nd = max(_ndim(start), _ndim(stop))
    dt = np.result_type(value(start), value(stop), float(num))  # NumPy's: float32 stays
    frac = (np.arange(num, dtype=dt) / (div if div > 0 else 1)).reshape((-1,) + (1,) * nd)
    delta = stop - start
    y = start + frac * delta
    if endpoint and num > 1:
        last = (np.arange(num) == num - 1).reshape((-1,) + (1,) * nd)
        y = where(last, stop, y)
    if axis != 0:
        y = moveaxis.__wrapped__(y, 0, axis)
    y = as_dtype("np.linspace", y, dtype)
    if retstep:
        return y, (delta / div if div > 0 else np.nan)
    return y


@_register(np.arange)
def arange(*args, dtype=None, device=None, like=None, **kw):
    """np.arange: start + i * step for i < the count NumPy gives; differentiable in start, step.

    stop only decides how many values there are (read from the values; refused
    under cr.jit), so its derivative is 0.
    """
    names = {1: ("stop",), 2: ("start", "stop"), 3: ("start", "stop", "step")}.get(len(args))
    if names is None:
        raise TypeError(f"np.arange: takes 1 to 3 positional arguments, got {len(args)}")
    given = dict(zip(names, args), **kw)
    start, stop, step = given.get("start", 0), given.get("stop"), given.get("step", 1)
    if stop is None:
        start, stop = 0, start
    for x in (start, stop, step):
        if type(x) is Tensor:
            refuse_value(x, "np.arange of traced values (its length depends on them)")
    n = len(np.arange(value(start), value(stop), value(step)))
    dt = np.result_type(value(start), value(stop), value(step))
    return as_dtype("np.arange", start + np.arange(n).astype(dt) * step, dtype)


@_register(np.logspace)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """np.logspace: base ** linspace(start, stop), differentiable in start and stop."""
    y = linspace.__wrapped__(start, stop, num, endpoint, axis=axis)
    if type(base) is Tensor:
        raise NotImplementedError("np.logspace: a differentiated base has no rule in "
                                  "chainrule; write base ** np.linspace(start, stop, num)")
    base = np.asarray(base)
    if base.ndim:
        base = np.expand_dims(base, axis=axis)
    return as_dtype("np.logspace", base.astype(value(y).dtype) ** y, dtype)


@_register(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """np.geomspace: a geometric progression, differentiable in start and stop (real, one sign).

    exp(linspace(log|start|, log|stop|)) with the sign of the endpoints; the
    first and last values are start and stop exactly (as NumPy).
    """
    start, stop = pack(start), pack(stop)
    sv, ev = np.asarray(value(start)), np.asarray(value(stop))
    if sv.dtype.kind == "c" or ev.dtype.kind == "c":
        raise NotImplementedError("np.geomspace: complex endpoints have no rule in chainrule")
    if np.any(sv == 0) or np.any(ev == 0):
        raise ValueError("np.geomspace: Geometric sequence cannot include zero")
    sign = np.sign(sv)
    if np.any(sign != np.sign(ev)):
        raise NotImplementedError("np.geomspace: endpoints of opposite signs (a complex "
                                  "sequence) have no rule in chainrule")
    y = exp(linspace.__wrapped__(log(start * sign), log(stop * sign), num, endpoint))
    nd = max(sv.ndim, ev.ndim)
    y = y * sign.astype(value(y).dtype)
    first = (np.arange(num) == 0).reshape((-1,) + (1,) * nd)
    y = where(first, start, y) if num > 0 else y
    if endpoint and num > 1:
        y = where((np.arange(num) == num - 1).reshape((-1,) + (1,) * nd), stop, y)
    if axis != 0:
        y = moveaxis.__wrapped__(y, 0, axis)
    return as_dtype("np.geomspace", y, dtype)


@_register(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """np.nan_to_num: NaN and infinities replaced by numbers (gradient 0 there, 1 elsewhere)."""
    x = pack(x)
    dt = value(x).dtype
    if dt.kind not in "fc":
        return x
    if dt.kind == "c":
        raise TypeError("np.nan_to_num: complex input has no derivative rule in chainrule; "
                        "apply it to the real and imaginary parts")
    info = np.finfo(dt)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    y = where(isnan(x), dt.type(nan), x)
    y = where(equal(x, np.inf), dt.type(posinf), y)
    return where(equal(x, -np.inf), dt.type(neginf), y)


@_register(np.real_if_close)
def real_if_close(a, tol=100):
    """np.real_if_close: the real part if every imaginary part is within tol machine epsilons."""
    a = pack(a)
    v = value(a)
    if v.dtype.kind != "c":
        return a
    refuse_value(a, "np.real_if_close (its result's dtype depends on the values)")
    eps = np.finfo(v.dtype).eps
    if not np.all(np.abs(v.imag) < (tol * eps if tol > 1 else tol)):
        return a
    real = ufuncs.NUMPY_IMPLS.get(np.real)
    if real is None:
        raise NotImplementedError("np.real_if_close: needs np.real's derivative rule, not "
                                  "available in chainrule yet")
    return real(a)


@_register(np.full)
def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    """np.full: an array of ``shape`` filled with fill_value (differentiable in fill_value)."""
    fill = as_dtype("np.full", pack(fill_value), dtype)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    return broadcast_to(fill, shape)


@_register(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """np.full_like: fill_value in a's shape; differentiable in fill_value, not in a."""
    fill = pack(fill_value)
    if not has_tensor((fill,)):
        return np.full_like(value(pack(a)), fill, dtype=dtype, order=order, shape=shape)
    fill = as_dtype("np.full_like", fill, value(pack(a)).dtype if dtype is None else dtype)
    if shape is None:
        shape = shape_of(pack(a))
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    return broadcast_to(fill, shape)


def _constant_like(npfun):
    def impl(a, *args, **kw):
        return npfun(value(pack(a)), *args, **kw)
    impl.__name__ = impl.__qualname__ = npfun.__name__
    impl.__doc__ = f"np.{npfun.__name__}: a new array of a's shape (no gradient)."
    wrapped = _register(npfun)(impl)
    wrapped.chainrule_kind = "no derivative"  # for chainrule.numpy and docs/numpy.md
    return wrapped


zeros_like = _constant_like(np.zeros_like)
ones_like = _constant_like(np.ones_like)
empty_like = _constant_like(np.empty_like)


@_register(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    """np.broadcast_arrays: every input broadcast to their common shape."""
    args = [pack(a) for a in args]
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(a if shape_of(a) == shape else broadcast_to(a, shape) for a in args)


_copy = Primitive(lambda x: np.array(x, copy=True), "copy")
_copy.defvjp(lambda g, ans, x: g)
_copy.defjvp(linear_jvp(_copy, 0))


@_register(np.copy)
def copy(a, order="K", subok=False):
    """np.copy: a new array with a's entries (the gradient passes through)."""
    return _copy(pack(a))


# For docs/numpy.md (tools/gen_numpy_table.py).
CONVENTIONS = {
    np.sort: "to the entry sorted into each place; ties in stable-sort order",
    np.partition: "to the entry placed at each position (NumPy's argpartition)",
    np.pad: "modes constant (a scalar Tensor constant_values is differentiated), edge, "
            "reflect, symmetric, wrap",
    np.linspace: "in start and stop; the last value is stop exactly",
    np.nan_to_num: "gradient 0 at replaced entries",
    np.full: "in fill_value", np.full_like: "in fill_value, not in a",
    np.zeros_like: "no gradient", np.ones_like: "no gradient", np.empty_like: "no gradient",
    np.select: "no derivative in the conditions", np.take: "no derivative in the indices",
    np.take_along_axis: "no derivative in the indices",
    np.tril: "masked by where (an inf outside the triangle gives no NaN)",
    np.triu: "masked by where (an inf outside the triangle gives no NaN)",
    np.gradient: "in f; spacings and coordinates are constants",
    np.repeat: "repeated entries add their gradients", np.tile: "copies add their gradients",
    np.insert: "in arr and values, not in the indices", np.choose: "in the choices, not in a",
    np.unwrap: "identity (the added multiples of period are constants)",
    np.logspace: "in start and stop (base constant)",
    np.geomspace: "in start and stop; real endpoints of one sign; ends exact",
    np.arange: "in start and step (stop only sets the length)",
    np.apply_along_axis: "through func1d's own operations, slice by slice",
    np.apply_over_axes: "through func's own operations",
    np.trim_zeros: "to the kept entries (which: read from the values)",
}

__all__ = sorted(f.__name__ for f in NUMPY_IMPLS.values())
