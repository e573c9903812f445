"""np.linalg: inv, pinv, det, slogdet, solve, norm, cholesky, eigh, eig, svd, qr and friends.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
Every function works on stacks of matrices (leading batch axes).

The primitives and their derivative rules are in ``factorizations``; this
module gives them NumPy's signatures and builds norms, cond, lstsq,
matrix_power and the rest from them.

Conventions (docs/numerics; the tests check each):

- eigh / eigvalsh / cholesky read one triangle of the input (the lower for
  UPLO='L' and cholesky, as NumPy does; the upper for UPLO='U' and
  cholesky(upper=True)); the gradient is the true one of that function of
  all n^2 entries: zero on the triangle that is not read, and, with G the
  gradient of the symmetric matrix read, diag(G) + the read triangle of
  G + G^T (G + G^H for complex) elsewhere. For a
  symmetric input built from parameters (A = B + B^T) this gives the same
  gradient in B as the symmetrised convention of autograd and PyTorch.
- Repeated eigenvalues (eigh, eig) and singular values (svd): the eigenvector
  terms carry 1/(lambda_j - lambda_i). Where two are exactly equal, a pair
  whose eigenvector cotangent (or tangent) is zero contributes 0, so the
  eigenvalues alone (eigvalsh, svdvals, norms) always have finite gradients,
  in both modes and at second order; a pair that does carry one gives nan,
  as PyTorch and JAX do (inf/nan): the eigenvectors of a repeated eigenvalue
  are not differentiable, and even a function invariant within the
  eigenspace (a projector, V f(w) V^T) cannot be differentiated from the
  decomposition's outputs there. Near-equal but distinct values give large,
  exact gradients.
- Eigenvectors and singular vectors are fixed only up to sign (phase for
  complex eig); the rules keep NumPy's unit norm and differentiate the choice
  that does not rotate the phase: only functions invariant to that gauge
  have a meaningful gradient. svd(full_matrices=True): the columns of U
  (rows of Vh) past min(m, n) are a basis of an orthogonal complement, not
  unique; their cotangent is ignored (as PyTorch does) and their tangent is 0.
  Zero singular values with m != n make the singular-vector terms infinite.
- norm: the 2-norm (and 'fro') has gradient 0 at x = 0 (PyTorch's
  subgradient; autograd gives nan); ord=inf / -inf / 1 / matrix 1, -1, inf,
  -inf share g among tied entries like max/min; ord=0 counts non-zeros and
  has no gradient; other p-norms are sum(|x|^p)^(1/p) (nan gradient at 0).
- det / slogdet / inv / solve use A^{-1} (an LU solve): exact, and as large
  as the true derivative (1/sigma_min) for nearly singular A. det of an
  exactly singular real matrix (det = 0) still has its derivative adj(A)^T,
  computed from the SVD (autograd raises there); inv, solve and slogdet of
  an exactly singular matrix raise NumPy's LinAlgError (their derivatives
  do not exist). slogdet's sign has no gradient.
- Complex input: every function here takes it, with autograd's convention
  (holomorphic rules do not conjugate; a real function of z has gradient
  df/dx - i df/dy; PyTorch's is its conjugate). eigh and cholesky of a
  complex Hermitian matrix read one triangle and the real part of the
  diagonal, as LAPACK does; the gradient is zero on what is not read. The
  complex svd's rules put each singular pair's phase change in U (V gets
  none), and qr keeps R's diagonal real, as LAPACK does: functions invariant
  to the phases are differentiated exactly.
"""
import math

import numpy as np

from ..primitive import ConstantPrimitive, Primitive
from ..tensor import Tensor
from ._util import kept_shape, normalize_axis, pack, shape_of, value
from .compare import equal
from .elementwise import abs as abs_, conj, divide, multiply, power, real, subtract, where
from .factorizations import (chol_p, det_p, diag_part, dtype_of, eig_p, eigh_p, eigh_parts,
                             inv_p, logabsdet_p, pinv_p, qr_p, solve_p, svd_cores,
                             mH, svd_p, unpack)
from .linalg import matmul
from .products import cross as _cross, dot, np_matmul, outer as _outer, tensordot as _tensordot
from .reduce import max as _max, min as _min, sum as _sum
from .shape import expand_dims, getitem, reshape, swapaxes_last as T, transpose

try:  # NumPy 2's named results (plain tuples otherwise)
    from numpy.linalg._linalg import (EighResult, EigResult, QRResult, SlogdetResult,
                                      SVDResult)
except ImportError:  # pragma: no cover
    EighResult = EigResult = QRResult = SlogdetResult = SVDResult = None


