"""np.linalg: inv, pinv, det, slogdet, solve, norm, cholesky, eigh, eig, svd, qr and friends.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).
Every function works on stacks of matrices (leading batch axes).

Decompositions with several results (eigh, eig, svd, qr) are one primitive
whose value packs the results side by side along the last axis; the public
function unpacks them with indexing, so the factorisation runs once and its
rules see the cotangents of all results together (a result that is not used
gets a zero cotangent).

Conventions (docs/numerics; the tests check each):

- eigh / eigvalsh / cholesky read one triangle of the input (UPLO='L': the
  lower, as NumPy does); the gradient is the true one of that function of all
  n^2 entries: zero on the triangle that is not read, the symmetric matrix's
  gradient G as diag(G) + the read triangle of G + G^T elsewhere. For a
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
- Complex input: inv, solve, det, slogdet, matrix_power, multi_dot, eig,
  eigvals, eigh, eigvalsh, norm (vector norms, 'fro') follow autograd's
  convention (holomorphic rules do not conjugate; a real function of z has
  gradient df/dx - i df/dy). eigh of a complex Hermitian matrix reads one
  triangle and the real part of the diagonal, as LAPACK does; its gradient is
  zero on what is not read. cholesky, svd (so 'nuc', 2, -2 norms), qr and
  pinv of complex Tensors are refused (TypeError): their rules here are for
  real matrices.
"""
import math

import numpy as np

from ..tensor import Tensor
from ..primitive import ConstantPrimitive, Primitive
from ._util import kept_shape, normalize_axis, pack, shape_of, value
from .compare import equal, logical_and, not_equal
from .elementwise import (add, divide, multiply, negative, power, sqrt, subtract, where)
from .linalg import matmul
from .products import (conj, cross as _cross, dot, einsum_p, like_input, np_matmul, outer as
                       _outer, real, tensordot as _tensordot, trace_last)
from .reduce import max as _max, min as _min, sum as _sum
from .shape import concatenate, expand_dims, getitem, reshape, swapaxes_last as T, transpose

try:  # NumPy 2's named results (plain tuples otherwise)
    from numpy.linalg._linalg import (EighResult, EigResult, QRResult, SlogdetResult,
                                      SVDResult)
except ImportError:  # pragma: no cover
    EighResult = EigResult = QRResult = SlogdetResult = SVDResult = None


def _result(cls, *parts):
    return cls(*parts) if cls is not None else tuple(parts)


# ----- helpers (chainrule ops, so rules differentiate again) --------------------------------
def _dtype(x):
    return np.result_type(value(x))


