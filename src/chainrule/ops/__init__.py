"""Every primitive operation of chainrule, grouped by kind.

- elementwise: add subtract multiply divide negative power exp log sqrt square
  abs sin cos tanh sigmoid relu maximum minimum where clip
- reduce: sum mean max min logsumexp
- linalg: matmul dot
- shape: reshape transpose expand_dims squeeze broadcast_to concatenate stack getitem
- nn: softmax log_softmax
- compare (no derivative): equal greater greater_equal less less_equal not_equal
  logical_and logical_or logical_not sign isfinite isnan
"""
from .elementwise import (abs, add, clip, cos, divide, exp, log, maximum, minimum, multiply,
                          negative, power, relu, sigmoid, sin, sqrt, square, subtract, tanh,
                          where)
from .compare import (equal, greater, greater_equal, isfinite, isnan, less, less_equal,
                      logical_and, logical_not, logical_or, not_equal, sign)
from .linalg import dot, matmul
from .nn import log_softmax, softmax
from .reduce import logsumexp, max, mean, min, sum
from .shape import (broadcast_to, concatenate, expand_dims, getitem, index_add, reshape, squeeze,
                    stack, transpose)

__all__ = [
    "abs", "add", "clip", "cos", "divide", "exp", "log", "maximum", "minimum", "multiply",
    "negative", "power", "relu", "sigmoid", "sin", "sqrt", "square", "subtract", "tanh",
    "where", "dot", "matmul", "log_softmax", "softmax", "logsumexp", "max", "mean", "min",
    "sum", "broadcast_to", "concatenate", "expand_dims", "getitem", "index_add", "reshape",
    "squeeze", "stack", "transpose",
    "equal", "greater", "greater_equal", "isfinite", "isnan", "less", "less_equal",
    "logical_and", "logical_not", "logical_or", "not_equal", "sign",
]
