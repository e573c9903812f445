"""What a Tensor can do: Python operators, NumPy-style methods, ``backward()``.

They are thin calls into the operations (``ops``) and the backward pass
(``backward``), which are built on top of ``tensor.py``; attaching them here,
once those exist, keeps every import pointing down (``tensor.py`` knows
nothing above it). Importing chainrule runs this module.
"""
import numpy as np

from . import ops
from .backward import backward_pass, reverse_topological
from .errors import NonScalarError
from .handed import Handed
from .ops import dispatch
from .ops.catalogue import IMPLS
from .ops.elementwise import cast
from .state import paused_gc
from .tensor import Tensor, _refuse, value


def backward(self, gradient=None, create_graph=False):
    """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        gradient: the cotangent p_n; needed when self is not a scalar.
        create_graph: record the backward pass itself so that the
            gradients (then Tensors) can be differentiated again.
    """
    _refuse(self, "t.backward() (use cr.grad or cr.value_and_grad inside cr.jit)")
    if gradient is None:
        if self.value.size != 1:
            raise NonScalarError(
                f"backward() without a gradient needs a scalar output, but this tensor "
                f"has shape {self.shape}. Reduce it to a scalar first (e.g. cr.sum(y)), "
                f"pass gradient= of shape {self.shape}, or use cr.jacobian.")
        gradient = np.ones_like(self.value)
    else:
        gradient = np.asarray(value(gradient))
        if gradient.shape != self.value.shape:
            raise ValueError(f"backward(): gradient has shape {gradient.shape} but the tensor "
                             f"has shape {self.value.shape}; they must match.")
        gradient = gradient.astype(self.value.dtype, copy=False)
    if not self.requires_grad:
        raise ValueError(
            "backward() on a tensor that does not depend on any tensor with "
            "requires_grad=True; create inputs with cr.tensor(x, requires_grad=True).")
    with paused_gc():
        p = backward_pass(reverse_topological(self), {self: gradient}, create_graph)
    handed = Handed([gradient])
    for v, g in p.items():
        if v.op is None and v.requires_grad:
            _accumulate(v, g, handed)


def _accumulate(leaf, g, handed):
    """leaf.grad += g, in place in leaf's own buffer (assigning .grad stores a copy)."""
    old = leaf.grad
    if old is None:
        leaf._grad = g if type(g) is Tensor else handed.own(g, leaf)
    elif type(old) is np.ndarray and type(g) is not Tensor:
        old += g
    else:
        leaf._grad = old + g


def _catalogue(np_fun):
    """A method that calls the catalogue's implementation of ``np_fun``."""
    def method(self, *args, **kw):
        impl = IMPLS.get(np_fun)
        if impl is None:
            raise NotImplementedError(f"Tensor.{np_fun.__name__}: np.{np_fun.__name__} has no "
                                      f"derivative rule in chainrule yet")
        return impl(self, *args, **kw)
    method.__name__ = np_fun.__name__
    method.__doc__ = f"np.{np_fun.__name__}(t, ...), differentiable."
    return method


