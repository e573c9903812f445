"""Array construction that keeps the graph: ``array``, ``asarray`` and ``astype`` on Tensors.

``np.array([x, 2 * x])`` stacks its entries into one Tensor (the graph goes
through every entry, as in ``autograd.numpy``); a dtype change is a vertex
(the core's ``cast``) whose derivative casts back: a complex cotangent reaching a real
input keeps its real part (autograd's convention); a cast to an integer or
boolean dtype has no derivative (its result is piecewise constant).
"""
import numpy as np

from ..ops._util import pack
from ..ops.elementwise import cast
from ..tensor import Tensor


# the core's cast: its VJP casts back (the real part for a real input)
astype = cast


def _as(a, dtype, copy_fun, ndmin=0):
    a = pack(a)
    if type(a) is not Tensor:
        return None
    if dtype is not None and np.dtype(dtype) != a.value.dtype:
        if not np.issubdtype(np.dtype(dtype), np.inexact):
            return np.asarray(a.value, dtype=dtype)  # an integer/boolean copy: no derivative
        a = cast(a, np.dtype(dtype))
    if a.value.ndim < ndmin:
        from ..ops.shape import reshape
        a = reshape(a, (1,) * (ndmin - a.value.ndim) + a.value.shape)
    return a


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    """np.array: a Tensor (or a list holding Tensors) stays in the graph; anything else is NumPy's."""
    t = _as(object, dtype, copy, ndmin)
    if t is None:
        kw = {} if like is None else {"like": like}
        return np.array(object, dtype=dtype, copy=copy, order=order, subok=subok, ndmin=ndmin,
                        **kw)
    return t


def asarray(a, dtype=None, order=None, **kw):
    """np.asarray: a Tensor (or a list holding Tensors) stays in the graph; anything else is NumPy's."""
    t = _as(a, dtype, False)
    return np.asarray(a, dtype=dtype, order=order, **kw) if t is None else t


def _like_asarray(npfun):
    def f(a, dtype=None, **kw):
        t = _as(a, dtype, False)
        return npfun(a, dtype=dtype, **kw) if t is None else t
    f.__name__ = npfun.__name__
    f.__doc__ = f"np.{npfun.__name__}: a Tensor stays in the graph (memory layout is NumPy's concern)."
    return f


asanyarray = _like_asarray(np.asanyarray)
ascontiguousarray = _like_asarray(np.ascontiguousarray)
asfortranarray = _like_asarray(np.asfortranarray)


def np_astype(x, dtype, /, *, copy=True, device=None):
    """np.astype: a cast that keeps the graph (no derivative into integer or boolean dtypes)."""
    t = _as(x, dtype, copy)
    return np.astype(x, dtype, copy=copy) if t is None else t


OWN = {"array": array, "asarray": asarray, "asanyarray": asanyarray,
       "ascontiguousarray": ascontiguousarray, "asfortranarray": asfortranarray}
if hasattr(np, "astype"):
    OWN["astype"] = np_astype
