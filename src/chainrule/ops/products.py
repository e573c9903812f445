"""Products: einsum, tensordot, inner, outer, cross, vdot, and matmul/dot on every shape NumPy accepts.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
"""
NUMPY_IMPLS = {}
