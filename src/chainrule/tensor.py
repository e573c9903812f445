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

from .state import refuse_value, state


class Tensor:
    """A value in R^{d_i} of the notes, with the record of how it was computed.

    This module holds what a Tensor *is*. What it can *do* (Python operators,
    NumPy-style methods, ``backward()``, NumPy's dispatch protocols) is attached
    by ``methods.py``, which sits above the operations those call, so that
    imports run one way.
    """

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
        # a copy: backward() accumulates into .grad in place, never into the caller's array
        self._grad = np.array(g) if type(g) is np.ndarray else g

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
        if state.depth and (self.requires_grad or self.tangent is not None):
            # NumPy asks for the value when it builds an array from a list holding
            # this Tensor (np.mean([x, x + 2])): handing it over would cut the graph
            # and give a silent zero gradient.
            raise TypeError(
                "a Tensor being differentiated was turned into a NumPy array (np.asarray, "
                "np.array, or a NumPy function given a list or tuple holding it), which "
                "would drop its gradient. Use chainrule.numpy (import chainrule.numpy as "
                "np: lists of Tensors are differentiated), cr.stack([...]) to build an "
                "array from Tensors, or t.detach() if no gradient should flow.")
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


def value(x):
    """The NumPy value of a Tensor, or x itself."""
    return x.value if type(x) is Tensor else x


def _refuse(t, what):
    if state.jit:
        refuse_value(t, what)


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
    value = np.array(value.value if type(value) is Tensor else value, dtype=dtype, copy=True)
    if requires_grad and not np.issubdtype(value.dtype, np.inexact):
        raise TypeError(
            f"cr.tensor(..., requires_grad=True) needs floating-point values, got dtype "
            f"{value.dtype}; pass dtype=float (or np.float32).")
    return Tensor(value, requires_grad, name)