def _result(cls, *parts):
    return cls(*parts) if cls is not None else tuple(parts)


def _square(a, name):
    shp = shape_of(a)
    if len(shp) < 2 or shp[-1] != shp[-2]:
        raise np.linalg.LinAlgError(
            f"np.linalg.{name}: needs square matrices in the last two axes, got shape {shp}")
    return shp[-1]


def inv(a):
    """np.linalg.inv: the inverse of each matrix; d(A^-1) = -A^-1 dA A^-1."""
    a = pack(a)
    _square(a, "inv")
    return inv_p(a)


def solve(a, b):
    """np.linalg.solve: x with a x = b (b a vector when 1-D, else a stack of matrices)."""
    a, b = pack(a), pack(b)
    _square(a, "solve")
    if len(shape_of(b)) == 1:
        return getitem(solve_p(a, expand_dims(b, -1)), (Ellipsis, 0))
    return solve_p(a, b)


def det(a):
    """np.linalg.det; d det(A) = det(A) tr(A^-1 dA)."""
    a = pack(a)
    _square(a, "det")
    return det_p(a)


# recorded (as a vertex without gradient) so that a replayed program recomputes it
_slogdet_sign = ConstantPrimitive(lambda a: np.linalg.slogdet(a)[0], "linalg.slogdet_sign")


def slogdet(a):
    """np.linalg.slogdet: (sign, log|det|); the sign is piecewise constant (no gradient)."""
    a = pack(a)
    _square(a, "slogdet")
    return _result(SlogdetResult, _slogdet_sign(a), logabsdet_p(a))


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """np.linalg.pinv; its derivative holds where the rank does not change."""
    a = pack(a)
    if rtol is not None:
        rcond = rtol
    kw = {"hermitian": hermitian} if rcond is None else {"rcond": rcond, "hermitian": hermitian}
    return pinv_p(a, **kw)


def cholesky(a, /, *, upper=False):
    """np.linalg.cholesky (reads the lower triangle; upper=True reads the upper one)."""
    a = pack(a)
    _square(a, "cholesky")
    if upper:  # reads the upper triangle: the lower one of a^H; returns L^H
        return mH(chol_p(mH(a)))
    return chol_p(a)


def eigh(a, UPLO="L"):
    """np.linalg.eigh: (eigenvalues ascending, eigenvectors in columns) of a symmetric matrix."""
    a = pack(a)
    n = _square(a, "eigh")
    if UPLO not in ("L", "U", "l", "u"):
        raise ValueError(f"np.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    if type(a) is not Tensor:
        return np.linalg.eigh(a, UPLO=UPLO)
    w, V = eigh_parts(eigh_p(a, UPLO=UPLO.upper()), n)
    if np.iscomplexobj(value(a)):  # packed with V, the eigenvalues came out complex
        w = real(w)
    return _result(EighResult, w, V)


def eigvalsh(a, UPLO="L"):
    """np.linalg.eigvalsh: the eigenvalues of a symmetric matrix, ascending."""
    a = pack(a)
    if type(a) is not Tensor:
        return np.linalg.eigvalsh(a, UPLO=UPLO)
    return eigh(a, UPLO)[0]


def eig(a):
    """np.linalg.eig: eigenvalues and unit eigenvectors (complex unless all are real)."""
    a = pack(a)
    n = _square(a, "eig")
    if type(a) is not Tensor:
        return np.linalg.eig(a)
    w, U = unpack(eig_p(a), [(n,), (n, n)])
    return _result(EigResult, w, U)


def eigvals(a):
    """np.linalg.eigvals."""
    a = pack(a)
    if type(a) is not Tensor:
        return np.linalg.eigvals(a)
    return eig(a)[0]


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """np.linalg.svd: U, S, Vh (or S alone with compute_uv=False)."""
    a = pack(a)
    if len(shape_of(a)) < 2:
        raise np.linalg.LinAlgError(f"np.linalg.svd: needs matrices, got shape {shape_of(a)}")
    if type(a) is not Tensor:
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                             hermitian=hermitian)
    full = bool(full_matrices) and compute_uv
    cores = svd_cores(a, full)[0]
    U, s, Vh = unpack(svd_p(a, full_matrices=full), cores)
    if np.iscomplexobj(value(a)):  # packed with U and Vh, the values came out complex
        s = real(s)
    if not compute_uv:
        return s
    return _result(SVDResult, U, s, Vh)


def svdvals(x, /):
    """np.linalg.svdvals: the singular values, descending."""
    return svd(x, compute_uv=False)


