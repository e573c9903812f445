"""chainrule.scipy.signal: differentiable convolutions; other names pass through to SciPy.

One primitive, the full convolution y = a * b over some axes (other axes
broadcast elementwise). Every mode is a crop of it ('same' and 'valid' as
SciPy centres them), and correlation is convolution with the reversed kernel.
Its rules are convolutions again: for the full convolution
ga = valid part of (g * reversed b) and gb = valid part of (g * reversed a)
(cross-correlations of g with the other operand), so they are differentiable
to any order, and the JVP is linear in each operand: ta * b + a * tb.
``method`` ('auto', 'direct', 'fft') only picks SciPy's algorithm for values.
"""
import numpy as np
import scipy.signal as _ss

from ..ops import _util, ufuncs as _ufuncs
from ..ops.elementwise import multiply
from ..ops.reduce import sum as _sum
from ..ops.shape import getitem, reshape, transpose
from ..primitive import Primitive
from ..tensor import Tensor
from . import passthrough

__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d", "correlate2d"]


def _arr(x):
    """An array-like argument as a Tensor (lists holding Tensors stacked) or a NumPy array."""
    x = _util.pack(x)
    return x if type(x) is Tensor else np.asarray(x)


def _conv_fun(a, b, axes):
    if len(axes) == np.ndim(a):
        return _ss.convolve(a, b, mode="full")
    return _ss.fftconvolve(a, b, mode="full", axes=axes)


_conv = Primitive(_conv_fun, "scipy.signal.convolve", broadcasts=True)


def _reverse(x, axes):
    idx = [slice(None)] * len(_util.shape_of(x))
    for ax in axes:
        idx[ax] = slice(None, None, -1)
    return getitem(x, tuple(idx))


def _crop(x, axes, starts, lengths):
    shape = _util.shape_of(x)
    if all(s == 0 and n == shape[ax] for ax, s, n in zip(axes, starts, lengths)):
        return x
    idx = [slice(None)] * len(shape)
    for ax, s, n in zip(axes, starts, lengths):
        idx[ax] = slice(s, s + n)
    return getitem(x, tuple(idx))


def _conv_vjp(k):
    def rule(g, ans, a, b, axes):
        this, other = (a, b) if k == 0 else (b, a)
        m = [_util.shape_of(other)[ax] for ax in axes]
        n = [_util.shape_of(this)[ax] for ax in axes]
        full = _conv(g, _reverse(other, axes), axes=axes)
        return _crop(full, axes, [i - 1 for i in m], n)
    return rule


_conv.defvjp(_conv_vjp(0), _conv_vjp(1))
_conv.defjvp(lambda t, ans, a, b, axes: _conv(t, b, axes=axes),
             lambda t, ans, a, b, axes: _conv(a, t, axes=axes))


def _axes(axes, ndim, path):
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    out = []
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"{path}: axis {ax} is out of range for arrays of {ndim} dimensions")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{path}: axes {tuple(axes)} repeat an axis")
    return tuple(sorted(out))


