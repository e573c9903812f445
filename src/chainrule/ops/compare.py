"""Comparisons, sign and logical operations: piecewise constant, so no derivative.

They are ``ConstantPrimitive``s: on plain arrays they return plain arrays; on
a Tensor that is part of a recorded program they return a Tensor (boolean or
sign values, never requiring a gradient) recorded as a vertex, so masks made
from inputs are recomputed when a compiled program (``cr.jit``) is replayed.
Derivative rules build their masks with these for the same reason.
"""
import numpy as np

from ..primitive import ConstantPrimitive

greater = ConstantPrimitive(np.greater, "greater")
greater_equal = ConstantPrimitive(np.greater_equal, "greater_equal")
less = ConstantPrimitive(np.less, "less")
less_equal = ConstantPrimitive(np.less_equal, "less_equal")
equal = ConstantPrimitive(np.equal, "equal")
not_equal = ConstantPrimitive(np.not_equal, "not_equal")
logical_and = ConstantPrimitive(np.logical_and, "logical_and")
logical_or = ConstantPrimitive(np.logical_or, "logical_or")
logical_not = ConstantPrimitive(np.logical_not, "logical_not")
sign = ConstantPrimitive(np.sign, "sign")
isfinite = ConstantPrimitive(np.isfinite, "isfinite")
isnan = ConstantPrimitive(np.isnan, "isnan")
