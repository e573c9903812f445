"""NumPy's dispatch protocols: ``np.tanh(t)``, ``np.sum(t)`` on a Tensor record the
same vertices as ``cr.tanh(t)``, ``cr.sum(t)``.

Lookup order: the core ops (``UFUNCS``, ``FUNCTIONS``), then the catalogue
(``catalogue.IMPLS``: ufuncs, reductions, assembly, products, np.linalg,
np.fft), then ``npextra`` (compositions: diff, convolve, interp, cov...). For
functions the catalogue comes first: its entries take NumPy's whole signature. Functions without a derivative (``NO_DERIVATIVE``:
comparisons, ``np.sign``, ``np.argmax``, ``np.isfinite``, ``np.shape``,
``np.zeros_like``...) run on the values and return plain arrays, as in HIPS
autograd. Anything else is refused with the name of what to use, rather than
silently dropping the gradient.
"""
import numpy as np

from ..state import refuse_value
from ..tensor import Tensor
from ._util import pack
from . import catalogue, npextra
from . import compare as C, elementwise as E, linalg as L, reduce as R, shape as S, ufuncs as U

UFUNCS = {
    np.add: E.add, np.subtract: E.subtract, np.multiply: E.multiply,
    np.divide: E.divide, np.true_divide: E.divide, np.negative: E.negative,
    np.power: E.power, np.exp: E.exp, np.log: E.log, np.sqrt: E.sqrt,
    np.square: E.square, np.sin: E.sin, np.cos: E.cos,
    np.tanh: E.tanh, np.maximum: E.maximum, np.minimum: E.minimum, np.matmul: L.matmul,
    # the complex-aware absolute (its VJP is conj(z)/|z| g on complex input)
    np.absolute: U.absolute,
}

UFUNCS.update({
    np.greater: C.greater, np.greater_equal: C.greater_equal, np.less: C.less,
    np.less_equal: C.less_equal, np.equal: C.equal, np.not_equal: C.not_equal,
    np.logical_and: C.logical_and, np.logical_or: C.logical_or,
    np.logical_not: C.logical_not, np.sign: C.sign, np.isfinite: C.isfinite,
    np.isnan: C.isnan,
})


def _names(module, names):
    """The callables of ``module`` with these names (those this NumPy version has)."""
    return {getattr(module, n) for n in names.split() if hasattr(module, n)}


# Piecewise-constant, boolean, integer or shape-valued results: no gradient to lose
# (HIPS autograd's list, and the rest of NumPy's functions of that kind).
CONSTANT_UFUNCS = {f for f in _names(np, """
    greater greater_equal less less_equal equal not_equal sign floor ceil rint trunc
    isfinite isnan isinf isnat logical_and logical_or logical_not logical_xor signbit
    floor_divide spacing bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_count
    invert left_shift right_shift gcd lcm""") if isinstance(f, np.ufunc)}

NO_DERIVATIVE = CONSTANT_UFUNCS | _names(np, """
    round around fix isposinf isneginf iscomplex isreal iscomplexobj isrealobj isscalar
    all any argmax argmin argpartition argsort argwhere nonzero flatnonzero count_nonzero
    searchsorted digitize bincount
    lexsort unravel_index ravel_multi_index indices ndindex ndenumerate
    tril_indices triu_indices tril_indices_from triu_indices_from diag_indices
    diag_indices_from mask_indices isin in1d
    shape ndim size allclose isclose array_equal array_equiv result_type can_cast
    min_scalar_type promote_types common_type zeros_like ones_like empty_like
    may_share_memory shares_memory array2string array_repr array_str
    nanargmax nanargmin iterable
    empty eye identity ones zeros tri bartlett blackman hamming hanning base_repr binary_repr
    broadcast_shapes einsum_path packbits unpackbits isdtype issubdtype mintypecode
    typename format_float_positional format_float_scientific datetime_as_string
    datetime_data busday_count busday_offset is_busday""") | _names(np.linalg, "matrix_rank")

