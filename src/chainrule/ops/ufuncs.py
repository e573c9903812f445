"""New ufuncs (tan, arcsin, log1p, logaddexp, hypot, ...), NumPy semantics and broadcasting.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
"""
NUMPY_IMPLS = {}