def _eye(n, x):
    return np.eye(n, dtype=_dtype(x))


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal."""
    n = shape_of(v)[-1]
    return multiply(expand_dims(v, -1), _eye(n, v))


def _diag_part(x):
    """(..., n, n) -> (..., n): the diagonal."""
    lead = "BCDEFGHIJKLMNOPQRSTUVWXYZ"[:len(shape_of(x)) - 2]
    return einsum_p(x, subscripts=lead + "ii->" + lead + "i")


def _over_gaps(X, w, touch=None):
    """F o X with F_ij = 1 / (w_j - w_i): the eigenvector terms of eigh, eig and svd.

    The diagonal is 0. Where w_j == w_i exactly (a repeated eigenvalue) the pair
    contributes 0 if ``touch`` (default X) is 0 there, so that eigenvalues alone
    always have finite gradients, and nan otherwise: the eigenvectors of a
    repeated eigenvalue have no derivative (PyTorch gives nan/inf there too).
    """
    d = subtract(expand_dims(w, -2), expand_dims(w, -1))
    tie = equal(d, 0)
    dt = _dtype(X)
    zero, one = dt.type(0), np.real(np.ones((), dt)).dtype.type(1)
    r = where(tie, zero, divide(X, where(tie, one, d)))
    n = shape_of(w)[-1]
    bad = logical_and(logical_and(tie, ~np.eye(n, dtype=bool)),
                      not_equal(X if touch is None else touch, 0))
    return where(bad, dt.type(np.nan), r)


def _read_triangle(t, lower):
    """The symmetric (Hermitian) matrix a function reading one triangle of t sees.

    For complex t the other triangle is the conjugate, and the diagonal's imaginary
    part is ignored (as LAPACK does).
    """
    n = shape_of(t)[-1]
    strict = (np.tril(np.ones((n, n)), -1) if lower else np.triu(np.ones((n, n)), 1))
    off = multiply(t, strict.astype(_dtype(t)))
    if np.iscomplexobj(value(t)):
        diag = multiply(real(t), np.eye(n))
        return add(add(off, T(conj(off))), diag)
    return add(add(off, T(off)), multiply(t, np.eye(n, dtype=_dtype(t))))


def _triangle_adjoint(G, lower):
    """The adjoint of _read_triangle (G: the gradient of the symmetric matrix, as
    dL = Re sum(G * S)): diag(G) + the read triangle of G + G^T (conjugated for complex)."""
    n = shape_of(G)[-1]
    strict = (np.tril if lower else np.triu)(np.ones((n, n)), -1 if lower else 1)
    if np.iscomplexobj(value(G)):
        return add(multiply(real(G), np.eye(n)),
                   multiply(add(G, T(conj(G))), strict.astype(_dtype(G))))
    return add(multiply(G, np.eye(n, dtype=_dtype(G))),
               multiply(add(G, T(G)), strict.astype(_dtype(G))))


def _pack(parts, batch):
    """NumPy arrays with the same batch shape, flattened and joined along the last axis."""
    return np.concatenate([np.reshape(p, batch + (-1,)) for p in parts], -1)


def _unpack(x, cores):
    """The parts of a packed value (Tensor or array), with their core shapes."""
    batch = shape_of(x)[:-1]
    out, start = [], 0
    for core in cores:
        n = math.prod(core)
        out.append(reshape(getitem(x, (Ellipsis, slice(start, start + n))), batch + core))
        start += n
    return out


def _pack_ops(parts):
    batch = shape_of(parts[0])[:-2] if len(shape_of(parts[0])) >= 2 else ()
    return concatenate([reshape(p, batch + (-1,)) for p in parts], -1)


def _square(a, name):
    shp = shape_of(a)
    if len(shp) < 2 or shp[-1] != shp[-2]:
        raise np.linalg.LinAlgError(
            f"np.linalg.{name}: needs square matrices in the last two axes, got shape {shp}")
    return shp[-1]


def _real_only(a, name, instead=""):
    if type(a) is Tensor and np.iscomplexobj(a.value):
        raise TypeError(f"np.linalg.{name}: complex input is not differentiable in chainrule "
                        f"(its rule here is for real matrices).{instead}")


def _mT(x, y):
    """x @ y^T over batches."""
    return matmul(x, T(y))


# ----- inv, solve, det, slogdet -----------------------------------------------------------
_inv_p = Primitive(np.linalg.inv, "linalg.inv")
_inv_p.defvjp(lambda g, ans, a: negative(matmul(matmul(T(ans), g), T(ans))))
_inv_p.defjvp(lambda t, ans, a: negative(matmul(matmul(ans, t), ans)))


def inv(a):
    """np.linalg.inv: the inverse of each matrix; d(A^-1) = -A^-1 dA A^-1."""
    a = pack(a)
    _square(a, "inv")
    return _inv_p(a)


_solve_p = Primitive(np.linalg.solve, "linalg.solve", broadcasts=True)


def _solve_vjp_b(g, ans, a, b):
    return _solve_p(T(a), g)


_solve_p.defvjp(lambda g, ans, a, b: negative(_mT(_solve_p(T(a), g), ans)), _solve_vjp_b)
_solve_p.defjvp(lambda t, ans, a, b: negative(_solve_p(a, matmul(t, ans))),
                lambda t, ans, a, b: _solve_p(a, t))


def solve(a, b):
    """np.linalg.solve: x with a x = b (b a vector when 1-D, else a stack of matrices)."""
    a, b = pack(a), pack(b)
    _square(a, "solve")
    if len(shape_of(b)) == 1:
        return getitem(_solve_p(a, expand_dims(b, -1)), (Ellipsis, 0))
    return _solve_p(a, b)


def _bcast(g):
    return expand_dims(expand_dims(g, -1), -1)


def _cofactors(a, ans):
    """d det(A) / dA = adj(A)^T: det(A) A^-T, or, when some det(A) is exactly 0 (A^-1
    does not exist, though the derivative does), det(U) det(V) U diag(c) V^T from the
    SVD, c_i the product of the singular values other than s_i."""
    if np.iscomplexobj(value(a)) or np.all(value(ans) != 0):
        return multiply(_bcast(ans), T(_inv_p(a)))
    n = shape_of(a)[-1]
    U, s, Vh = _unpack(_svd_p(a, full_matrices=False), _svd_cores(a, False)[0])
    others = where(np.eye(n, dtype=bool), _dtype(s).type(1), expand_dims(s, -2))
    c = getitem(others, (Ellipsis, 0))
    for j in range(1, n):  # the product along the last axis (no division by a zero s)
        c = multiply(c, getitem(others, (Ellipsis, j)))
    sign = np.linalg.det(value(U)) * np.linalg.det(value(Vh))  # +-1: no derivative
    return multiply(_bcast(sign), matmul(multiply(U, expand_dims(c, -2)), Vh))


_det_p = Primitive(np.linalg.det, "linalg.det")
_det_p.defvjp(lambda g, ans, a: multiply(_bcast(g), _cofactors(a, ans)))
_det_p.defjvp(lambda t, ans, a: _sum(multiply(_cofactors(a, ans), t), (-2, -1)))


def det(a):
    """np.linalg.det; d det(A) = det(A) tr(A^-1 dA)."""
    a = pack(a)
    _square(a, "det")
    return _det_p(a)


def _logabsdet_fun(a):
    return np.linalg.slogdet(a)[1]


def _logabsdet_jvp(t, ans, a):
    d = trace_last(_solve_p(a, t))
    return real(d) if np.iscomplexobj(value(d)) else d


_logabsdet_p = Primitive(_logabsdet_fun, "linalg.slogdet")
# d log|det A| = Re tr(A^-1 dA); for complex A, autograd's convention gives g A^-T too
_logabsdet_p.defvjp(lambda g, ans, a: multiply(_bcast(g), T(_inv_p(a))))
_logabsdet_p.defjvp(_logabsdet_jvp)


# recorded (as a vertex without gradient) so that a replayed program recomputes it
_slogdet_sign = ConstantPrimitive(lambda a: np.linalg.slogdet(a)[0], "linalg.slogdet_sign")


def slogdet(a):
    """np.linalg.slogdet: (sign, log|det|); the sign is piecewise constant (no gradient)."""
    a = pack(a)
    _square(a, "slogdet")
    return _result(SlogdetResult, _slogdet_sign(a), _logabsdet_p(a))


# ----- pinv -----------------------------------------------------------------------------------
def _pinv_fun(a, rcond=None, hermitian=False):
    return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian) if rcond is not None else \
        np.linalg.pinv(a, hermitian=hermitian)


def _pinv_vjp(g, ans, a, **kw):
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, transposed term by term
    P = ans
    m = shape_of(a)[-2]
    n = shape_of(a)[-1]
    i_ap = subtract(_eye(m, a), matmul(a, P))
    i_pa = subtract(_eye(n, a), matmul(P, a))
    t1 = negative(matmul(matmul(T(P), g), T(P)))
    t2 = matmul(matmul(i_ap, T(g)), matmul(P, T(P)))
    t3 = matmul(matmul(matmul(T(P), P), T(g)), i_pa)
    return add(add(t1, t2), t3)


def _pinv_jvp(t, ans, a, **kw):
    P = ans
    m, n = shape_of(a)[-2], shape_of(a)[-1]
    i_ap = subtract(_eye(m, a), matmul(a, P))
    i_pa = subtract(_eye(n, a), matmul(P, a))
    t1 = negative(matmul(matmul(P, t), P))
    t2 = matmul(matmul(matmul(P, T(P)), T(t)), i_ap)
    t3 = matmul(matmul(i_pa, T(t)), matmul(T(P), P))
    return add(add(t1, t2), t3)


_pinv_p = Primitive(_pinv_fun, "linalg.pinv")
_pinv_p.defvjp(_pinv_vjp)
_pinv_p.defjvp(_pinv_jvp)


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """np.linalg.pinv; its derivative holds where the rank does not change."""
    a = pack(a)
    _real_only(a, "pinv")
    if rtol is not None:
        rcond = rtol
    kw = {"hermitian": hermitian} if rcond is None else {"rcond": rcond, "hermitian": hermitian}
    return _pinv_p(a, **kw)


# ----- cholesky --------------------------------------------------------------------------
def _phi(x):
    """The lower triangle with the diagonal halved."""
    n = shape_of(x)[-1]
    m = np.tril(np.ones((n, n))) - 0.5 * np.eye(n)
    return multiply(x, m.astype(_dtype(x)))


def _chol_vjp(g, ans, a):
    L = ans
    P = _phi(matmul(T(L), g))
    Y = _solve_p(T(L), P)                       # L^-T P
    S = T(_solve_p(T(L), T(Y)))                 # L^-T P L^-1
    return _triangle_adjoint(multiply(add(S, T(S)), _dtype(S).type(0.5)), True)


def _chol_jvp(t, ans, a):
    L = ans
    Z = _solve_p(L, _read_triangle(t, True))   # L^-1 dA
    W = T(_solve_p(L, T(Z)))                   # L^-1 dA L^-T
    return matmul(L, _phi(W))


_chol_p = Primitive(np.linalg.cholesky, "linalg.cholesky")
_chol_p.defvjp(_chol_vjp)
_chol_p.defjvp(_chol_jvp)


def cholesky(a, /, *, upper=False):
    """np.linalg.cholesky (reads the lower triangle; upper=True reads the upper one)."""
    a = pack(a)
    _square(a, "cholesky")
    _real_only(a, "cholesky")
    if upper:
        return T(_chol_p(T(a)))
    return _chol_p(a)


# ----- eigh, eigvalsh -----------------------------------------------------------------------
def _eigh_fun(a, UPLO="L"):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return _pack([w, v], a.shape[:-2])


def _eigh_parts(x, n):
    return _unpack(x, [(n,), (n, n)])


def _eigh_vjp(g, ans, a, UPLO="L"):
    # G = conj(V) (diag(gw) + F o (V^T gV)) V^T, then the adjoint of reading one triangle
    n = shape_of(a)[-1]
    w, V = _eigh_parts(ans, n)
    gw, gV = _eigh_parts(g, n)
    herm = np.iscomplexobj(value(V))
    if herm:
        w, gw = real(w), real(gw)  # the eigenvalues are real
    inner = add(_diag_embed(gw), _over_gaps(matmul(T(V), gV), w))
    G = matmul(matmul(conj(V) if herm else V, inner), T(V))
    return _triangle_adjoint(G, UPLO.upper() == "L")


def _eigh_jvp(t, ans, a, UPLO="L"):
    # P = V^H dA V: dw = Re diag(P), dV = V (F o P) (no phase rotation: see the docstring)
    n = shape_of(a)[-1]
    w, V = _eigh_parts(ans, n)
    herm = np.iscomplexobj(value(V))
    if herm:
        w = real(w)
    P = matmul(matmul(T(conj(V)) if herm else T(V), _read_triangle(t, UPLO.upper() == "L")), V)
    dw = _diag_part(P)
    if herm:
        dw = real(dw)
    return _pack_ops([expand_dims(dw, -2), matmul(V, _over_gaps(P, w))])


_eigh_p = Primitive(_eigh_fun, "linalg.eigh")
_eigh_p.defvjp(_eigh_vjp)
_eigh_p.defjvp(_eigh_jvp)


def eigh(a, UPLO="L"):
    """np.linalg.eigh: (eigenvalues ascending, eigenvectors in columns) of a symmetric matrix."""
    a = pack(a)
    n = _square(a, "eigh")
    if UPLO not in ("L", "U", "l", "u"):
        raise ValueError(f"np.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    if type(a) is not Tensor:
        return np.linalg.eigh(a, UPLO=UPLO)
    w, V = _eigh_parts(_eigh_p(a, UPLO=UPLO.upper()), n)
    if np.iscomplexobj(value(a)):  # packed with V, the eigenvalues came out complex
        w = real(w)
    return _result(EighResult, w, V)


def eigvalsh(a, UPLO="L"):
    """np.linalg.eigvalsh: the eigenvalues of a symmetric matrix, ascending."""
    a = pack(a)
    if type(a) is not Tensor:
        return np.linalg.eigvalsh(a, UPLO=UPLO)
    return eigh(a, UPLO)[0]


# ----- eig, eigvals --------------------------------------------------------------------------
def _eig_fun(a):
    w, v = np.linalg.eig(a)
    return _pack([w, v], a.shape[:-2])


def _eig_vjp(g, ans, a):
    # Transpose of _eig_jvp: grad = U^-T (diag(gw) + F o (U^T gUC)) U^T, where gUC is the
    # cotangent before the unit-norm correction (autograd's formula).
    n = shape_of(a)[-1]
    w, U = _unpack(ans, [(n,), (n, n)])
    gw, gU = _unpack(g, [(n,), (n, n)])
    q = _sum(multiply(gU, U), -2, keepdims=True)
    if np.iscomplexobj(value(q)):
        gU = subtract(gU, multiply(conj(U), real(q)))
    else:
        gU = subtract(gU, multiply(U, q))
    inner = add(_diag_embed(gw), _over_gaps(matmul(T(U), gU), w))
    r = _solve_p(T(U), _mT(inner, U))
    return like_input(a, r)


def _eig_jvp(t, ans, a):
    n = shape_of(a)[-1]
    w, U = _unpack(ans, [(n,), (n, n)])
    P = _solve_p(U, matmul(t, U))                        # U^-1 dA U
    UC = matmul(U, _over_gaps(P, w))
    s = _sum(multiply(conj(U), UC) if np.iscomplexobj(value(U)) else multiply(U, UC), -2,
             keepdims=True)
    if np.iscomplexobj(value(s)):
        s = real(s)
    dU = subtract(UC, multiply(U, s))                   # keeps each column of unit norm
    dw = expand_dims(_diag_part(P), -2)
    out = _pack_ops([dw, dU])
    return out


_eig_p = Primitive(_eig_fun, "linalg.eig")
_eig_p.defvjp(_eig_vjp)
_eig_p.defjvp(_eig_jvp)


def eig(a):
    """np.linalg.eig: eigenvalues and unit eigenvectors (complex unless all are real)."""
    a = pack(a)
    n = _square(a, "eig")
    if type(a) is not Tensor:
        return np.linalg.eig(a)
    w, U = _unpack(_eig_p(a), [(n,), (n, n)])
    return _result(EigResult, w, U)


def eigvals(a):
    """np.linalg.eigvals."""
    a = pack(a)
    if type(a) is not Tensor:
        return np.linalg.eigvals(a)
    return eig(a)[0]


# ----- svd -------------------------------------------------------------------------------
def _svd_fun(a, full_matrices=False):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return _pack([u, s, vh], a.shape[:-2])


def _svd_cores(a, full):
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    return [(m, m if full else k), (k,), (n if full else k, n)], m, n, k


def _svd_parts(x, a, full):
    cores, m, n, k = _svd_cores(a, full)
    U, s, Vh = _unpack(x, cores)
    if full:  # the first k columns of U and rows of Vh are unique (up to sign)
        U = getitem(U, (Ellipsis, slice(0, k)))
        Vh = getitem(Vh, (Ellipsis, slice(0, k), slice(None)))
    return U, s, T(Vh), m, n, k


def _svd_vjp(g, ans, a, full_matrices=False):
    U, s, V, m, n, k = _svd_parts(ans, a, full_matrices)
    gU, gs, gV, _, _, _ = _svd_parts(g, a, full_matrices)
    s2 = multiply(s, s)
    sr = expand_dims(s, -2)   # s along rows: X * sr = X S
    sc = expand_dims(s, -1)   # S X
    utgu = matmul(T(U), gU)
    vtgv = matmul(T(V), gV)
    t = add(add(multiply(_over_gaps(subtract(utgu, T(utgu)), s2, add(utgu, T(utgu))), sr),
                _diag_embed(gs)),
            multiply(sc, _over_gaps(subtract(vtgv, T(vtgv)), s2, add(vtgv, T(vtgv)))))
    r = matmul(matmul(U, t), T(V))
    if m > k:  # (I - U U^T) gU S^-1 V^T
        x = divide(gU, sr)
        r = add(r, _mT(subtract(x, matmul(U, matmul(T(U), x))), V))
    if n > k:  # U S^-1 gV^T (I - V V^T)
        x = divide(gV, sr)
        r = add(r, matmul(U, T(subtract(x, matmul(V, matmul(T(V), x))))))
    return r


def _svd_jvp(t, ans, a, full_matrices=False):
    U, s, V, m, n, k = _svd_parts(ans, a, full_matrices)
    s2 = multiply(s, s)
    sr, sc = expand_dims(s, -2), expand_dims(s, -1)
    dP = matmul(matmul(T(U), t), V)                        # U^T dA V
    ds = _diag_part(dP)
    dU = matmul(U, _over_gaps(add(multiply(dP, sr), multiply(sc, T(dP))), s2))
    dV = matmul(V, _over_gaps(add(multiply(sc, dP), multiply(T(dP), sr)), s2))
    if m > k:
        x = divide(matmul(t, V), sr)
        dU = add(dU, subtract(x, matmul(U, matmul(T(U), x))))
    if n > k:
        x = divide(matmul(T(t), U), sr)
        dV = add(dV, subtract(x, matmul(V, matmul(T(V), x))))
    dVh = T(dV)
    if full_matrices:  # the non-unique completion gets tangent 0 (see the module docstring)
        batch = shape_of(dU)[:-2]
        dt = _dtype(dU)
        if m > k:
            dU = concatenate([dU, np.zeros(batch + (m, m - k), dtype=dt)], -1)
        if n > k:
            dVh = concatenate([dVh, np.zeros(batch + (n - k, n), dtype=dt)], -2)
    return _pack_ops([dU, expand_dims(ds, -2), dVh])


_svd_p = Primitive(_svd_fun, "linalg.svd")
_svd_p.defvjp(_svd_vjp)
_svd_p.defjvp(_svd_jvp)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """np.linalg.svd: U, S, Vh (or S alone with compute_uv=False)."""
    a = pack(a)
    if len(shape_of(a)) < 2:
        raise np.linalg.LinAlgError(f"np.linalg.svd: needs matrices, got shape {shape_of(a)}")
    if type(a) is not Tensor:
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                             hermitian=hermitian)
    _real_only(a, "svd")
    full = bool(full_matrices) and compute_uv
    cores = _svd_cores(a, full)[0]
    U, s, Vh = _unpack(_svd_p(a, full_matrices=full), cores)
    if not compute_uv:
        return s
    return _result(SVDResult, U, s, Vh)


def svdvals(x, /):
    """np.linalg.svdvals: the singular values, descending."""
    return svd(x, compute_uv=False)


# ----- qr -------------------------------------------------------------------------------
def _qr_fun(a):
    q, r = np.linalg.qr(a, mode="reduced")
    return _pack([q, r], a.shape[:-2])


def _copyltu(M):
    """The lower triangle of M mirrored onto the upper one."""
    n = shape_of(M)[-1]
    low = np.tril(np.ones((n, n))).astype(_dtype(M))
    strict = np.tril(np.ones((n, n)), -1).astype(_dtype(M))
    return add(multiply(M, low), T(multiply(M, strict)))


def _qr_vjp(g, ans, a):
    m, n = shape_of(a)[-2:]
    Q, R = _unpack(ans, [(m, n), (n, n)])
    gQ, gR = _unpack(g, [(m, n), (n, n)])
    M = subtract(_mT(R, gR), matmul(T(gQ), Q))
    B = add(gQ, matmul(Q, _copyltu(M)))
    return T(_solve_p(R, T(B)))                         # B R^-T


def _qr_jvp(t, ans, a):
    m, n = shape_of(a)[-2:]
    Q, R = _unpack(ans, [(m, n), (n, n)])
    dA_Rinv = T(_solve_p(T(R), T(t)))                   # dA R^-1
    C = matmul(T(Q), dA_Rinv)
    strict = np.tril(np.ones((n, n)), -1).astype(_dtype(C))
    low = multiply(C, strict)
    upper = subtract(C, subtract(low, T(low)))           # C - Omega, upper triangular
    dR = matmul(upper, R)
    dQ = subtract(dA_Rinv, matmul(Q, upper))
    return _pack_ops([dQ, dR])


_qr_p = Primitive(_qr_fun, "linalg.qr")
_qr_p.defvjp(_qr_vjp)
_qr_p.defjvp(_qr_jvp)


def qr(a, mode="reduced"):
    """np.linalg.qr; differentiable for m >= n in modes 'reduced', 'r' (and 'complete' if m == n)."""
    a = pack(a)
    if type(a) is not Tensor:
        return np.linalg.qr(a, mode=mode)
    shp = shape_of(a)
    if len(shp) < 2:
        raise np.linalg.LinAlgError(f"np.linalg.qr: needs matrices, got shape {shp}")
    m, n = shp[-2:]
    _real_only(a, "qr")
    if mode not in ("reduced", "r", "complete") or m < n or (mode == "complete" and m != n):
        raise NotImplementedError(
            f"np.linalg.qr(mode={mode!r}) of a {m}x{n} matrix has no derivative rule in "
            f"chainrule: only m >= n with mode 'reduced' or 'r' (Q's completion in 'complete' "
            f"is not unique, and 'raw' is LAPACK's storage). Use mode='reduced' (of a^T for a "
            f"wide matrix).")
    Q, R = _unpack(_qr_p(a), [(m, n), (n, n)])
    if mode == "r":
        return R
    return _result(QRResult, Q, R)


# ----- norm ----------------------------------------------------------------------------
def _modulus_vjp(g, ans, x):
    # d|x| = Re(conj(x)/|x| dx); 0 at x = 0 (a subgradient, as for abs)
    zero = equal(ans, 0)
    one = _dtype(ans).type(1)
    u = divide(conj(x) if np.iscomplexobj(value(x)) else x, where(zero, one, ans))
    return multiply(g, u)


def _modulus_jvp(t, ans, x):
    d = _modulus_vjp(t, ans, x)
    return real(d) if np.iscomplexobj(value(d)) else d


_modulus = Primitive(np.abs, "abs", broadcasts=True)
_modulus.defvjp(_modulus_vjp)
_modulus.defjvp(_modulus_jvp)


def _norm2_fun(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(np.real(x * np.conj(x)), axis=axis, keepdims=keepdims))


def _norm2_unit(ans, x, axis, keepdims):
    """conj(x)/||x||, 0 where ||x|| = 0 (PyTorch's subgradient)."""
    a = ans if keepdims else reshape(ans, kept_shape(shape_of(x), axis))
    zero = equal(a, 0)
    one = _dtype(ans).type(1)
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
    return _modulus(x)


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
    dt = np.real(np.zeros((), _dtype(x))).dtype.type
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
        return np.broadcast_to(np.eye(k, dtype=_dtype(a)), shape_of(a)).copy()
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
        rcond = np.finfo(_dtype(a)).eps * max(m, n)
    rank = int(np.sum(sv > rcond * sv[0])) if sv.size else 0
    x = matmul(_pinv_p(a, rcond=rcond, hermitian=False), b)
    if rank < n or m <= n:
        resid = np.empty((0,), dtype=np.real(np.zeros((), _dtype(x))).dtype)
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
    return _diag_part(x)


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