# Functions that read only shapes and dtypes, never values: allowed on arrays cr.jit
# traces (a new shape or dtype is a new trace).
METADATA = _names(np, """
    shape ndim size result_type iscomplexobj isrealobj isscalar zeros_like ones_like
    empty_like may_share_memory shares_memory common_type iterable can_cast""")

# The old name, kept for readers of this module.
CONSTANT_FUNCTIONS = NO_DERIVATIVE - CONSTANT_UFUNCS


def _reduction(op, name, has_dtype):
    """np.<name> on Tensors: NumPy's signature, lists of Tensors stacked, out= refused.

    Called with only the array (the common case) it calls the primitive without
    keyword arguments: the primitive's fast path (cnp.sum(t) costs what cr.sum(t) does).
    """
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if type(a) is not Tensor and isinstance(a, (list, tuple)):
            a = pack(a)
        if out is not None:
            raise TypeError(f"np.{name}: out= is not supported on Tensors (a result is a new "
                            f"vertex of the graph); write y = np.{name}(...) instead")
        if keepdims:
            r = op(a, axis, keepdims=True)
        elif axis is None:
            r = op(a)
        else:
            r = op(a, axis)
        if dtype is not None and np.dtype(dtype) != r.dtype:
            r = E.cast(r, np.dtype(dtype))
        return r

    if not has_dtype:
        def reduce_(a, axis=None, out=None, keepdims=False, **kw):
            return reduce(a, axis, None, out, keepdims)
        reduce_.__name__ = reduce_.__qualname__ = name
        reduce_.packs = True
        return reduce_
    reduce.__name__ = reduce.__qualname__ = name
    reduce.packs = True  # takes lists of Tensors itself: chainrule.numpy hands it out as is
    return reduce


_sum = _reduction(R.sum, "sum", True)
_mean = _reduction(R.mean, "mean", True)
_max = _reduction(R.max, "max", False)
_min = _reduction(R.min, "min", False)


def _where(condition, x=None, y=None):
    """np.where: one argument is np.nonzero (indices, no gradient); three select."""
    if x is None and y is None:
        return np.nonzero(deep_values(condition))
    if x is None or y is None:
        raise ValueError("np.where: give either only the condition (np.nonzero's indices) "
                         "or all three of condition, x and y")
    return E.where(condition, x, y)


FUNCTIONS = {
    np.sum: _sum, np.mean: _mean, np.max: _max, np.amax: _max, np.min: _min, np.amin: _min,
    np.reshape: lambda a, shape=None, **kw: S.reshape(a, kw.get("newshape", shape)),
    np.transpose: lambda a, axes=None: S.transpose(a, axes),
    np.expand_dims: S.expand_dims, np.squeeze: lambda a, axis=None: S.squeeze(a, axis),
    np.broadcast_to: lambda a, shape, **kw: S.broadcast_to(a, shape),
    np.concatenate: lambda arrays, axis=0, **kw: S.concatenate(arrays, axis),
    np.stack: lambda arrays, axis=0, **kw: S.stack(arrays, axis),
    np.where: _where, np.clip: lambda a, a_min=None, a_max=None, **kw: E.clip(a, a_min, a_max),
    np.dot: L.dot,
    # identity (a vertex of its own); the catalogue's np.copy, when there is one, comes first
    np.copy: lambda a, order="K", subok=False: S.reshape(a, np.shape(deep_values(a))),
}

# ufunc methods with a chainrule equivalent: (ufunc, method) -> f(array, axis, keepdims)
_REDUCE = {
    (np.add, "reduce"): R.sum, (np.maximum, "reduce"): R.max,
    (np.minimum, "reduce"): R.min, (np.logaddexp, "reduce"): R.logsumexp,
}
_REDUCE_VIA = {(np.multiply, "reduce"): np.prod, (np.add, "accumulate"): np.cumsum,
               (np.multiply, "accumulate"): np.cumprod}


def deep_values(x, what=None):
    """x with Tensors replaced by their values (inside lists and tuples too); reading a
    value cr.jit is tracing is refused, naming ``what`` (None: only shapes and dtypes are
    read, which is fine)."""
    if type(x) is Tensor:
        if what is not None:
            refuse_value(x, what)
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(deep_values(i, what) for i in x)
    return x


