"""Small helpers shared by the rule modules."""
import numpy as np

from ..tensor import Tensor, value  # noqa: F401  (value: for masks and constants in rules)


def shape_of(x):
    return x.value.shape if type(x) is Tensor else np.shape(x)


def linear_jvp(op, k):
    """JVP rule of an op that is linear in input k: apply the op to the tangent there."""
    def rule(t, ans, *args, **kw):
        args = list(args)
        args[k] = t
        return op(*args, **kw)
    return rule


def normalize_axis(axis, ndim):
    """Axis argument as a sorted tuple of non-negative ints (None: all axes)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axis))


def kept_shape(shape, axis):
    """The shape a reduction over ``axis`` has with keepdims=True."""
    axes = normalize_axis(axis, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def pack(x):
    """An array-like argument as NumPy would read it, keeping the graph.

    A list or tuple (nested) holding Tensors is stacked into one Tensor
    (``np.mean([x, x + 2])`` is differentiated through both entries); anything
    else is returned unchanged. NumPy itself would call ``Tensor.__array__``
    on each entry and cut the graph.
    """
    if isinstance(x, (list, tuple)) and _holds_tensor(x):
        # np.stack hands a sequence holding a Tensor to chainrule's stack (NumPy's
        # dispatch), so this module needs no import of the shape ops built on it
        return np.stack([pack(i) if isinstance(i, (list, tuple)) else i for i in x], 0)
    return x


def _holds_tensor(x):
    stack = [x]
    while stack:
        for i in stack.pop():
            if type(i) is Tensor:
                return True
            if isinstance(i, (list, tuple)):
                stack.append(i)
    return False
