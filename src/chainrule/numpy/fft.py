"""chainrule.numpy.fft: NumPy's np.fft, differentiable where chainrule has rules.

Resolved like chainrule.numpy (see _namespace.py): implementations from the
catalogue, NumPy's own function on values for the rest (refusing a Tensor
being differentiated, with the full path np.fft.NAME in the message).
"""
import numpy as _np

from ._namespace import Resolver as _Resolver

_resolver = _Resolver(_np.fft, "np.fft")
__getattr__ = _resolver.module_getattr(globals())
__all__ = _resolver.names()


def __dir__():
    return __all__