# Other libraries' ufuncs with chainrule rules (scipy.special's, registered when
# chainrule.scipy.special is imported): NumPy hands them to Tensor too.
FOREIGN_UFUNCS = {}


def ufunc_impl(ufunc):
    """The implementation of a NumPy ufunc on Tensors, or None."""
    op = UFUNCS.get(ufunc) or catalogue.IMPLS.get(ufunc)
    if op is None:
        op = npextra.NUMPY_IMPLS.get(ufunc) or FOREIGN_UFUNCS.get(ufunc)
    return op


def function_impl(func):
    """The implementation of a NumPy function on Tensors, or None."""
    op = catalogue.IMPLS.get(func) or npextra.NUMPY_IMPLS.get(func)
    return op if op is not None else FUNCTIONS.get(func)


def array_ufunc(ufunc, method, inputs, kwargs):
    if method == "__call__" and not kwargs.get("out"):
        op = ufunc_impl(ufunc)
        if op is not None and not kwargs:
            return op(*inputs)
        if ufunc in CONSTANT_UFUNCS:
            what = f"np.{ufunc.__name__}"
            return ufunc(*deep_values(inputs, what), **{k: deep_values(v, what) for k, v in kwargs.items()})
    elif method in ("reduce", "accumulate") and len(inputs) == 1 and not kwargs.get("out"):
        r = _ufunc_method(ufunc, method, inputs[0], kwargs)
        if r is not NotImplemented:
            return r
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    if getattr(np, ufunc.__name__, None) is not ufunc:
        # not one of NumPy's: a SciPy ufunc (scipy.special.gammaln) or another library's
        raise TypeError(
            f"the ufunc {ufunc.__name__!r} (not NumPy's) has no derivative rule in chainrule. "
            f"If it is scipy.special's, import chainrule.scipy.special (which registers its "
            f"rules) or call chainrule.scipy.special.{ufunc.__name__}; otherwise use "
            f"t.detach() to compute on the value without gradient.")
    raise TypeError(
        f"np.{name}{' with out=' if kwargs.get('out') else ''} has no derivative rule in "
        f"chainrule. Use the chainrule operation of that name (chainrule.numpy.{ufunc.__name__}) "
        f"without out= if there is one, or t.detach() to compute on the value without "
        f"gradient (see docs/numpy.md for what is supported).")


def _ufunc_method(ufunc, method, a, kwargs):
    axis = kwargs.get("axis", 0)
    keepdims = kwargs.get("keepdims", False)
    if set(kwargs) - {"axis", "keepdims", "dtype"}:
        return NotImplemented
    op = _REDUCE.get((ufunc, method))
    if op is not None:
        return op(a, axis, keepdims=keepdims)
    via = _REDUCE_VIA.get((ufunc, method))
    impl = catalogue.IMPLS.get(via)
    if impl is None:
        return NotImplemented
    if method == "accumulate":
        return impl(a, axis=axis)
    return impl(a, axis=axis, keepdims=keepdims)


def array_function(func, args, kwargs):
    op = function_impl(func)
    if op is not None:
        return op(*args, **kwargs)
    if func in NO_DERIVATIVE:
        what = None if func in METADATA else _path(func)
        return func(*deep_values(args, what), **{k: deep_values(v, what) for k, v in kwargs.items()})
    raise TypeError(
        f"{_path(func)} has no derivative rule in chainrule, so it cannot be applied to a "
        f"Tensor being differentiated. Use t.detach() to compute on the value without "
        f"gradient, or see docs/numpy.md for the supported functions.")


def _path(func):
    """NumPy's public path of a function: np.linalg.qr, not np.qr."""
    mod = getattr(func, "__module__", None) or "numpy"
    mod = mod.replace("numpy", "np", 1)
    for sub in ("linalg", "fft", "random"):
        if f".{sub}" in mod:
            mod = f"np.{sub}"
            break
    else:
        mod = "np"
    return f"{mod}.{getattr(func, '__name__', func)}"
