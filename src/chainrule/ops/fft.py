"""np.fft: fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn,
hfft, ihfft, fftshift, ifftshift, fftfreq, rfftfreq.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature: n/s, axis/axes, norm "backward"/"ortho"/"forward"; Tensors,
arrays, scalars and nested lists of them accepted; without a Tensor among the
arguments NumPy's own function runs).

Three primitives carry every transform (s and axes resolved as NumPy does):
``c2c`` (fftn/ifftn), ``r2c`` (rfftn) and ``c2r`` (irfftn), plus ``resize``
(NumPy's zero-padding or truncation to s) and the two shifts. Every transform is
linear, so its JVP is the transform of the tangent. Its VJP follows HIPS
autograd's complex convention: the transpose, not the conjugate transpose, and
a real input gets a real gradient (the real part).

- c2c: the DFT matrix is symmetric, so the transpose of fftn(x, s) is
  fftn of g (same norm), truncated or zero-padded back to x's shape.
- r2c: rfftn = (keep the first n//2+1 bins) . fftn . resize, so its transpose
  is resize(fftn(g zero-padded to n bins)); the real part for the real x.
  No Hermitian weights are needed this way, for even or odd n.
- c2r: irfftn is real-linear in its complex input (the bins k > n//2 are the
  conjugates of bins n-k; the imaginary parts of bin 0, and of bin n/2 for
  even n, are ignored). Its VJP in autograd's convention (dL/dRe - i dL/dIm)
  is w * conj(rfftn(g)) with the opposite norm, w = 1 for bin 0 (and n/2 for
  even n) and 2 for the other bins, resized to the input's shape.

Repeated axes (allowed by NumPy) are done as NumPy does them: one transform per
axis, in NumPy's order.
"""
import operator
import warnings

import numpy as np

from ..primitive import Primitive
from ..tensor import Tensor
from ._npapi import numpy_function
from ._util import pack, shape_of, value
from .ufuncs import conj, real

NUMPY_IMPLS = {}

_SWAP = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _match(x, g):
    """g as x's kind: the real part for a real x (autograd's match_complex)."""
    if value(x).dtype.kind != "c" and value(g).dtype.kind == "c":
        return real(g)
    return g


# ----- primitives --------------------------------------------------------------------------------


def _resize_fun(x, shape):
    """x truncated or zero-padded (at the end of each axis) to ``shape``: NumPy's n/s."""
    if x.shape == shape:
        return x.copy()  # the vertex owns its value
    out = np.zeros(shape, dtype=x.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(x.shape, shape))
    out[common] = x[common]
    return out


resize = Primitive(_resize_fun, "fft_resize")
# padding and truncating are each other's transpose
resize.defvjp(lambda g, ans, x, shape: resize(g, shape_of(x)), None)
resize.defjvp(lambda t, ans, x, shape: resize(t, shape), None)


def _resized(x, shape):
    """x resized to ``shape``; x itself (no vertex) where it has that shape already."""
    return x if shape_of(x) == shape else resize(x, shape)


def _c2c_fun(x, s, axes, norm, inverse):
    if len(axes) == 1:
        f = np.fft.ifft if inverse else np.fft.fft
        return f(x, s[0], axes[0], norm)
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, s, axes, norm)


def _c2c_vjp(g, ans, x, s, axes, norm, inverse):
    return _match(x, _resized(c2c(g, s, axes, norm, inverse), shape_of(x)))


c2c = Primitive(_c2c_fun, "fftn")
c2c.defvjp(_c2c_vjp, None, None, None, None)
c2c.defjvp(lambda t, ans, x, s, axes, norm, inverse: c2c(t, s, axes, norm, inverse),
           None, None, None, None)


def _r2c_fun(x, s, axes, norm):
    if len(axes) == 1:
        return np.fft.rfft(x, s[0], axes[0], norm)
    return np.fft.rfftn(x, s, axes, norm)


