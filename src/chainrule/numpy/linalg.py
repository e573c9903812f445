"""chainrule.numpy.linalg: NumPy's np.linalg, differentiable where chainrule has rules.

Resolved like chainrule.numpy (see _namespace.py): implementations from the
catalogue, NumPy's own function on values for the rest (refusing a Tensor
being differentiated, with the full path np.linalg.NAME in the message).
"""
import numpy as _np

from ._namespace import Resolver as _Resolver

_resolver = _Resolver(_np.linalg, "np.linalg")
__getattr__ = _resolver.module_getattr(globals())
__all__ = _resolver.names()


def __dir__():
    return __all__
