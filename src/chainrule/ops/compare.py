"""Comparisons, sign and logical operations: piecewise constant, so no derivative.

They are ``ConstantPrimitive``s: on plain arrays they return plain arrays; on
a Tensor that is part of a recorded program they return a Tensor (boolean or
sign values, never requiring a gradient) recorded as a vertex, so masks made
from inputs are recomputed when a compiled program (``cr.jit``) is replayed.
Derivative rules build their masks with these for the same reason.
"""
import numpy as np

from ..primitive import ConstantPrimitive

def _ordering(ufunc):
    """An ordering comparison that refuses complex numbers (they have no order)."""
    def fun(x, y):
        if np.iscomplexobj(x) or np.iscomplexobj(y):
            raise TypeError(
                f"np.{ufunc.__name__}: complex numbers have no order, so operations built on "
                f"it (maximum, minimum, relu, clip, max, min, sigmoid, sort...) are not defined "
                f"on complex input here; apply them to cr.real(z), cr.abs(z) or the parts.")
        return ufunc(x, y)
    fun.__name__ = ufunc.__name__
    return fun


greater = ConstantPrimitive(_ordering(np.greater), "greater")
greater_equal = ConstantPrimitive(_ordering(np.greater_equal), "greater_equal")
less = ConstantPrimitive(_ordering(np.less), "less")
less_equal = ConstantPrimitive(_ordering(np.less_equal), "less_equal")
equal = ConstantPrimitive(np.equal, "equal")
not_equal = ConstantPrimitive(np.not_equal, "not_equal")
logical_and = ConstantPrimitive(np.logical_and, "logical_and")
logical_or = ConstantPrimitive(np.logical_or, "logical_or")
logical_not = ConstantPrimitive(np.logical_not, "logical_not")
sign = ConstantPrimitive(np.sign, "sign")
isfinite = ConstantPrimitive(np.isfinite, "isfinite")
isnan = ConstantPrimitive(np.isnan, "isnan")