def _r2c_vjp(g, ans, x, s, axes, norm):
    full = list(shape_of(g))
    full[axes[-1]] = s[-1]  # the half spectrum back to n bins, the rest zero
    return _match(x, _resized(c2c(_resized(g, tuple(full)), s, axes, norm, False),
                               shape_of(x)))


r2c = Primitive(_r2c_fun, "rfftn")
r2c.defvjp(_r2c_vjp, None, None, None)
r2c.defjvp(lambda t, ans, x, s, axes, norm: r2c(t, s, axes, norm), None, None, None)


def _c2r_fun(x, s, axes, norm):
    if len(axes) == 1:
        return np.fft.irfft(x, s[0], axes[0], norm)
    return np.fft.irfftn(x, s, axes, norm)


def _hermitian_weights(n, axis, ndim, dtype):
    """1 for bin 0 (and n/2 for even n), 2 for the others: each of those stands for two."""
    w = np.full(n // 2 + 1, 2.0, dtype=dtype)
    w[0] = 1
    if n % 2 == 0:
        w[-1] = 1
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape)


def _c2r_vjp(g, ans, x, s, axes, norm):
    gv = value(g)
    w = _hermitian_weights(s[-1], axes[-1], gv.ndim, gv.dtype)
    h = conj(r2c(g, s, axes, _SWAP[norm])) * w
    return _match(x, _resized(h, shape_of(x)))


c2r = Primitive(_c2r_fun, "irfftn")
c2r.defvjp(_c2r_vjp, None, None, None)
c2r.defjvp(lambda t, ans, x, s, axes, norm: c2r(t, s, axes, norm), None, None, None)


def _fftshift_fun(x, axes):
    return np.fft.fftshift(x, axes)


def _ifftshift_fun(x, axes):
    return np.fft.ifftshift(x, axes)


_fftshift = Primitive(_fftshift_fun, "fftshift")
_ifftshift = Primitive(_ifftshift_fun, "ifftshift")
# a shift is a permutation: its transpose is the opposite shift
_fftshift.defvjp(lambda g, ans, x, axes: _ifftshift(g, axes), None)
_fftshift.defjvp(lambda t, ans, x, axes: _fftshift(t, axes), None)
_ifftshift.defvjp(lambda g, ans, x, axes: _fftshift(g, axes), None)
_ifftshift.defjvp(lambda t, ans, x, axes: _ifftshift(t, axes), None)


# ----- NumPy's argument conventions ---------------------------------------------------------------


def _implements(npfun):
    """Register ``impl`` for ``npfun`` (NumPy's own function runs on plain inputs)."""
    def deco(impl):
        wrapper = numpy_function(npfun, f"np.fft.{npfun.__name__}")(impl)
        NUMPY_IMPLS[npfun] = wrapper
        return wrapper
    return deco


def _array(a):
    a = pack(a)
    return a if type(a) is Tensor else np.asarray(a)


def _axis(ax, ndim, name):
    try:
        ax = operator.index(ax)
    except TypeError:
        raise TypeError(f"{name}: an axis must be an integer, got {ax!r}") from None
    if not -ndim <= ax < ndim:
        raise np.exceptions.AxisError(ax, ndim, f"{name}")
    return ax % ndim


def _cook(a, s, axes, name, invreal=False):
    """(s, axes) as NumPy resolves them: tuples of ints, axes non-negative."""
    shape = shape_of(a)
    shapeless = s is None
    if axes is None:
        if not shapeless:  # as NumPy 2 does, so that a Tensor changes nothing
            warnings.warn(f"{name}: `axes` should not be `None` if `s` is not `None` "
                          f"(deprecated in NumPy 2.0); pass the axes explicitly.",
                          DeprecationWarning, stacklevel=5)
        axes = range(len(shape)) if shapeless else range(-len(s), 0)
    axes = tuple(_axis(ax, len(shape), name) for ax in axes)
    if shapeless:
        s = [shape[ax] for ax in axes]
        if invreal and axes:
            s[-1] = (shape[axes[-1]] - 1) * 2
    s = list(s)
    if len(s) != len(axes):
        raise ValueError(f"{name}: s {tuple(s)} and axes {axes} have different lengths; give "
                         f"one length per transformed axis.")
    s = tuple(shape[ax] if n == -1 else operator.index(n) for n, ax in zip(s, axes))
    for n in s:
        if n < 1:
            raise ValueError(f"{name}: invalid number of FFT data points ({n}) in s={s}; "
                             f"each length must be at least 1.")
    return s, axes


