"""Tensor: a NumPy value that is also a vertex of the computational graph.

A Tensor made by an operation remembers the operation (``op``), the inputs it
was called with (``args``: its parents and any constants) and keyword
arguments (``kw``). Parents are only ever referenced by their children, never
the other way round, so dropping the output of a computation frees all of it
(no reference cycles). A leaf has ``op is None``.

Example:
    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = cr.sum(x * x)
    >>> y.backward()
    >>> x.grad
    array([2., 4.])
"""
import numpy as np

from .errors import NonScalarError
from .state import paused_gc, state


class Tensor:
    """A value in R^{d_i} of the notes, with the record of how it was computed."""

    # Slots keep a vertex small (the graph of a long program is mostly these).
    # Operations create vertices without __init__ (primitive.apply), so the
    # rarely used slots (_grad, _name, _where) may be unset: read them through
    # the properties below.
    __slots__ = ("value", "op", "args", "kw", "requires_grad", "tangent",
                 "_grad", "_name", "_where", "__weakref__")
    __array_priority__ = 1000.0
    __hash__ = object.__hash__  # __eq__ is elementwise, identity keys dicts

    def __init__(self, value, requires_grad=False, name=None):
        self.value = value
        self.op = None
        self.args = None
        self.kw = None
        self.requires_grad = requires_grad
        self.tangent = None
        if name is not None:
            self._name = name

    # ----- what it is -------------------------------------------------------
    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def size(self):
        return self.value.size

    @property
    def is_leaf(self):
        return self.op is None

    @property
    def parents(self):
        """The Tensor inputs of the operation that made this one (empty for a leaf)."""
        if self.args is None:
            return ()
        return tuple(a for a in self.args if type(a) is Tensor)

    @property
    def grad(self):
        """d(output)/d(self) accumulated by ``backward()`` (leaves only), or None.

        Gradients *accumulate* across ``backward()`` calls, as in PyTorch; call
        ``zero_grad()`` (or assign ``t.grad = None``) between steps.
        """
        return getattr(self, "_grad", None)

    @grad.setter
    def grad(self, g):
        self._grad = g

    @property
    def name(self):
        """An optional label (shown in graphs)."""
        return getattr(self, "_name", None)

    @name.setter
    def name(self, name):
        self._name = name

    @property
    def where(self):
        """The user code line that created this vertex, when it was recorded (debug modes)."""
        return getattr(self, "_where", None)

    @where.setter
    def where(self, w):
        self._where = w

    def zero_grad(self):
        """Forget the accumulated gradient."""
        self._grad = None

    def numpy(self):
        """The value as a NumPy array (not a copy)."""
        _refuse(self, "t.numpy()")
        return self.value

    def item(self):
        _refuse(self, "t.item()")
        return self.value.item()

    def detach(self):
        """A leaf with the same value and no history."""
        return Tensor(self.value)

    def __array__(self, dtype=None, copy=None):
        _refuse(self, "np.asarray(t)")
        if dtype is not None and dtype != self.value.dtype:
            return self.value.astype(dtype)
        return self.value.copy() if copy else self.value

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        if self.value.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.value.shape[0]))

    def __bool__(self):
        _refuse(self, "bool(t) (an if or while on a traced value)")
        return bool(self.value)

    def __float__(self):
        _refuse(self, "float(t)")
        return float(self.value)

    def __int__(self):
        _refuse(self, "int(t)")
        return int(self.value)

    def any(self):
        """Whether any entry is true (not differentiable)."""
        _refuse(self, "t.any()")
        return bool(self.value.any())

    def all(self):
        """Whether all entries are true (not differentiable)."""
        _refuse(self, "t.all()")
        return bool(self.value.all())

    def __repr__(self):
        body = np.array2string(np.asarray(self.value), separator=", ", prefix="tensor(")
        extra = []
        if self.op is not None:
            extra.append(f"op={self.op.name}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ----- the backward pass, object style ---------------------------------
    def backward(self, gradient=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Args:
            gradient: the cotangent p_n; needed when self is not a scalar.
            create_graph: record the backward pass itself so that the
                gradients (then Tensors) can be differentiated again.
        """
        from .backward import Handed, backward_pass, reverse_topological
        _refuse(self, "t.backward() (use cr.grad or cr.value_and_grad inside cr.jit)")
        if gradient is None:
            if self.value.size != 1:
                raise NonScalarError(
                    f"backward() without a gradient needs a scalar output, but this tensor "
                    f"has shape {self.shape}. Reduce it to a scalar first (e.g. cr.sum(y)), "
                    f"pass gradient= of shape {self.shape}, or use cr.jacobian.")
            gradient = np.ones_like(self.value)
        else:
            gradient = _as_cotangent(gradient, self)
        if not self.requires_grad:
            raise ValueError(
                "backward() on a tensor that does not depend on any tensor with "
                "requires_grad=True; create inputs with cr.tensor(x, requires_grad=True).")
        with paused_gc():
            p = backward_pass(reverse_topological(self), {self: gradient}, create_graph)
        handed = Handed([gradient])
        for v, g in p.items():
            if v.op is None and v.requires_grad:
                old = v.grad
                if old is None:
                    v._grad = g if type(g) is Tensor else handed.own(g, v)
                elif type(old) is np.ndarray and type(g) is not Tensor:
                    old += g  # our own buffer: accumulate in place
                else:
                    v._grad = old + g

    # ----- operators: thin calls into the ops -------------------------------
    def __add__(self, o): return _ops.add(self, o)
    def __radd__(self, o): return _ops.add(o, self)
    def __sub__(self, o): return _ops.subtract(self, o)
    def __rsub__(self, o): return _ops.subtract(o, self)
    def __mul__(self, o): return _ops.multiply(self, o)
    def __rmul__(self, o): return _ops.multiply(o, self)
    def __truediv__(self, o): return _ops.divide(self, o)
    def __rtruediv__(self, o): return _ops.divide(o, self)
    def __pow__(self, o): return _ops.power(self, o)
    def __rpow__(self, o): return _ops.power(o, self)
    def __matmul__(self, o): return _ops.matmul(self, o)
    def __rmatmul__(self, o): return _ops.matmul(o, self)
    def __neg__(self): return _ops.negative(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __getitem__(self, idx): return _ops.getitem(self, idx)

    # Comparisons have no derivative: boolean results that never require a
    # gradient (recorded when self is, so that cr.jit replays them).
    def __lt__(self, o): return _ops.less(self, o)
    def __le__(self, o): return _ops.less_equal(self, o)
    def __gt__(self, o): return _ops.greater(self, o)
    def __ge__(self, o): return _ops.greater_equal(self, o)
    def __eq__(self, o): return _ops.equal(self, o)
    def __ne__(self, o): return _ops.not_equal(self, o)

    @property
    def T(self):
        return _ops.transpose(self)

    def reshape(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return _ops.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return _ops.transpose(self, axes or None)

    def sum(self, axis=None, keepdims=False): return _ops.sum(self, axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return _ops.mean(self, axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return _ops.max(self, axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return _ops.min(self, axis, keepdims=keepdims)
    def squeeze(self, axis=None): return _ops.squeeze(self, axis)
    def dot(self, o): return _ops.dot(self, o)
    def clip(self, a_min=None, a_max=None): return _ops.clip(self, a_min, a_max)
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def tanh(self): return _ops.tanh(self)

    # ----- NumPy's dispatch protocols ---------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .ops.dispatch import array_ufunc
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .ops.dispatch import array_function
        return array_function(func, args, kwargs)


def _value(x):
    return x.value if type(x) is Tensor else x


def _refuse(t, what):
    if state.jit:
        from .jit import refuse_value
        refuse_value(t, what)


def _as_cotangent(g, out):
    g = np.asarray(_value(g))
    if g.shape != out.value.shape:
        raise ValueError(f"backward(): gradient has shape {g.shape} but the tensor has "
                         f"shape {out.value.shape}; they must match.")
    return g.astype(out.value.dtype, copy=False)


def tensor(value, requires_grad=False, dtype=None, name=None):
    """A leaf tensor holding a copy of ``value``.

    Args:
        value: array-like (or a Tensor, whose value is copied without history).
        requires_grad: accumulate gradients into ``.grad`` on ``backward()``.
        dtype: NumPy dtype; default keeps the value's (Python floats -> float64).
        name: optional label shown in graphs.

    The value is copied, so changing the original array later cannot change
    a recorded computation.
    """
    value = np.array(_value(value), dtype=dtype, copy=True)
    if requires_grad and not np.issubdtype(value.dtype, np.inexact):
        raise TypeError(
            f"cr.tensor(..., requires_grad=True) needs floating-point values, got dtype "
            f"{value.dtype}; pass dtype=float (or np.float32).")
    return Tensor(value, requires_grad, name)


from . import ops as _ops  # noqa: E402  (ops import Tensor from this module)