def _shape_args(args):
    """reshape(2, 3) and reshape((2, 3)) alike."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return args[0]
    return args


def _divmod(a, b):
    return _catalogue(np.floor_divide)(a, b), _catalogue(np.remainder)(a, b)


def _rdivmod(a, b):
    return _divmod(b, a)


_METHODS = {
    "backward": backward,
    "__add__": lambda a, b: ops.add(a, b), "__radd__": lambda a, b: ops.add(b, a),
    "__sub__": lambda a, b: ops.subtract(a, b), "__rsub__": lambda a, b: ops.subtract(b, a),
    "__mul__": lambda a, b: ops.multiply(a, b), "__rmul__": lambda a, b: ops.multiply(b, a),
    "__truediv__": lambda a, b: ops.divide(a, b),
    "__rtruediv__": lambda a, b: ops.divide(b, a),
    "__pow__": lambda a, b: ops.power(a, b), "__rpow__": lambda a, b: ops.power(b, a),
    "__matmul__": lambda a, b: ops.matmul(a, b), "__rmatmul__": lambda a, b: ops.matmul(b, a),
    "__mod__": lambda a, b: _catalogue(np.remainder)(a, b),
    "__rmod__": lambda a, b: _catalogue(np.remainder)(b, a),
    "__floordiv__": lambda a, b: _catalogue(np.floor_divide)(a, b),
    "__rfloordiv__": lambda a, b: _catalogue(np.floor_divide)(b, a),
    "__divmod__": _divmod, "__rdivmod__": _rdivmod,
    "__neg__": lambda a: ops.negative(a), "__pos__": lambda a: a,
    "__abs__": lambda a: ops.abs(a),
    "__getitem__": lambda a, idx: ops.getitem(a, idx),
    # Comparisons have no derivative: boolean results that never require a
    # gradient (recorded when self is, so that cr.jit replays them).
    "__lt__": lambda a, b: ops.less(a, b), "__le__": lambda a, b: ops.less_equal(a, b),
    "__gt__": lambda a, b: ops.greater(a, b), "__ge__": lambda a, b: ops.greater_equal(a, b),
    "__eq__": lambda a, b: ops.equal(a, b), "__ne__": lambda a, b: ops.not_equal(a, b),
    "T": property(lambda a: ops.transpose(a)),
    "reshape": lambda a, *shape, **kw: ops.reshape(a, _shape_args(shape) if shape else kw["shape"]),
    "transpose": lambda a, *axes: ops.transpose(a, _shape_args(axes) if axes else None),
    "sum": lambda a, axis=None, keepdims=False: ops.sum(a, axis, keepdims=keepdims),
    "mean": lambda a, axis=None, keepdims=False: ops.mean(a, axis, keepdims=keepdims),
    "max": lambda a, axis=None, keepdims=False: ops.max(a, axis, keepdims=keepdims),
    "min": lambda a, axis=None, keepdims=False: ops.min(a, axis, keepdims=keepdims),
    "squeeze": lambda a, axis=None: ops.squeeze(a, axis),
    "dot": lambda a, b: ops.dot(a, b),
    "clip": lambda a, a_min=None, a_max=None: ops.clip(a, a_min, a_max),
    "exp": lambda a: ops.exp(a), "log": lambda a: ops.log(a), "tanh": lambda a: ops.tanh(a),
    "ravel": lambda a: ops.reshape(a, (-1,)),
    "flatten": lambda a: ops.reshape(a, (-1,)),
    "copy": lambda a: ops.reshape(a, a.shape),
    "astype": lambda a, dtype: _astype(a, dtype),
    "prod": _catalogue(np.prod), "std": _catalogue(np.std), "var": _catalogue(np.var),
    "cumsum": _catalogue(np.cumsum), "cumprod": _catalogue(np.cumprod),
    "swapaxes": _catalogue(np.swapaxes),
    "real": property(_catalogue(np.real)), "imag": property(_catalogue(np.imag)),
    "conj": _catalogue(np.conj), "conjugate": _catalogue(np.conj),
    "argmax": lambda a, *args, **kw: np.argmax(a.value, *args, **kw),
    "argmin": lambda a, *args, **kw: np.argmin(a.value, *args, **kw),
    # NumPy's dispatch protocols: np.tanh(t), np.sum(t) record the same vertices
    # as cr.tanh(t), cr.sum(t).
    "__array_ufunc__": lambda a, ufunc, method, *inputs, **kwargs:
        dispatch.array_ufunc(ufunc, method, inputs, kwargs),
    "__array_function__": lambda a, func, types, args, kwargs:
        dispatch.array_function(func, args, kwargs),
}


def _astype(a, dtype):
    """A copy in another dtype: differentiable between inexact dtypes."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return cast(a, dtype)
    return a.value.astype(dtype)  # integers and booleans carry no derivative


for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