def _norm(norm, name):
    if norm not in _SWAP:
        raise ValueError(f'{name}: invalid norm {norm!r}; use None, "backward", "ortho" or '
                         f'"forward".')
    return norm


def _c2c_any(a, s, axes, norm, inverse):
    """c2c over resolved (s, axes); repeated axes one at a time, in NumPy's order."""
    if len(set(axes)) == len(axes):
        return c2c(a, s, axes, norm, inverse)
    for n, ax in reversed(list(zip(s, axes))):
        a = c2c(a, (n,), (ax,), norm, inverse)
    return a


def _c2c_public(a, s, axes, norm, inverse, name, one_d=False):
    a = _array(a)
    if one_d:  # fft/ifft: n and axis
        s = None if s is None else (s,)
        axes = (axes,)
    s, axes = _cook(a, s, axes, name)
    return _c2c_any(a, s, axes, _norm(norm, name), inverse)


@_implements(np.fft.fft)
def fft(a, n=None, axis=-1, norm=None):
    """np.fft.fft: the 1-d discrete Fourier transform"""
    return _c2c_public(a, n, axis, norm, False, "np.fft.fft", one_d=True)


@_implements(np.fft.ifft)
def ifft(a, n=None, axis=-1, norm=None):
    """np.fft.ifft: the 1-d inverse discrete Fourier transform"""
    return _c2c_public(a, n, axis, norm, True, "np.fft.ifft", one_d=True)


@_implements(np.fft.fft2)
def fft2(a, s=None, axes=(-2, -1), norm=None):
    """np.fft.fft2: the 2-d discrete Fourier transform"""
    return _c2c_public(a, s, axes, norm, False, "np.fft.fft2")


@_implements(np.fft.ifft2)
def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """np.fft.ifft2: the 2-d inverse discrete Fourier transform"""
    return _c2c_public(a, s, axes, norm, True, "np.fft.ifft2")


@_implements(np.fft.fftn)
def fftn(a, s=None, axes=None, norm=None):
    """np.fft.fftn: the n-d discrete Fourier transform"""
    return _c2c_public(a, s, axes, norm, False, "np.fft.fftn")


@_implements(np.fft.ifftn)
def ifftn(a, s=None, axes=None, norm=None):
    """np.fft.ifftn: the n-d inverse discrete Fourier transform"""
    return _c2c_public(a, s, axes, norm, True, "np.fft.ifftn")


def _real_input(a, name):
    if value(a).dtype.kind == "c":
        raise TypeError(f"{name}: the input must be real, got {value(a).dtype}; use the complex "
                        f"transform (np.fft.fft/fftn) or take np.real first.")


def _r2c_public(a, s, axes, norm, name, one_d=False):
    a = _array(a)
    _real_input(a, name)
    if one_d:
        s = None if s is None else (s,)
        axes = (axes,)
    s, axes = _cook(a, s, axes, name)
    norm = _norm(norm, name)
    if len(set(axes)) == len(axes):
        return r2c(a, s, axes, norm)
    # NumPy: rfft along the last axis, then fft along the others, last first
    a = r2c(a, s[-1:], axes[-1:], norm)
    for n, ax in reversed(list(zip(s[:-1], axes[:-1]))):
        a = c2c(a, (n,), (ax,), norm, False)
    return a


