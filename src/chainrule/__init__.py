"""chainrule: reverse-mode automatic differentiation on the computational graphs
of the backpropagation notes, with NumPy.

    >>> import numpy as np, chainrule as cr
    >>> cr.grad(lambda x: cr.sum(cr.tanh(x) * x))(np.array([0.0, 1.0]))
    array([0.        , 1.18071028])
"""
from .errors import ChainruleError, GradcheckError, NonScalarError, RuleError, ShapeError
from .ops import *  # noqa: F401,F403  the operations, NumPy names
from .ops import __all__ as _ops_all
from .primitive import Primitive, primitive
from .tensor import Tensor, tensor
from .transforms import grad, hessian, hvp, jacfwd, jacobian, jvp, value_and_grad, vjp

__version__ = "0.1.0"

__all__ = list(_ops_all) + [
    "ChainruleError", "GradcheckError", "NonScalarError", "RuleError", "ShapeError",
    "Primitive", "primitive", "Tensor", "tensor",
    "grad", "hessian", "hvp", "jacfwd", "jacobian", "jvp", "value_and_grad", "vjp",
]
