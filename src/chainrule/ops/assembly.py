"""Shape and assembly functions of NumPy: ravel, stacks, splits, tile, pad, roll, flips, diag, tril, sort, take...

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
"""
NUMPY_IMPLS = {}
