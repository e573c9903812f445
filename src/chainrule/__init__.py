"""chainrule: reverse-mode automatic differentiation on the computational graphs
of the backpropagation notes, with NumPy.

    >>> import numpy as np, chainrule as cr
    >>> cr.grad(lambda x: cr.sum(cr.tanh(x) * x))(np.array([0.0, 1.0]))
    array([0.        , 1.18071028])
"""
from .errors import (ChainruleError, GradcheckError, JitError, MissingRuleError,
                     NonScalarError, RuleError, ShapeError)
from .ops import *  # noqa: F401,F403  the operations, NumPy names
from .ops import __all__ as _ops_all
from .ops.elementwise import conj, real  # complex parts (cr.ops.__all__ is the real core)
from .primitive import Primitive, primitive
from .tensor import Tensor, tensor
from . import forward, methods  # noqa: F401  forward mode and Tensor's methods plug in
from .anomaly import AnomalyError, detect_anomaly
from .check import gradcheck
from .explain import GraphvizNotFound
from .graph import Graph, GraphError, TooManyPathsError, Vertex, trace
from .jit import jit
from . import page  # noqa: E402,F401  (adds Graph.to_html and Graph._repr_html_)
from .transforms import (elementwise_grad, grad, hessian, holomorphic_grad, hvp, jacfwd,
                         jacobian, jvp, value_and_grad, vjp)
from .ravel import ravel_pytree
from .build import build_info

from . import nn, optim  # noqa: E402  (they use the names above)

__version__ = "0.1.0"

__all__ = list(_ops_all) + [
    "ChainruleError", "GradcheckError", "JitError", "MissingRuleError", "NonScalarError", "jit",
    "RuleError", "ShapeError", "conj", "real", "elementwise_grad", "holomorphic_grad", "ravel_pytree", "build_info",
    "Primitive", "primitive", "Tensor", "tensor",
    "AnomalyError", "detect_anomaly", "gradcheck", "nn", "optim",
    "Graph", "GraphError", "TooManyPathsError", "Vertex", "trace", "GraphvizNotFound",
    "grad", "hessian", "hvp", "jacfwd", "jacobian", "jvp", "value_and_grad", "vjp",
]
