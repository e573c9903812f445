"""Shape operations and indexing: they move entries around, so their rules do too.

Each is linear in its array input, so its JVP is the op itself applied to the
tangent (``linear_jvp``). Indexing's VJP scatters g back into a zero array of
the input's shape (``index_add``), adding where an integer index repeats.
"""
import numpy as np

from ..primitive import Each, Primitive
from ..state import refuse_value
from ..tensor import Tensor
from ._util import linear_jvp, shape_of


def _linear(fun, name, vjp):
    op = Primitive(fun, name)
    op.defvjp(vjp)
    op.defjvp(linear_jvp(op, 0))
    return op


# Forward functions call the ndarray method when they can: NumPy's module-level
# wrappers (np.reshape, np.transpose) cost more than the work on small arrays.
def _reshape_fun(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)


def _transpose_fun(x, axes=None):
    return x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes)


reshape = _linear(_reshape_fun, "reshape", lambda g, ans, x, shape: reshape(g, shape_of(x)))


def _transpose_vjp(g, ans, x, axes=None):
    return transpose(g, None if axes is None else tuple(np.argsort(axes)))


transpose = _linear(_transpose_fun, "transpose", _transpose_vjp)
expand_dims = _linear(lambda x, axis: np.expand_dims(x, axis), "expand_dims",
                      lambda g, ans, x, axis: reshape(g, shape_of(x)))
squeeze = _linear(lambda x, axis=None: np.squeeze(x, axis), "squeeze",
                  lambda g, ans, x, axis=None: reshape(g, shape_of(x)))


broadcast_to = _linear(lambda x, shape: np.broadcast_to(x, shape), "broadcast_to",
                       lambda g, ans, x, shape: unbroadcast(g, shape_of(x)))


def _unbroadcast_fun(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


# The transpose of broadcast_to, and the one un-broadcast of the engine: a
# broadcasting op's VJP rule may return an output-shaped cotangent, which the
# backward pass sums back to the input's shape with this.
unbroadcast = _linear(_unbroadcast_fun, "unbroadcast",
                      lambda g, ans, x, shape: broadcast_to(g, shape_of(x)))


def swapaxes_last(x):
    """Swap the last two axes (a matrix transpose over a batch)."""
    if type(x) is np.ndarray:
        return x.swapaxes(-1, -2)  # a constant or a first-order rule's value: a view
    nd = len(shape_of(x))
    axes = list(range(nd))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, tuple(axes))


# ----- indexing ------------------------------------------------------------------
class _ArraySlot:
    """Marks, in an index ``spec``, the place of an index array passed as an input."""
    __slots__ = ()

    def __repr__(self):
        return "<array>"


ARRAY = _ArraySlot()


def split_index(idx):
    """An index as (spec, arrays): its static parts, and its index arrays.

    The index arrays become inputs of the recorded vertex (so a replayed
    program, ``cr.jit``, reads the new ones); slices, integers, None and
    Ellipsis stay in ``spec``. Boolean masks become ``nonzero()`` integer
    arrays, so forward and backward (``np.add.at``) read the same entries.
    """
    if not isinstance(idx, tuple):
        idx = (idx,)
    spec, arrays = [], []
    for i in idx:
        if type(i) is Tensor:
            if i.value.dtype != bool:
                spec.append(ARRAY)
                arrays.append(i)
                continue
            refuse_value(i, "indexing with a boolean mask (the result's shape depends on it)")
            i = i.value
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray):
            for part in (np.nonzero(i) if i.dtype == bool else (i,)):
                spec.append(ARRAY)
                arrays.append(part)
        else:
            spec.append(i)
    return tuple(spec), arrays


def _full_index(spec, arrays):
    if len(spec) == len(arrays):  # only index arrays, as in q[rows, labels]
        return tuple(arrays)
    it = iter(arrays)
    return tuple([next(it) if s is ARRAY else s for s in spec])


def _take_fun(x, *arrays, spec):
    return x[_full_index(spec, arrays)]


def _index_add_fun(g, *arrays, spec, shape):
    out = np.zeros(shape, dtype=g.dtype if type(g) is np.ndarray else np.result_type(g))
    idx = _full_index(spec, arrays)
    if arrays:
        np.add.at(out, idx, g)  # an integer array may repeat an entry: add, not assign
    else:
        out[idx] = g  # basic indexing never hits an entry twice
    return out


