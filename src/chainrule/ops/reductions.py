"""Reductions and scans beyond cr.ops: prod, std, var, cumsum, cumprod, average, ptp, nan-functions.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
"""
NUMPY_IMPLS = {}
