"""The NumPy functions chainrule differentiates, keyed by the NumPy callable.

Each catalogue module (ufuncs, reductions, assembly, products, npla, fft)
exports ``NUMPY_IMPLS``: {numpy function: implementation with NumPy's
signature}. ``IMPLS`` merges them; ``chainrule.numpy`` and NumPy's dispatch
(``np.tan(t)`` on a Tensor) both look functions up here.
"""
from . import assembly, fft, npla, products, reductions, ufuncs

IMPLS = {}
for _m in (ufuncs, reductions, assembly, products, npla, fft):
    IMPLS.update(_m.NUMPY_IMPLS)