def _first_only(rule):
    """Rules of an op differentiable in its first input only (index arrays have none)."""
    return Each(lambda k: rule if k == 0 else None)


_take = Primitive(_take_fun, "getitem")


def _take_vjp(g, ans, x, *arrays, spec):
    if type(g) is np.ndarray and all(type(a) is np.ndarray for a in arrays):
        # first order (cr.jit traces index arrays: those go through the op): the
        # function itself, skipping the op's call
        return _index_add_fun(g, *arrays, spec=spec, shape=shape_of(x))
    return _index_add(g, *arrays, spec=spec, shape=shape_of(x))


_take.vjps = _first_only(_take_vjp)
_take.jvps = _first_only(linear_jvp(_take, 0))
_index_add = Primitive(_index_add_fun, "index_add")
_index_add.vjps = _first_only(lambda g, ans, gg, *arrays, spec, shape:
                              _take(g, *arrays, spec=spec))
_index_add.jvps = _first_only(linear_jvp(_index_add, 0))


def getitem(x, idx):
    """x[idx] with NumPy semantics: slices, integers, integer arrays, boolean masks."""
    spec, arrays = split_index(idx)
    return _take(x, *arrays, spec=spec)


def index_add(g, idx, shape):
    """A zero array of ``shape`` with g added at ``idx`` (the VJP of indexing)."""
    spec, arrays = split_index(idx)
    return _index_add(g, *arrays, spec=spec, shape=tuple(shape))


# ----- joining ---------------------------------------------------------------------
def _concat_fun(*arrays, axis=0):
    return np.concatenate(arrays, axis=axis)


def _concat_vjp(k):
    def rule(g, ans, *arrays, axis=0):
        ax = axis % ans.ndim if axis is not None else None
        if ax is None:
            raise NotImplementedError("concatenate(axis=None) is not differentiable here; "
                                      "reshape the inputs to 1-D first.")
        start = int(np.sum([shape_of(a)[ax] for a in arrays[:k]], dtype=int))
        stop = start + shape_of(arrays[k])[ax]
        return getitem(g, (slice(None),) * ax + (slice(start, stop),))
    return rule


def _join_jvp(op):
    """JVP rules of a join (concatenate, stack): join t with zeros in the others' places."""
    def factory(k):
        def rule(t, ans, *arrays, axis=0):
            parts = [t if j == k else np.zeros(shape_of(a), dtype=ans.dtype)
                     for j, a in enumerate(arrays)]
            return op(*parts, axis=axis)
        return rule
    return Each(factory)


_concat = Primitive(_concat_fun, "concatenate")
_concat.vjps = Each(_concat_vjp)
_concat.jvps = _join_jvp(_concat)


# A join's rule for input k is called with all n inputs, so one vertex joining n
# arrays costs O(n^2) in the backward pass (and in forward mode). Longer joins are
# recorded as a tree of joins of at most _JOIN inputs: O(n) rule work, log n copies.
_JOIN = 64


def concatenate(arrays, axis=0):
    """Join a sequence of arrays along an existing axis (np.concatenate)."""
    arrays = list(arrays)
    while len(arrays) > _JOIN:
        arrays = [_concat(*arrays[i:i + _JOIN], axis=axis)
                  for i in range(0, len(arrays), _JOIN)]
    return _concat(*arrays, axis=axis)


def _stack_fun(*arrays, axis=0):
    return np.stack(arrays, axis=axis)


def _stack_vjp(k):
    def rule(g, ans, *arrays, axis=0):
        ax = axis % ans.ndim
        return getitem(g, (slice(None),) * ax + (k,))
    return rule


_stack = Primitive(_stack_fun, "stack")
_stack.vjps = Each(_stack_vjp)
_stack.jvps = _join_jvp(_stack)


def stack(arrays, axis=0):
    """Join a sequence of same-shaped arrays along a new axis (np.stack)."""
    arrays = list(arrays)
    if len(arrays) > _JOIN:  # stacks of chunks, joined along the new axis (see _JOIN)
        return concatenate([_stack(*arrays[i:i + _JOIN], axis=axis)
                            for i in range(0, len(arrays), _JOIN)], axis=axis)
    return _stack(*arrays, axis=axis)


