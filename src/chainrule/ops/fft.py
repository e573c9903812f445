"""np.fft: fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn, fftshift, ifftshift.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
"""
NUMPY_IMPLS = {}