def _c2r_public(a, s, axes, norm, name, one_d=False):
    a = _array(a)
    if one_d:
        s = None if s is None else (s,)
        axes = (axes,)
    s, axes = _cook(a, s, axes, name, invreal=True)
    norm = _norm(norm, name)
    if len(set(axes)) == len(axes):
        return c2r(a, s, axes, norm)
    # NumPy: ifft along every axis but the last, in order, then irfft along the last
    for n, ax in zip(s[:-1], axes[:-1]):
        a = c2c(a, (n,), (ax,), norm, True)
    return c2r(a, s[-1:], axes[-1:], norm)


@_implements(np.fft.rfft)
def rfft(a, n=None, axis=-1, norm=None):
    """np.fft.rfft: the 1-d discrete Fourier transform of a real input (n//2 + 1 bins)"""
    return _r2c_public(a, n, axis, norm, "np.fft.rfft", one_d=True)


@_implements(np.fft.irfft)
def irfft(a, n=None, axis=-1, norm=None):
    """np.fft.irfft: the inverse of rfft: a real output of length n (default 2 (m - 1))"""
    return _c2r_public(a, n, axis, norm, "np.fft.irfft", one_d=True)


@_implements(np.fft.rfft2)
def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """np.fft.rfft2: the 2-d discrete Fourier transform of a real input"""
    return _r2c_public(a, s, axes, norm, "np.fft.rfft2")


@_implements(np.fft.irfft2)
def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """np.fft.irfft2: the inverse of rfft2"""
    return _c2r_public(a, s, axes, norm, "np.fft.irfft2")


@_implements(np.fft.rfftn)
def rfftn(a, s=None, axes=None, norm=None):
    """np.fft.rfftn: the n-d discrete Fourier transform of a real input"""
    return _r2c_public(a, s, axes, norm, "np.fft.rfftn")


@_implements(np.fft.irfftn)
def irfftn(a, s=None, axes=None, norm=None):
    """np.fft.irfftn: the inverse of rfftn"""
    return _c2r_public(a, s, axes, norm, "np.fft.irfftn")


@_implements(np.fft.hfft)
def hfft(a, n=None, axis=-1, norm=None):
    """np.fft.hfft: the transform of a Hermitian-symmetric signal (irfft(conj(a)), opposite norm)"""
    a = _array(a)
    norm = _norm(norm, "np.fft.hfft")
    return _c2r_public(conj(a), n, axis, _SWAP[norm], "np.fft.hfft", one_d=True)


@_implements(np.fft.ihfft)
def ihfft(a, n=None, axis=-1, norm=None):
    """np.fft.ihfft: the inverse of hfft: conj(rfft(a)) with the opposite norm"""
    a = _array(a)
    norm = _norm(norm, "np.fft.ihfft")
    return conj(_r2c_public(a, n, axis, _SWAP[norm], "np.fft.ihfft", one_d=True))


def _shift_axes(a, axes):
    ndim = len(shape_of(a))
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (int, np.integer)):
        return (_axis(axes, ndim, "np.fft.fftshift"),)
    return tuple(_axis(ax, ndim, "np.fft.fftshift") for ax in axes)


@_implements(np.fft.fftshift)
def fftshift(x, axes=None):
    """np.fft.fftshift: the zero-frequency bin moved to the centre"""
    x = _array(x)
    return _fftshift(x, _shift_axes(x, axes))


@_implements(np.fft.ifftshift)
def ifftshift(x, axes=None):
    """np.fft.ifftshift: the inverse of fftshift"""
    x = _array(x)
    return _ifftshift(x, _shift_axes(x, axes))


@_implements(np.fft.fftfreq)
def fftfreq(n, d=1.0, device=None):
    """np.fft.fftfreq: the frequencies of fft's bins, k / (n d); differentiable in d"""
    return np.fft.fftfreq(n, 1.0, device=device) / d


@_implements(np.fft.rfftfreq)
def rfftfreq(n, d=1.0, device=None):
    """np.fft.rfftfreq: the frequencies of rfft's bins, k / (n d); differentiable in d"""
    return np.fft.rfftfreq(n, 1.0, device=device) / d
