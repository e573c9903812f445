"""NumPy's dispatch protocols: ``np.tanh(t)``, ``np.sum(t)`` on a Tensor record the
same vertices as ``cr.tanh(t)``, ``cr.sum(t)``.

Functions without a derivative here (comparisons, ``np.sign``, ``np.argmax``,
``np.isfinite``...) run on the values and return plain arrays. Anything else
is refused with the name of the chainrule operation to use, rather than
silently dropping the gradient.
"""
import numpy as np

from ..tensor import Tensor
from . import compare as C, elementwise as E, linalg as L, nn as N, reduce as R, shape as S

UFUNCS = {
    np.add: E.add, np.subtract: E.subtract, np.multiply: E.multiply,
    np.divide: E.divide, np.true_divide: E.divide, np.negative: E.negative,
    np.power: E.power, np.exp: E.exp, np.log: E.log, np.sqrt: E.sqrt,
    np.square: E.square, np.absolute: E.abs, np.sin: E.sin, np.cos: E.cos,
    np.tanh: E.tanh, np.maximum: E.maximum, np.minimum: E.minimum, np.matmul: L.matmul,
}

UFUNCS.update({
    np.greater: C.greater, np.greater_equal: C.greater_equal, np.less: C.less,
    np.less_equal: C.less_equal, np.equal: C.equal, np.not_equal: C.not_equal,
    np.logical_and: C.logical_and, np.logical_or: C.logical_or,
    np.logical_not: C.logical_not, np.sign: C.sign, np.isfinite: C.isfinite,
    np.isnan: C.isnan,
})

# Piecewise-constant or boolean results: no gradient to lose.
CONSTANT_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.sign, np.floor, np.ceil, np.rint, np.trunc, np.isfinite, np.isnan, np.isinf,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.signbit,
}


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return R.sum(a, axis, keepdims=keepdims)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return R.mean(a, axis, keepdims=keepdims)


def _max(a, axis=None, out=None, keepdims=False, **kw):
    return R.max(a, axis, keepdims=keepdims)


def _min(a, axis=None, out=None, keepdims=False, **kw):
    return R.min(a, axis, keepdims=keepdims)


FUNCTIONS = {
    np.sum: _sum, np.mean: _mean, np.max: _max, np.amax: _max, np.min: _min, np.amin: _min,
    np.reshape: lambda a, shape=None, **kw: S.reshape(a, kw.get("newshape", shape)),
    np.transpose: lambda a, axes=None: S.transpose(a, axes),
    np.expand_dims: S.expand_dims, np.squeeze: lambda a, axis=None: S.squeeze(a, axis),
    np.broadcast_to: lambda a, shape, **kw: S.broadcast_to(a, shape),
    np.concatenate: lambda arrays, axis=0, **kw: S.concatenate(arrays, axis),
    np.stack: lambda arrays, axis=0, **kw: S.stack(arrays, axis),
    np.where: E.where, np.clip: lambda a, a_min=None, a_max=None, **kw: E.clip(a, a_min, a_max),
    np.dot: L.dot,
}

CONSTANT_FUNCTIONS = {
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.sign, np.isfinite,
    np.isnan, np.allclose, np.isclose, np.array_equal, np.zeros_like, np.ones_like,
    np.empty_like, np.result_type, np.all, np.any, np.count_nonzero, np.nonzero,
    np.may_share_memory, np.shares_memory, np.array2string, np.array_repr, np.copy,
}


def _values(x):
    if type(x) is Tensor:
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_values(i) for i in x)
    return x


def array_ufunc(ufunc, method, inputs, kwargs):
    if method == "__call__" and not kwargs.get("out"):
        op = UFUNCS.get(ufunc)
        if op is not None and not kwargs:
            return op(*inputs)
        if ufunc in CONSTANT_UFUNCS:
            return ufunc(*_values(inputs), **kwargs)
    raise TypeError(
        f"np.{ufunc.__name__} (method {method!r}{', with out=' if kwargs.get('out') else ''}) "
        f"has no derivative rule in chainrule. Use the chainrule operation of that name "
        f"(cr.{ufunc.__name__}) if there is one, or np.asarray(t) to compute on the value "
        f"without gradient.")


def array_function(func, args, kwargs):
    op = FUNCTIONS.get(func)
    if op is not None:
        return op(*args, **kwargs)
    if func in CONSTANT_FUNCTIONS:
        return func(*_values(args), **{k: _values(v) for k, v in kwargs.items()})
    raise TypeError(
        f"np.{func.__name__} has no derivative rule in chainrule. Use a chainrule "
        f"operation instead (see cr.__all__), or np.asarray(t) to compute on the value "
        f"without gradient.")
