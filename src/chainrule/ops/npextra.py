"""NumPy functions built from chainrule's operations: ediff1d, convolve, correlate, interp,
meshgrid, trapezoid, polyval, polyadd/polysub/polymul/polyder/polyint/poly, piecewise,
ix_, cov, corrcoef, unstack, delete, compress, extract, vecdot/matvec/vecmat,
matrix_transpose.

Each is a composition of differentiable operations (slices, arithmetic, sums), so every
order of derivative works in both modes without rules of its own, except the full 1-D
convolution, a bilinear primitive whose rules are convolutions again. ``NUMPY_IMPLS``
maps NumPy's callables to them; ops/dispatch.py consults it after the catalogue (a
catalogue entry for the same function wins).

Conventions: ``interp`` is differentiable in x (the slope of the segment, the right-hand
segment's at a knot, 0 outside [xp[0], xp[-1]]) and in fp, not in xp (no derivative).
"""
import numpy as np

from ..primitive import Primitive
from ..tensor import Tensor
from ._npapi import numpy_function
from ._util import pack, shape_of, value
from . import elementwise as E, reduce as R, shape as S

NUMPY_IMPLS = {}


def _register(npfun):
    def deco(impl):
        if npfun is None:
            return impl
        wrapped = numpy_function(npfun)(impl)
        NUMPY_IMPLS[npfun] = wrapped
        return wrapped
    return deco


def _nd(x):
    return len(shape_of(x))


def _axis(axis, nd, name):
    axis = int(axis)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(axis, nd, msg_prefix=name)
    return axis % nd


def _slice(x, axis, sl):
    """x[..., sl, ...] with the slice on ``axis``."""
    return S.getitem(x, (slice(None),) * axis + (sl,))


# ----- differences ---------------------------------------------------------------------
def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """np.diff's n-th discrete difference along axis (for trapezoid; np.diff itself is the
    catalogue's)."""
    a = pack(a)
    nd = _nd(a)
    if nd == 0:
        raise ValueError("np.diff requires input that is at least one dimensional")
    ax = _axis(axis, nd, "np.diff")
    parts = []
    for extra in (prepend, append):
        if extra is np._NoValue:
            parts.append(None)
            continue
        extra = pack(extra)
        if _nd(extra) == 0:
            shape = list(shape_of(a))
            shape[ax] = 1
            extra = S.broadcast_to(extra, tuple(shape))
        parts.append(extra)
    if parts[0] is not None or parts[1] is not None:
        a = S.concatenate([p for p in (parts[0], a, parts[1]) if p is not None], ax)
    if n < 0:
        raise ValueError(f"np.diff: order must be non-negative but got {n}")
    for _ in range(n):
        a = _slice(a, ax, slice(1, None)) - _slice(a, ax, slice(None, -1))
    return a