def qr(a, mode="reduced"):
    """np.linalg.qr; differentiable for m >= n, modes "reduced", "r" ("complete" if m == n)."""
    a = pack(a)
    if type(a) is not Tensor:
        return np.linalg.qr(a, mode=mode)
    shp = shape_of(a)
    if len(shp) < 2:
        raise np.linalg.LinAlgError(f"np.linalg.qr: needs matrices, got shape {shp}")
    m, n = shp[-2:]
    if mode not in ("reduced", "r", "complete") or m < n or (mode == "complete" and m != n):
        raise NotImplementedError(
            f"np.linalg.qr(mode={mode!r}) of a {m}x{n} matrix has no derivative rule in "
            f"chainrule: only m >= n with mode 'reduced' or 'r' (Q's completion in 'complete' "
            f"is not unique, and 'raw' is LAPACK's storage). Use mode='reduced' (of a^T for a "
            f"wide matrix).")
    Q, R = unpack(qr_p(a), [(m, n), (n, n)])
    if mode == "r":
        return R
    return _result(QRResult, Q, R)


# ----- norm ----------------------------------------------------------------------------
def _norm2_fun(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(np.real(x * np.conj(x)), axis=axis, keepdims=keepdims))


def _norm2_unit(ans, x, axis, keepdims):
    """conj(x)/||x||, 0 where ||x|| = 0 (PyTorch's subgradient)."""
    a = ans if keepdims else reshape(ans, kept_shape(shape_of(x), axis))
    zero = equal(a, 0)
    one = dtype_of(ans).type(1)
    return divide(conj(x) if np.iscomplexobj(value(x)) else x, where(zero, one, a))


def _norm2_vjp(g, ans, x, axis=None, keepdims=False):
    if not keepdims:
        g = reshape(g, kept_shape(shape_of(x), axis))
    return multiply(g, _norm2_unit(ans, x, axis, keepdims))


def _norm2_jvp(t, ans, x, axis=None, keepdims=False):
    d = _sum(multiply(t, _norm2_unit(ans, x, axis, keepdims)), axis, keepdims=keepdims)
    return real(d) if np.iscomplexobj(value(d)) else d


_norm2 = Primitive(_norm2_fun, "linalg.norm")
_norm2.defvjp(_norm2_vjp)
_norm2.defjvp(_norm2_jvp)


def _abs(x):
    return abs_(x)  # the core's: conj(x)/|x| for complex x, 0 at 0 (autograd's convention)


_count_nonzero = ConstantPrimitive(
    lambda x, axis=None, keepdims=False: np.sum(x != 0, axis=axis, keepdims=keepdims).astype(
        np.real(np.zeros((), x.dtype)).dtype), "linalg.norm_ord0")