def _convolve(in1, in2, mode, axes, path):
    in1, in2 = _arr(in1), _arr(in2)
    s1, s2 = _util.shape_of(in1), _util.shape_of(in2)
    if len(s1) != len(s2):
        raise ValueError(f"{path}: in1 and in2 should have the same dimensionality, got shapes "
                         f"{s1} and {s2}")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"{path}: mode must be 'full', 'same' or 'valid', got {mode!r}")
    if len(s1) == 0:
        return multiply(in1, in2)
    axes = _axes(axes, len(s1), path)
    for i in range(len(s1)):
        if i not in axes and s1[i] != s2[i] and 1 not in (s1[i], s2[i]):
            raise ValueError(f"{path}: in1 {s1} and in2 {s2} must agree (or be 1) on the axes "
                             f"not convolved, {[i for i in range(len(s1)) if i not in axes]}")
    if any(s1[ax] == 0 or s2[ax] == 0 for ax in axes):
        raise ValueError(f"{path}: cannot convolve empty arrays (shapes {s1} and {s2}); "
                         f"SciPy returns an empty array there, chainrule refuses to guess a "
                         f"gradient for it")
    n1, n2 = [s1[ax] for ax in axes], [s2[ax] for ax in axes]
    if mode == "valid":
        if not (all(a >= b for a, b in zip(n1, n2)) or all(b >= a for a, b in zip(n1, n2))):
            raise ValueError(f"{path}: for 'valid' mode, one must be at least as large as the "
                             f"other in every convolved dimension; got shapes {s1} and {s2}")
    y = _conv(in1, in2, axes=axes)
    if mode == "full":
        return y
    full = [a + b - 1 for a, b in zip(n1, n2)]
    new = n1 if mode == "same" else [abs(a - b) + 1 for a, b in zip(n1, n2)]
    return _crop(y, axes, [(f - n) // 2 for f, n in zip(full, new)], new)


def convolve(in1, in2, mode="full", method="auto", *, axes=None, dot_axes=None):
    """scipy.signal.convolve: N-dimensional convolution ('full', 'same', 'valid'); differentiable
    in both inputs.

    ``axes`` and ``dot_axes`` (keywords) are HIPS autograd's extension, for code
    written against ``autograd.scipy.signal.convolve``: ``axes=([a axes], [b axes])``
    are convolved pairwise, ``dot_axes=([a axes], [b axes])`` summed over pairwise
    (as tensordot), and the other axes of in1, then those of in2, lead the result
    (an outer product), followed by the convolved axes.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.signal import convolve
        >>> cr.grad(lambda a: cr.sum(convolve(a, np.array([1.0, 2.0]))))(np.ones(3))
        array([3., 3., 3.])
    """
    if axes is not None or dot_axes is not None:
        return _general(in1, in2, mode, axes, dot_axes)
    return _convolve(in1, in2, mode, None, "scipy.signal.convolve")


def _general(a, b, mode, axes, dot_axes):
    """autograd.scipy.signal.convolve's layout: (a's other axes, b's other axes, convolved)."""
    path = "scipy.signal.convolve"
    a, b = _arr(a), _arr(b)
    sa, sb = _util.shape_of(a), _util.shape_of(b)
    if axes is None:
        if len(sa) != len(sb):
            raise ValueError(f"{path}: without axes, in1 and in2 need the same number of "
                             f"dimensions, got shapes {sa} and {sb}")
        axes = (range(len(sa)), range(len(sb)))
    dot_axes = ((), ()) if dot_axes is None else dot_axes
    (ca, cb), (da, db) = ([list(x) for x in axes], [list(x) for x in dot_axes])
    if len(ca) != len(cb) or len(da) != len(db):
        raise ValueError(f"{path}: axes and dot_axes must pair as many axes of in1 as of in2, "
                         f"got axes={axes!r}, dot_axes={dot_axes!r}")
    for x, y, what in ((da, db, "dot_axes"),):
        if any(sa[i] != sb[j] for i, j in zip(x, y)):
            raise ValueError(f"{path}: {what} pair axes of different lengths in shapes {sa} "
                             f"and {sb}")
    ia = [i for i in range(len(sa)) if i not in ca + da]
    ib = [i for i in range(len(sb)) if i not in cb + db]
    # a -> (ia, 1.., dot, conv), b -> (1.., ib, dot, conv): one broadcast full convolution
    at = transpose(a, tuple(ia + da + ca))
    bt = transpose(b, tuple(ib + db + cb))
    at = reshape(at, tuple(sa[i] for i in ia) + (1,) * len(ib) + _util.shape_of(at)[len(ia):])
    bt = reshape(bt, (1,) * len(ia) + _util.shape_of(bt))
    lead, nd = len(ia) + len(ib), len(da)
    conv_axes = tuple(range(lead + nd, lead + nd + len(ca)))
    n1, n2 = [sa[i] for i in ca], [sb[j] for j in cb]
    if mode == "valid" and not (all(x >= y for x, y in zip(n1, n2))
                                or all(y >= x for x, y in zip(n1, n2))):
        raise ValueError(f"{path}: for 'valid' mode, one must be at least as large as the other "
                         f"in every convolved dimension; got shapes {sa} and {sb}")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"{path}: mode must be 'full', 'same' or 'valid', got {mode!r}")
    y = _conv(at, bt, axes=conv_axes)
    if nd:
        y = _sum(y, tuple(range(lead, lead + nd)))
        conv_axes = tuple(ax - nd for ax in conv_axes)
    if mode == "full":
        return y
    full = [x + z - 1 for x, z in zip(n1, n2)]
    new = n1 if mode == "same" else [abs(x - z) + 1 for x, z in zip(n1, n2)]
    return _crop(y, conv_axes, [(f - n) // 2 for f, n in zip(full, new)], new)


def fftconvolve(in1, in2, mode="full", axes=None):
    """scipy.signal.fftconvolve: convolution over ``axes`` (others broadcast); differentiable."""
    return _convolve(in1, in2, mode, axes, "scipy.signal.fftconvolve")


def oaconvolve(in1, in2, mode="full", axes=None):
    """scipy.signal.oaconvolve: the same convolution as fftconvolve; differentiable."""
    return _convolve(in1, in2, mode, axes, "scipy.signal.oaconvolve")


def _conj(x):
    if not np.iscomplexobj(_util.value(x)):
        return x
    conj = _ufuncs.NUMPY_IMPLS.get(np.conjugate)
    if conj is None:
        raise TypeError("scipy.signal.correlate: complex in2 needs np.conjugate's rule, which "
                        "chainrule does not have yet; use real inputs")
    return conj(x)


def correlate(in1, in2, mode="full", method="auto"):
    """scipy.signal.correlate: cross-correlation, convolve(in1, reversed conj(in2)); differentiable.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.signal import correlate
        >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]), mode="valid")
        array([2., 3.])
    """
    in1, in2 = _arr(in1), _arr(in2)
    nd = len(_util.shape_of(in1))
    if len(_util.shape_of(in2)) != nd:
        raise ValueError(f"scipy.signal.correlate: in1 and in2 should have the same "
                         f"dimensionality, got shapes {_util.shape_of(in1)} and "
                         f"{_util.shape_of(in2)}")
    return _convolve(in1, _reverse(_conj(in2), tuple(range(nd))), mode, None,
                     "scipy.signal.correlate")


def _two_d(in1, in2, boundary, fillvalue, path):
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError(f"{path}: only boundary='fill' with fillvalue=0 is "
                                  f"differentiable in chainrule; pad the input yourself "
                                  f"for other boundaries")
    if len(_util.shape_of(in1)) != 2 or len(_util.shape_of(in2)) != 2:
        raise ValueError(f"{path}: inputs must both be 2-D arrays, got shapes "
                         f"{_util.shape_of(in1)} and {_util.shape_of(in2)}")


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """scipy.signal.convolve2d with zero fill: convolve on 2-D arrays; differentiable."""
    _two_d(in1, in2, boundary, fillvalue, "scipy.signal.convolve2d")
    return _convolve(in1, in2, mode, None, "scipy.signal.convolve2d")


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """scipy.signal.correlate2d with zero fill: correlate on 2-D arrays; differentiable."""
    _two_d(in1, in2, boundary, fillvalue, "scipy.signal.correlate2d")
    in1, in2 = _arr(in1), _arr(in2)
    if mode != "same":
        return correlate(in1, in2, mode)
    # correlate2d centres 'same' differently from correlate: it starts at n2 // 2
    n1, n2 = _util.shape_of(in1), _util.shape_of(in2)
    return _crop(correlate(in1, in2, "full"), (0, 1), [k // 2 for k in n2], n1)


# Notes for docs/numpy.md (tools/gen_numpy_table.py), by name.
CONVENTIONS = {
    "convolve": "modes full/same/valid, N-d; method only picks SciPy's algorithm",
    "fftconvolve": "axes; the other axes broadcast",
    "oaconvolve": "axes; the other axes broadcast",
    "convolve2d": "boundary='fill', fillvalue=0 only",
    "correlate2d": "boundary='fill', fillvalue=0 only",
}

__getattr__ = passthrough("signal")
