"""np.linalg: inv, pinv, det, slogdet, solve, norm, cholesky, eigh, eig, svd, qr.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
"""
NUMPY_IMPLS = {}