def _vector_norm(x, ord, axis, keepdims):
    """Vector norms along the axes in ``axis`` (a tuple)."""
    if ord is None or ord == 2:
        return _norm2(x, axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return _max(_abs(x), axis, keepdims=keepdims)
    if ord == -np.inf:
        return _min(_abs(x), axis, keepdims=keepdims)
    if ord == 0:  # the number of non-zero entries: piecewise constant, no gradient
        return _count_nonzero(x, axis=axis, keepdims=keepdims)
    if ord == 1:
        return _sum(_abs(x), axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"np.linalg.norm: invalid norm order {ord!r} for vectors")
    dt = np.real(np.zeros((), dtype_of(x))).dtype.type
    return power(_sum(power(_abs(x), dt(ord)), axis, keepdims=keepdims), dt(1.0 / ord))


def _matrix_norm(x, ord, axes, keepdims):
    """Matrix norms over the pair of axes ``axes`` (row axis, column axis)."""
    row, col = axes
    nd = len(shape_of(x))
    if ord in (None, "fro", "f"):
        return _norm2(x, axis=(row, col), keepdims=keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        # 1: max over columns of the column sums of |x|; inf: max over rows of row sums
        inner_axis, outer_axis = (row, col) if ord in (1, -1) else (col, row)
        s = _sum(_abs(x), inner_axis, keepdims=True)
        r = (_max if ord > 0 else _min)(s, outer_axis, keepdims=True)
    elif ord in (2, -2, "nuc"):
        order = [i for i in range(nd) if i not in (row, col)] + [row, col]
        sv = svd(transpose(x, tuple(order)), compute_uv=False)
        r = _max(sv, -1) if ord == 2 else _min(sv, -1) if ord == -2 else _sum(sv, -1)
        r = expand_dims(expand_dims(r, -1), -1)
        inverse = tuple(np.argsort(order))
        r = transpose(r, inverse)
    else:
        raise ValueError(f"np.linalg.norm: invalid norm order {ord!r} for matrices")
    if keepdims:
        return r
    return reshape(r, tuple(s for i, s in enumerate(shape_of(x)) if i not in (row, col)))


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: vector norms (ord None, inf, -inf, 0, 1, p) and matrix norms
    ('fro', 'nuc', 1, -1, 2, -2, inf, -inf), over ``axis``, with keepdims.

    The 2-norm and 'fro' have gradient 0 at x = 0 (see the module docstring).
    """
    x = pack(x)
    if type(x) is not Tensor:
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = len(shape_of(x))
    if axis is None:
        if ord is None:
            return _norm2(x, axis=None, keepdims=keepdims) if not keepdims else \
                _norm2(x, axis=tuple(range(nd)), keepdims=True)
        if nd == 1:
            axis = (0,)
        elif nd == 2:
            axis = (0, 1)
        else:
            raise ValueError(f"np.linalg.norm: improper number of dimensions to norm "
                             f"(ord={ord!r} needs 1-D or 2-D input, or axis=); got shape "
                             f"{shape_of(x)}")
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    axis = tuple(int(a) % nd for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis, keepdims)
    if len(axis) == 2:
        if axis[0] == axis[1]:
            raise ValueError("np.linalg.norm: duplicate axes given")
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError(f"np.linalg.norm: improper number of dimensions to norm (axis={axis})")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """np.linalg.vector_norm (NumPy 2): over all axes by default."""
    x = pack(x)
    if type(x) is not Tensor:
        return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    nd = len(shape_of(x))
    axes = normalize_axis(axis, nd)
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """np.linalg.matrix_norm (NumPy 2): over the last two axes."""
    x = pack(x)
    if type(x) is not Tensor:
        return np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    nd = len(shape_of(x))
    return _matrix_norm(x, ord, (nd - 2, nd - 1), keepdims)


# ----- built from the above -----------------------------------------------------------------
def matrix_power(a, n):
    """np.linalg.matrix_power: repeated squaring (n < 0 inverts first)."""
    a = pack(a)
    k = _square(a, "matrix_power")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"np.linalg.matrix_power: exponent must be an integer, got {n!r}")
    if n == 0:
        return np.broadcast_to(np.eye(k, dtype=dtype_of(a)), shape_of(a)).copy()
    if n < 0:
        a, n = inv(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def multi_dot(arrays, *, out=None):
    """np.linalg.multi_dot: a chain of dot products (first/last may be 1-D)."""
    arrays = [pack(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError("np.linalg.multi_dot: expecting at least two arrays")
    r = arrays[0]
    for b in arrays[1:]:
        r = dot(r, b)
    return r


def tensorinv(a, ind=2):
    """np.linalg.tensorinv: the inverse for tensordot over the first ``ind`` axes."""
    a = pack(a)
    shp = shape_of(a)
    lead = math.prod(shp[:ind])
    inv_a = inv(reshape(a, (lead, -1)))
    return reshape(inv_a, shp[ind:] + shp[:ind])


def tensorsolve(a, b, axes=None):
    """np.linalg.tensorsolve: x with tensordot(a, x, x.ndim) = b."""
    a, b = pack(a), pack(b)
    nd = len(shape_of(a))
    if axes is not None:
        order = [i for i in range(nd) if i not in [x % nd for x in axes]] + \
                [x % nd for x in axes]
        a = transpose(a, tuple(order))
    shp = shape_of(a)
    xshape = shp[len(shape_of(b)):]
    n = math.prod(xshape)
    x = solve(reshape(a, (-1, n)), reshape(b, (-1,)))
    return reshape(x, xshape)


def lstsq(a, b, rcond=None):
    """np.linalg.lstsq: (x, residuals, rank, s); x = pinv(a) b, differentiable where the
    rank does not change; rank has no gradient."""
    a, b = pack(a), pack(b)
    m, n = shape_of(a)
    sv = np.linalg.svd(value(a), compute_uv=False)
    if rcond is None:
        rcond = np.finfo(dtype_of(a)).eps * max(m, n)
    rank = int(np.sum(sv > rcond * sv[0])) if sv.size else 0
    x = matmul(pinv_p(a, rcond=rcond, hermitian=False), b)
    if rank < n or m <= n:
        resid = np.empty((0,), dtype=np.real(np.zeros((), dtype_of(x))).dtype)
    else:
        r = subtract(b, matmul(a, x))
        resid = _sum(multiply(r, r), 0)
        if len(shape_of(b)) == 1:
            resid = reshape(resid, (1,))
    return x, resid, rank, svdvals(a)


def cond(x, p=None):
    """np.linalg.cond: sigma_max / sigma_min for p None, 2 (-2 inverts), else
    norm(x, p) * norm(inv(x), p)."""
    x = pack(x)
    if p is None or p in (2, -2):
        s = svdvals(x)
        big, small = getitem(s, (Ellipsis, 0)), getitem(s, (Ellipsis, -1))
        return divide(big, small) if p != -2 else divide(small, big)
    nd = len(shape_of(x))
    return multiply(norm(x, p, axis=(nd - 2, nd - 1)), norm(inv(x), p, axis=(nd - 2, nd - 1)))


def _diagonal_last(x, offset=0):
    if offset > 0:
        x = getitem(x, (Ellipsis, slice(offset, None)))
    elif offset < 0:
        x = getitem(x, (Ellipsis, slice(-offset, None), slice(None)))
    m = min(shape_of(x)[-2:])
    x = getitem(x, (Ellipsis, slice(0, m), slice(0, m)))
    return diag_part(x)


def la_diagonal(x, /, *, offset=0):
    """np.linalg.diagonal (NumPy 2): the diagonals of the last two axes."""
    return _diagonal_last(pack(x), offset)


def la_trace(x, /, *, offset=0, dtype=None):
    """np.linalg.trace (NumPy 2): the traces of the last two axes."""
    return _sum(_diagonal_last(pack(x), offset), -1)


def la_outer(x1, x2, /):
    """np.linalg.outer (NumPy 2): outer product of two vectors."""
    x1, x2 = pack(x1), pack(x2)
    if len(shape_of(x1)) != 1 or len(shape_of(x2)) != 1:
        raise ValueError(f"np.linalg.outer: needs 1-D inputs, got shapes {shape_of(x1)} and "
                         f"{shape_of(x2)}")
    return _outer(x1, x2)


def la_cross(x1, x2, /, *, axis=-1):
    """np.linalg.cross (NumPy 2): 3-vectors only."""
    x1, x2 = pack(x1), pack(x2)
    if shape_of(x1)[axis] != 3 or shape_of(x2)[axis] != 3:
        raise ValueError("np.linalg.cross: both inputs must be 3-vectors along axis "
                         f"{axis}, got shapes {shape_of(x1)} and {shape_of(x2)}")
    return _cross(x1, x2, axis=axis)


def vecdot(x1, x2, /, *, axis=-1):
    """np.linalg.vecdot (NumPy 2): sum(conj(x1) * x2) along ``axis``."""
    x1, x2 = pack(x1), pack(x2)
    if np.iscomplexobj(value(x1)):
        x1 = conj(x1)
    return _sum(multiply(x1, x2), axis)


def la_tensordot(x1, x2, /, *, axes=2):
    """np.linalg.tensordot (NumPy 2)."""
    return _tensordot(x1, x2, axes)


def matrix_transpose(x, /):
    """np.linalg.matrix_transpose (NumPy 2): swap the last two axes."""
    x = pack(x)
    if len(shape_of(x)) < 2:
        raise ValueError(f"np.linalg.matrix_transpose: needs at least 2-D input, got shape "
                         f"{shape_of(x)}")
    return T(x)


NUMPY_IMPLS = {
    np.linalg.inv: inv, np.linalg.pinv: pinv, np.linalg.det: det, np.linalg.slogdet: slogdet,
    np.linalg.solve: solve, np.linalg.norm: norm, np.linalg.cholesky: cholesky,
    np.linalg.eigh: eigh, np.linalg.eigvalsh: eigvalsh, np.linalg.eig: eig,
    np.linalg.eigvals: eigvals, np.linalg.svd: svd, np.linalg.qr: qr,
    np.linalg.matrix_power: matrix_power, np.linalg.multi_dot: multi_dot,
    np.linalg.tensorinv: tensorinv, np.linalg.tensorsolve: tensorsolve,
    np.linalg.lstsq: lstsq, np.linalg.cond: cond,
}
for _name, _impl in [("svdvals", svdvals), ("vector_norm", vector_norm),
                     ("matrix_norm", matrix_norm), ("diagonal", la_diagonal),
                     ("trace", la_trace), ("outer", la_outer), ("cross", la_cross),
                     ("vecdot", vecdot), ("tensordot", la_tensordot),
                     ("matmul", np_matmul), ("matrix_transpose", matrix_transpose)]:
    if hasattr(np.linalg, _name):  # NumPy 2 names
        NUMPY_IMPLS[getattr(np.linalg, _name)] = _impl
