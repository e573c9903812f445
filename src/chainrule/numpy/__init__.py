"""chainrule.numpy: NumPy's namespace, differentiable (``import chainrule.numpy as np``).

Every public name of NumPy is here. Functions chainrule differentiates record
vertices when given Tensors (inside ``cr.grad`` and the other transforms, or
from ``cr.tensor(..., requires_grad=True)``), and accept arrays, scalars and
nested lists of them where NumPy does: ``np.array([x, 2 * x])`` and
``np.mean([x, x + 2])`` are differentiated through every entry. Functions
without a derivative (``argmax``, ``floor``, comparisons, ``shape``...) run on
the values. Any other function runs NumPy on plain values and refuses a Tensor
being differentiated with an error naming it. Constants and types (``pi``,
``newaxis``, ``float64``, ``ndarray``) are NumPy's own.

    >>> import chainrule as cr, chainrule.numpy as np
    >>> float(cr.grad(lambda x: np.mean(np.array([x, 2 * x])))(1.0))
    1.5

``linalg`` and ``fft`` follow NumPy's submodules; ``random`` is NumPy's (no
derivative). docs/numpy.md lists every function and how it is treated.
"""
import numpy as _np

from ._arrays import OWN as _OWN
from ._namespace import Resolver as _Resolver
from . import fft, linalg, random  # noqa: F401  (NumPy's submodules, ours where differentiable)

_resolver = _Resolver(_np, "np", _OWN)
__getattr__ = _resolver.module_getattr(globals())

# Submodules NumPy has that chainrule does not wrap are NumPy's own.
_SUBMODULES = {"fft", "linalg", "random"}
__all__ = sorted(set(_resolver.names()) | _SUBMODULES)


def __dir__():
    return __all__