@_register(np.ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    """np.ediff1d: differences of the flattened array, with optional ends."""
    a = S.reshape(pack(ary), (-1,))
    d = _slice(a, 0, slice(1, None)) - _slice(a, 0, slice(None, -1))
    parts = [d]
    if to_begin is not None:
        parts.insert(0, S.reshape(pack(to_begin), (-1,)))
    if to_end is not None:
        parts.append(S.reshape(pack(to_end), (-1,)))
    return S.concatenate(parts, 0) if len(parts) > 1 else d


# ----- convolution ---------------------------------------------------------------------
def _full_fun(a, v):
    return np.convolve(a, v, "full")


conv_full = Primitive(_full_fun, "convolve_full")


def _conv_vjp_a(g, ans, a, v):
    # d out[n] / d a[m] = v[n - m]: correlate g with v, the 'valid' part of a full convolution
    la, lv = shape_of(a)[0], shape_of(v)[0]
    return S.getitem(conv_full(g, S.getitem(v, (slice(None, None, -1),))),
                     (slice(lv - 1, lv - 1 + la),))


def _conv_vjp_v(g, ans, a, v):
    return _conv_vjp_a(g, ans, v, a)


conv_full.defvjp(_conv_vjp_a, _conv_vjp_v)
conv_full.defjvp(lambda t, ans, a, v: conv_full(t, v), lambda t, ans, a, v: conv_full(a, t))


def _conv_mode(full, la, lv, mode):
    n, m = max(la, lv), min(la, lv)
    if mode == "full":
        return full
    if mode == "same":
        s0 = (m - 1) // 2
        return S.getitem(full, (slice(s0, s0 + n),))
    if mode == "valid":
        return S.getitem(full, (slice(m - 1, n),))
    raise ValueError(f"np.convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")


def _check_1d(name, a, v):
    if _nd(a) != 1 or _nd(v) != 1:
        raise ValueError(f"{name}: both inputs must be one-dimensional, got shapes "
                         f"{shape_of(a)} and {shape_of(v)}")
    if shape_of(a)[0] == 0 or shape_of(v)[0] == 0:
        raise ValueError(f"{name}: inputs cannot be empty")


@_register(np.convolve)
def convolve(a, v, mode="full"):
    """np.convolve: the discrete linear convolution of two 1-D arrays ('full', 'same', 'valid')."""
    a, v = pack(a), pack(v)
    _check_1d("np.convolve", a, v)
    return _conv_mode(conv_full(a, v), shape_of(a)[0], shape_of(v)[0], mode)


@_register(np.correlate)
def correlate(a, v, mode="valid"):
    """np.correlate: cross-correlation of two 1-D arrays, convolve(a, conj(v[::-1]))."""
    from .ufuncs import conj
    a, v = pack(a), pack(v)
    _check_1d("np.correlate", a, v)
    if mode == "same" and shape_of(a)[0] < shape_of(v)[0]:
        # NumPy centres 'same' on the longer input: correlate(a, v) is the reversed
        # conjugate of correlate(v, a)
        r = S.getitem(correlate(v, a, mode), (slice(None, None, -1),))
        return conj(r) if np.iscomplexobj(value(r)) else r
    vr = S.getitem(v, (slice(None, None, -1),))
    if np.iscomplexobj(value(vr)):
        vr = conj(vr)
    return _conv_mode(conv_full(a, vr), shape_of(a)[0], shape_of(v)[0], mode)


# ----- interpolation and integration -----------------------------------------------------
@_register(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """np.interp: piecewise-linear interpolation, differentiable in x and fp."""
    if period is not None:
        raise TypeError("np.interp on a Tensor: period= is not supported (no rule yet)")
    x, fp = pack(x), pack(fp)
    if type(xp) is Tensor or isinstance(xp, (list, tuple)) and _has_tensor(xp):
        if type(xp) is Tensor and (xp.requires_grad or xp.tangent is not None):
            raise TypeError("np.interp: no derivative in xp; pass it as plain values")
    xpv = np.asarray(value(xp) if type(xp) is Tensor else xp, dtype=float)
    xv = np.asarray(value(x))
    n = xpv.shape[0]
    # segment k covers [xp[k], xp[k+1]): the right-hand segment's slope at a knot
    k = np.clip(np.searchsorted(xpv, xv, side="right") - 1, 0, max(n - 2, 0))
    if n == 1:
        return S.broadcast_to(S.getitem(fp, (0,)), xv.shape)
    x0, x1 = xpv[k], xpv[k + 1]
    f0, f1 = S.getitem(fp, (k,)), S.getitem(fp, (k + 1,))
    w = (x - x0) / (x1 - x0)
    y = f0 + w * (f1 - f0)
    lo = S.getitem(fp, (0,)) if left is None else left
    hi = S.getitem(fp, (n - 1,)) if right is None else right
    y = E.where(xv < xpv[0], lo, y)
    return E.where(xv > xpv[-1], hi, y)


def _has_tensor(xs):
    return any(type(i) is Tensor or isinstance(i, (list, tuple)) and _has_tensor(i) for i in xs)


@_register(getattr(np, "trapezoid", None))
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """np.trapezoid: the trapezoidal rule along axis."""
    y = pack(y)
    ax = _axis(axis, _nd(y), "np.trapezoid")
    mid = (_slice(y, ax, slice(1, None)) + _slice(y, ax, slice(None, -1))) / 2.0
    if x is None:
        return R.sum(mid * dx, ax)
    d = diff(pack(x), axis=-1 if _nd(pack(x)) == 1 else ax)
    if _nd(d) == 1 and _nd(mid) > 1:
        shape = [1] * _nd(mid)
        shape[ax] = shape_of(d)[0]
        d = S.reshape(d, tuple(shape))
    return R.sum(mid * d, ax)


@_register(np.polyval)
def polyval(p, x):
    """np.polyval: p[0] * x**(n-1) + ... + p[-1], by Horner's rule (differentiable in p and x)."""
    p, x = pack(p), pack(x)
    n = shape_of(p)[0]
    if n == 0:
        return E.multiply(x, 0.0)
    y = S.getitem(p, (0,)) + E.multiply(x, 0.0)  # p[0], in x's shape
    for i in range(1, n):
        y = y * x + S.getitem(p, (i,))
    return y


# ----- statistics ------------------------------------------------------------------------
@_register(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """np.cov: covariance of the rows (variables) over the columns (observations)."""
    if fweights is not None or aweights is not None:
        raise TypeError("np.cov on a Tensor: fweights/aweights are not supported (no rule yet)")
    from .ufuncs import conj
    X = pack(m)
    if _nd(X) == 1:
        X = S.reshape(X, (1, -1))
    if not rowvar and _nd(X) == 2:
        X = S.transpose(X)
    if y is not None:
        Y = pack(y)
        if _nd(Y) == 1:
            Y = S.reshape(Y, (1, -1))
        if not rowvar:
            Y = S.transpose(Y)
        X = S.concatenate([X, Y], 0)
    n = shape_of(X)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    Xc = X - R.mean(X, 1, keepdims=True)
    C = Xc @ S.transpose(conj(Xc) if np.iscomplexobj(value(Xc)) else Xc) / float(n - ddof)
    return S.squeeze(C) if shape_of(C) == (1, 1) else C


@_register(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """np.corrcoef: Pearson correlation coefficients (the covariance over the outer product
    of the standard deviations)."""
    C = cov(x, y, rowvar)
    if _nd(C) == 0:
        return C / C
    d = E.sqrt(S.getitem(C, (np.arange(shape_of(C)[0]), np.arange(shape_of(C)[0]))))
    return C / S.reshape(d, (-1, 1)) / S.reshape(d, (1, -1))


# ----- arrays ----------------------------------------------------------------------------
@_register(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """np.meshgrid: coordinate arrays from 1-D coordinate vectors."""
    if indexing not in ("xy", "ij"):
        raise ValueError("np.meshgrid: valid values for `indexing` are 'xy' and 'ij'.")
    xs = [S.reshape(pack(x), (-1,)) for x in xi]
    n = len(xs)
    shapes = []
    for i, x in enumerate(xs):
        s = [1] * n
        s[i] = shape_of(x)[0]
        shapes.append(s)
    if indexing == "xy" and n > 1:
        for s in shapes:
            s[0], s[1] = s[1], s[0]
    out = [S.reshape(x, tuple(s)) for x, s in zip(xs, shapes)]
    if not sparse:
        full = tuple(int(np.max([s[k] for s in shapes])) for k in range(n))
        out = [S.broadcast_to(o, full) for o in out]
    return tuple(out)


@_register(getattr(np, "unstack", None))
def unstack(x, /, *, axis=0):
    """np.unstack: the slices along axis, as a tuple."""
    x = pack(x)
    ax = _axis(axis, _nd(x), "np.unstack")
    return tuple(_slice(x, ax, i) for i in range(shape_of(x)[ax]))


@_register(np.delete)
def delete(arr, obj, axis=None):
    """np.delete: arr without the entries obj along axis (flattened if axis is None)."""
    a = pack(arr)
    if axis is None:
        a, axis = S.reshape(a, (-1,)), 0
    ax = _axis(axis, _nd(a), "np.delete")
    n = shape_of(a)[ax]
    keep = np.ones(n, bool)
    keep[np.arange(n)[obj if not isinstance(obj, Tensor) else value(obj)]] = False
    return _slice(a, ax, np.nonzero(keep)[0])


@_register(np.compress)
def compress(condition, a, axis=None, out=None):
    """np.compress: the slices of a along axis where condition is true."""
    a = pack(a)
    if axis is None:
        a, axis = S.reshape(a, (-1,)), 0
    ax = _axis(axis, _nd(a), "np.compress")
    idx = np.nonzero(np.asarray(value(condition)))[0]
    return _slice(a, ax, idx)


@_register(np.extract)
def extract(condition, arr):
    """np.extract: the entries of arr where condition is true (both flattened)."""
    a = S.reshape(pack(arr), (-1,))
    return S.getitem(a, (np.nonzero(np.ravel(np.asarray(value(condition))))[0],))


@_register(getattr(np, "matrix_transpose", None))
def matrix_transpose(x, /):
    """np.matrix_transpose: swap the last two axes."""
    x = pack(x)
    if _nd(x) < 2:
        raise ValueError("np.matrix_transpose: input array must be at least 2-dimensional")
    return S.swapaxes_last(x)


# ----- NumPy 2's vector ufuncs (called without keywords) ----------------------------------
def _conj_if_complex(x):
    from .ufuncs import conj
    return conj(x) if np.iscomplexobj(value(x)) else x


def vecdot(x1, x2, /, *, axis=-1):
    """np.vecdot: sum(conj(x1) * x2) over the last axis."""
    return R.sum(_conj_if_complex(pack(x1)) * pack(x2), axis)


def matvec(x1, x2, /):
    """np.matvec: matrix times vector over the last axes."""
    return R.sum(pack(x1) * S.expand_dims(pack(x2), -2), -1)


def vecmat(x1, x2, /):
    """np.vecmat: conj(vector) times matrix over the last axes."""
    return R.sum(S.expand_dims(_conj_if_complex(pack(x1)), -1) * pack(x2), -2)


for _n, _f in (("vecdot", vecdot), ("matvec", matvec), ("vecmat", vecmat)):
    _f.packs = True  # stacks lists itself: chainrule.numpy hands it out as is
    if hasattr(np, _n):
        NUMPY_IMPLS[getattr(np, _n)] = _f

# For docs/numpy.md (tools/gen_numpy_table.py).
CONVENTIONS = {
    np.interp: "in x and fp, not xp; the right-hand segment's slope at a knot, 0 outside",
    np.convolve: "1-D; every mode", np.correlate: "1-D; every mode; conj(v) for complex v",
    np.cov: "no fweights/aweights on Tensors", np.delete: "no derivative in the indices",
    np.piecewise: "each function sees only its own entries; no derivative in the conditions",
    np.poly: "1-D roots only on Tensors",
}


# ----- polynomials (coefficient arrays, highest power first) ---------------------------
def _poly_1d(p, name):
    p = S.reshape(pack(p), (-1,)) if _nd(pack(p)) == 0 else pack(p)
    if _nd(p) != 1:
        raise ValueError(f"{name}: coefficients must be a 1-D array, got shape {shape_of(p)}")
    return p


def _front_pad(p, n):
    """p with zeros in front, to length n."""
    k = shape_of(p)[0]
    if k == n:
        return p
    z = np.zeros(n - k, dtype=np.result_type(value(p), float))
    return S.concatenate([z, p], 0)


@_register(np.polyadd)
def polyadd(a1, a2):
    """np.polyadd: the sum of two polynomials."""
    a1, a2 = _poly_1d(a1, "np.polyadd"), _poly_1d(a2, "np.polyadd")
    n = max(shape_of(a1)[0], shape_of(a2)[0])
    return _front_pad(a1, n) + _front_pad(a2, n)


@_register(np.polysub)
def polysub(a1, a2):
    """np.polysub: the difference of two polynomials."""
    a1, a2 = _poly_1d(a1, "np.polysub"), _poly_1d(a2, "np.polysub")
    n = max(shape_of(a1)[0], shape_of(a2)[0])
    return _front_pad(a1, n) - _front_pad(a2, n)


@_register(np.polymul)
def polymul(a1, a2):
    """np.polymul: the product of two polynomials (a convolution of their coefficients)."""
    return convolve(_poly_1d(a1, "np.polymul"), _poly_1d(a2, "np.polymul"))


@_register(np.polyder)
def polyder(p, m=1):
    """np.polyder: the m-th derivative of a polynomial."""
    p = _poly_1d(p, "np.polyder")
    if m < 0:
        raise ValueError("np.polyder: order of derivative must be positive (see polyint)")
    for _ in range(m):
        n = shape_of(p)[0] - 1
        if n <= 0:
            return S.getitem(p, (slice(0, 0),))  # past the degree: empty, as NumPy 2
        p = S.getitem(p, (slice(0, n),)) * np.arange(n, 0, -1, dtype=float)
    return p


@_register(np.polyint)
def polyint(p, m=1, k=None):
    """np.polyint: the m-th antiderivative, with integration constants k (default 0)."""
    p = _poly_1d(p, "np.polyint")
    if m < 0:
        raise ValueError("np.polyint: order of integral must be positive (see polyder)")
    ks = [0.0] * m if k is None else ([k] * m if np.ndim(value(k)) == 0 else list(k))
    if len(ks) < m:
        raise ValueError("np.polyint: k must be a scalar or a sequence of length m")
    for j in range(m):
        n = shape_of(p)[0]
        p = S.concatenate([p / np.arange(n, 0, -1, dtype=float),
                           S.reshape(E.add(pack(ks[j]), 0.0), (1,))], 0)
    return p


@_register(np.poly)
def poly(seq_of_zeros):
    """np.poly of 1-D roots: the coefficients of prod (x - r), leading 1."""
    r = pack(seq_of_zeros)
    if _nd(r) != 1:
        raise TypeError("np.poly on a Tensor takes a 1-D sequence of roots (a matrix's "
                        "characteristic polynomial has no rule yet)")
    a = np.ones(1, dtype=np.result_type(value(r), float))
    for i in range(shape_of(r)[0]):
        a = convolve(a, S.concatenate([np.ones(1), -S.reshape(S.getitem(r, (i,)), (1,))], 0))
    return a


@_register(np.piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    """np.piecewise: each function (or constant) on the entries where its condition holds.

    As NumPy, a function sees only its own entries (no nan from the others leaks into
    the gradient); later conditions win; an extra function is the 'otherwise' case;
    entries no condition covers are 0.
    """
    x = pack(x)
    shape = shape_of(x)
    conds = [np.asarray(value(c), bool) for c in
             (condlist if isinstance(condlist, (list, tuple)) else [condlist])]
    n = len(conds)
    if len(funclist) not in (n, n + 1):
        raise ValueError(f"np.piecewise: with {n} condition(s) {n} or {n + 1} functions "
                         f"are needed, got {len(funclist)}")
    owner = np.full(shape, -1)
    for k, c in enumerate(conds):
        owner[np.broadcast_to(c, shape)] = k
    if len(funclist) == n + 1:
        owner[owner == -1] = n
    flat = S.reshape(x, (-1,))
    own = owner.reshape(-1)
    pieces, order = [], []
    for k, f in enumerate(funclist):
        idx = np.nonzero(own == k)[0]
        if not idx.size:
            continue
        if callable(f):
            vals = f(S.getitem(flat, (idx,)), *args, **kw)
            vals = S.broadcast_to(E.add(vals, 0.0) if type(vals) is not Tensor else vals,
                                  idx.shape)
        else:
            vals = S.broadcast_to(E.add(pack(f), np.zeros(idx.shape)), idx.shape)
        pieces.append(vals)
        order.append(idx)
    rest = np.nonzero(own == -1)[0]
    if rest.size:
        pieces.append(np.zeros(rest.shape, dtype=np.result_type(value(x), float)))
        order.append(rest)
    if not pieces:
        return E.multiply(x, 0.0)
    allv = S.concatenate(pieces, 0) if len(pieces) > 1 else pieces[0]
    inv = np.argsort(np.concatenate(order), kind="stable")
    return S.reshape(S.getitem(allv, (inv,)), shape)


@_register(np.ix_)
def ix_(*args):
    """np.ix_: open-mesh views of 1-D sequences (reshaped, so values stay in the graph)."""
    n = len(args)
    out = []
    for k, a in enumerate(args):
        a = pack(a)
        if np.asarray(value(a)).dtype == bool:
            a = np.nonzero(value(a))[0]
        shape = [1] * n
        shape[k] = shape_of(a)[0]
        out.append(S.reshape(a, tuple(shape)))
    return tuple(out)
