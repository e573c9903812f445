"""np.linalg's matrix functions as primitives, with their derivative rules.

inv, solve, det, slogdet, pinv, cholesky, eigh, eig, svd and qr, on stacks of
matrices. Every rule is written with chainrule's operations (these primitives
included), so it is differentiated again (second order, forward over reverse).
The conventions they follow (one triangle read, repeated eigenvalues, gauges,
singular matrices, complex input) are listed in ``npla``, which gives these
primitives NumPy's signatures.

Decompositions with several results (eigh, eig, svd, qr) are one primitive
whose value packs the results side by side along the last axis; the public
function unpacks them with indexing, so the factorisation runs once and its
rules see the cotangents of all results together (a result that is not used
gets a zero cotangent).
"""
import math

import numpy as np

from ..primitive import Primitive
from ._util import shape_of, value
from .compare import equal, logical_and, not_equal
from .elementwise import add, conj, divide, multiply, negative, real, subtract, where
from .linalg import matmul
from .products import einsum_p, trace_last
from .reduce import sum as _sum
from .shape import concatenate, expand_dims, getitem, reshape, swapaxes_last as T


# ----- helpers (chainrule ops, so rules differentiate again) --------------------------------
def dtype_of(x):
    return np.result_type(value(x))


def _eye(n, x):
    return np.eye(n, dtype=dtype_of(x))


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal."""
    n = shape_of(v)[-1]
    return multiply(expand_dims(v, -1), _eye(n, v))


def diag_part(x):
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
    dt = dtype_of(X)
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
    off = multiply(t, strict.astype(dtype_of(t)))
    if np.iscomplexobj(value(t)):
        diag = multiply(real(t), np.eye(n))
        return add(add(off, T(conj(off))), diag)
    return add(add(off, T(off)), multiply(t, np.eye(n, dtype=dtype_of(t))))


def _triangle_adjoint(G, lower):
    """The adjoint of _read_triangle (G: the gradient of the symmetric matrix, as
    dL = Re sum(G * S)): diag(G) + the read triangle of G + G^T (conjugated for complex)."""
    n = shape_of(G)[-1]
    strict = (np.tril if lower else np.triu)(np.ones((n, n)), -1 if lower else 1)
    if np.iscomplexobj(value(G)):
        return add(multiply(real(G), np.eye(n)),
                   multiply(add(G, T(conj(G))), strict.astype(dtype_of(G))))
    return add(multiply(G, np.eye(n, dtype=dtype_of(G))),
               multiply(add(G, T(G)), strict.astype(dtype_of(G))))


def _pack(parts, batch):
    """NumPy arrays with the same batch shape, flattened and joined along the last axis."""
    return np.concatenate([np.reshape(p, batch + (-1,)) for p in parts], -1)


def unpack(x, cores):
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


def mH(x):
    """The conjugate transpose of the last two axes (the transpose for real x)."""
    return T(conj(x)) if np.iscomplexobj(value(x)) else T(x)


def _cj(x):
    return conj(x) if np.iscomplexobj(value(x)) else x


def _imag(x):
    return real(multiply(x, -1j))


def _mT(x, y):
    """x @ y^T over batches."""
    return matmul(x, T(y))


# ----- inv, solve, det, slogdet -----------------------------------------------------------
inv_p = Primitive(np.linalg.inv, "linalg.inv")
inv_p.defvjp(lambda g, ans, a: negative(matmul(matmul(T(ans), g), T(ans))))
inv_p.defjvp(lambda t, ans, a: negative(matmul(matmul(ans, t), ans)))


solve_p = Primitive(np.linalg.solve, "linalg.solve", broadcasts=True)


def _solve_vjp_b(g, ans, a, b):
    return solve_p(T(a), g)


solve_p.defvjp(lambda g, ans, a, b: negative(_mT(solve_p(T(a), g), ans)), _solve_vjp_b)
solve_p.defjvp(lambda t, ans, a, b: negative(solve_p(a, matmul(t, ans))),
                lambda t, ans, a, b: solve_p(a, t))


def _bcast(g):
    return expand_dims(expand_dims(g, -1), -1)


def _cofactors(a, ans):
    """d det(A) / dA = adj(A)^T: det(A) A^-T, or, when some det(A) is exactly 0 (A^-1
    does not exist, though the derivative does), det(U) det(V) U diag(c) V^T from the
    SVD, c_i the product of the singular values other than s_i."""
    if np.iscomplexobj(value(a)) or np.all(value(ans) != 0):
        return multiply(_bcast(ans), T(inv_p(a)))
    n = shape_of(a)[-1]
    U, s, Vh = unpack(svd_p(a, full_matrices=False), svd_cores(a, False)[0])
    others = where(np.eye(n, dtype=bool), dtype_of(s).type(1), expand_dims(s, -2))
    c = getitem(others, (Ellipsis, 0))
    for j in range(1, n):  # the product along the last axis (no division by a zero s)
        c = multiply(c, getitem(others, (Ellipsis, j)))
    sign = np.linalg.det(value(U)) * np.linalg.det(value(Vh))  # +-1: no derivative
    return multiply(_bcast(sign), matmul(multiply(U, expand_dims(c, -2)), Vh))


det_p = Primitive(np.linalg.det, "linalg.det")
det_p.defvjp(lambda g, ans, a: multiply(_bcast(g), _cofactors(a, ans)))
det_p.defjvp(lambda t, ans, a: _sum(multiply(_cofactors(a, ans), t), (-2, -1)))


def _logabsdet_fun(a):
    return np.linalg.slogdet(a)[1]


def _logabsdet_jvp(t, ans, a):
    d = trace_last(solve_p(a, t))
    return real(d) if np.iscomplexobj(value(d)) else d


logabsdet_p = Primitive(_logabsdet_fun, "linalg.slogdet")
# d log|det A| = Re tr(A^-1 dA); for complex A, autograd's convention gives g A^-T too
logabsdet_p.defvjp(lambda g, ans, a: multiply(_bcast(g), T(inv_p(a))))
logabsdet_p.defjvp(_logabsdet_jvp)


# ----- pinv -----------------------------------------------------------------------------------
def _pinv_fun(a, rcond=None, hermitian=False):
    return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian) if rcond is not None else \
        np.linalg.pinv(a, hermitian=hermitian)


def _pinv_vjp(g, ans, a, **kw):
    # dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P, term by term: a term
    # M1 dA M2 gives M1^T g M2^T, a term M1 dA^H M2 gives conj(M2 g^T M1)
    P = ans
    m, n = shape_of(a)[-2], shape_of(a)[-1]
    i_ap = subtract(_eye(m, a), matmul(a, P))
    i_pa = subtract(_eye(n, a), matmul(P, a))
    t1 = negative(matmul(matmul(T(P), g), T(P)))
    t2 = _cj(matmul(matmul(i_ap, T(g)), matmul(P, mH(P))))
    t3 = _cj(matmul(matmul(matmul(mH(P), P), T(g)), i_pa))
    return add(add(t1, t2), t3)


def _pinv_jvp(t, ans, a, **kw):
    P = ans
    m, n = shape_of(a)[-2], shape_of(a)[-1]
    i_ap = subtract(_eye(m, a), matmul(a, P))
    i_pa = subtract(_eye(n, a), matmul(P, a))
    t1 = negative(matmul(matmul(P, t), P))
    t2 = matmul(matmul(matmul(P, mH(P)), mH(t)), i_ap)
    t3 = matmul(matmul(i_pa, mH(t)), matmul(mH(P), P))
    return add(add(t1, t2), t3)


pinv_p = Primitive(_pinv_fun, "linalg.pinv")
pinv_p.defvjp(_pinv_vjp)
pinv_p.defjvp(_pinv_jvp)


# ----- cholesky --------------------------------------------------------------------------
def _phi(x):
    """The lower triangle with the diagonal halved."""
    n = shape_of(x)[-1]
    m = np.tril(np.ones((n, n))) - 0.5 * np.eye(n)
    return multiply(x, m.astype(dtype_of(x)))


def _chol_vjp(g, ans, a):
    # dL = L phi(L^-1 dS L^-H) (dS: the Hermitian matrix read), so
    # G = L^-T phi(L^T gL) conj(L)^-1, then the adjoint of reading one triangle
    L = ans
    Y = solve_p(T(L), _phi(matmul(T(L), g)))      # L^-T phi(L^T gL)
    G = T(solve_p(mH(L), T(Y)))                   # ... conj(L)^-1
    return _triangle_adjoint(G, True)


def _chol_jvp(t, ans, a):
    L = ans
    Z = solve_p(L, _read_triangle(t, True))   # L^-1 dS
    W = T(solve_p(_cj(L), T(Z)))              # L^-1 dS L^-H
    return matmul(L, _phi(W))


chol_p = Primitive(np.linalg.cholesky, "linalg.cholesky")
chol_p.defvjp(_chol_vjp)
chol_p.defjvp(_chol_jvp)


# ----- eigh, eigvalsh -----------------------------------------------------------------------
def _eigh_fun(a, UPLO="L"):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return _pack([w, v], a.shape[:-2])


def eigh_parts(x, n):
    return unpack(x, [(n,), (n, n)])


def _eigh_vjp(g, ans, a, UPLO="L"):
    # G = conj(V) (diag(gw) + F o (V^T gV)) V^T, then the adjoint of reading one triangle
    n = shape_of(a)[-1]
    w, V = eigh_parts(ans, n)
    gw, gV = eigh_parts(g, n)
    herm = np.iscomplexobj(value(V))
    if herm:
        w, gw = real(w), real(gw)  # the eigenvalues are real
    inner = add(_diag_embed(gw), _over_gaps(matmul(T(V), gV), w))
    G = matmul(matmul(conj(V) if herm else V, inner), T(V))
    return _triangle_adjoint(G, UPLO.upper() == "L")


def _eigh_jvp(t, ans, a, UPLO="L"):
    # P = V^H dA V: dw = Re diag(P), dV = V (F o P) (no phase rotation: see the docstring)
    n = shape_of(a)[-1]
    w, V = eigh_parts(ans, n)
    herm = np.iscomplexobj(value(V))
    if herm:
        w = real(w)
    P = matmul(matmul(T(conj(V)) if herm else T(V), _read_triangle(t, UPLO.upper() == "L")), V)
    dw = diag_part(P)
    if herm:
        dw = real(dw)
    return _pack_ops([expand_dims(dw, -2), matmul(V, _over_gaps(P, w))])


eigh_p = Primitive(_eigh_fun, "linalg.eigh")
eigh_p.defvjp(_eigh_vjp)
eigh_p.defjvp(_eigh_jvp)


# ----- eig, eigvals --------------------------------------------------------------------------
def _eig_fun(a):
    w, v = np.linalg.eig(a)
    return _pack([w, v], a.shape[:-2])


def _eig_vjp(g, ans, a):
    # Transpose of _eig_jvp: grad = U^-T (diag(gw) + F o (U^T gUC)) U^T, where gUC is the
    # cotangent before the unit-norm correction (autograd's formula).
    n = shape_of(a)[-1]
    w, U = unpack(ans, [(n,), (n, n)])
    gw, gU = unpack(g, [(n,), (n, n)])
    q = _sum(multiply(gU, U), -2, keepdims=True)
    if np.iscomplexobj(value(q)):
        gU = subtract(gU, multiply(conj(U), real(q)))
    else:
        gU = subtract(gU, multiply(U, q))
    inner = add(_diag_embed(gw), _over_gaps(matmul(T(U), gU), w))
    return solve_p(T(U), _mT(inner, U))  # the engine keeps Re of it for a real A


def _eig_jvp(t, ans, a):
    n = shape_of(a)[-1]
    w, U = unpack(ans, [(n,), (n, n)])
    P = solve_p(U, matmul(t, U))                        # U^-1 dA U
    UC = matmul(U, _over_gaps(P, w))
    s = _sum(multiply(conj(U), UC) if np.iscomplexobj(value(U)) else multiply(U, UC), -2,
             keepdims=True)
    if np.iscomplexobj(value(s)):
        s = real(s)
    dU = subtract(UC, multiply(U, s))                   # keeps each column of unit norm
    dw = expand_dims(diag_part(P), -2)
    out = _pack_ops([dw, dU])
    return out


eig_p = Primitive(_eig_fun, "linalg.eig")
eig_p.defvjp(_eig_vjp)
eig_p.defjvp(_eig_jvp)


# ----- svd -------------------------------------------------------------------------------
def _svd_fun(a, full_matrices=False):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return _pack([u, s, vh], a.shape[:-2])


def svd_cores(a, full):
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    return [(m, m if full else k), (k,), (n if full else k, n)], m, n, k


def _svd_parts(x, a, full):
    """U, s, V (= Vh^H) of a packed SVD (or of its cotangent), and m, n, k."""
    cores, m, n, k = svd_cores(a, full)
    U, s, Vh = unpack(x, cores)
    if full:  # the first k columns of U and rows of Vh are unique (up to sign)
        U = getitem(U, (Ellipsis, slice(0, k)))
        Vh = getitem(Vh, (Ellipsis, slice(0, k), slice(None)))
    if np.iscomplexobj(value(s)):  # packed with complex U, V: the values are real
        s = real(s)
    return U, s, mH(Vh), m, n, k


def _svd_vjp(g, ans, a, full_matrices=False):
    # autograd's rule; for complex A it is the adjoint of _svd_jvp's phase choice
    U, s, V, m, n, k = _svd_parts(ans, a, full_matrices)
    gU, gs, gV, _, _, _ = _svd_parts(g, a, full_matrices)
    s2 = multiply(s, s)
    sr = expand_dims(s, -2)   # s along rows: X * sr = X S
    sc = expand_dims(s, -1)   # S X
    utgu = matmul(T(U), gU)
    vtgv = matmul(T(V), gV)
    t = add(add(multiply(_over_gaps(subtract(utgu, mH(utgu)), s2, add(utgu, mH(utgu))), sr),
                _diag_embed(gs)),
            multiply(sc, _over_gaps(subtract(vtgv, mH(vtgv)), s2, add(vtgv, mH(vtgv)))))
    if np.iscomplexobj(value(U)):
        t = add(t, _diag_embed(divide(multiply(_imag(diag_part(utgu)), 1j), s)))
    r = matmul(matmul(_cj(U), t), T(V))
    if m > k:  # (I - conj(U) U^T) gU S^-1 V^T
        x = divide(gU, sr)
        r = add(r, _mT(subtract(x, matmul(_cj(U), matmul(T(U), x))), V))
    if n > k:  # conj(U) S^-1 gV^H (I - conj(V) V^T)
        x = divide(_cj(gV), sr)
        r = add(r, matmul(_cj(U), T(subtract(x, matmul(V, matmul(mH(V), x))))))
    return r


def _svd_jvp(t, ans, a, full_matrices=False):
    # dP = U^H dA V; U takes the phase of each pair (i Im dP_ii / s_i), V none
    U, s, V, m, n, k = _svd_parts(ans, a, full_matrices)
    s2 = multiply(s, s)
    sr, sc = expand_dims(s, -2), expand_dims(s, -1)
    dP = matmul(matmul(mH(U), t), V)
    ds = diag_part(dP)
    omega = _over_gaps(add(multiply(dP, sr), multiply(sc, mH(dP))), s2)
    if np.iscomplexobj(value(dP)):
        ds = real(ds)
        omega = add(omega, _diag_embed(divide(multiply(_imag(diag_part(dP)), 1j), s)))
    dU = matmul(U, omega)
    dV = matmul(V, _over_gaps(add(multiply(sc, dP), multiply(mH(dP), sr)), s2))
    if m > k:
        x = divide(matmul(t, V), sr)
        dU = add(dU, subtract(x, matmul(U, matmul(mH(U), x))))
    if n > k:
        x = divide(matmul(mH(t), U), sr)
        dV = add(dV, subtract(x, matmul(V, matmul(mH(V), x))))
    dVh = mH(dV)
    if full_matrices:  # the non-unique completion gets tangent 0 (see npla's docstring)
        batch = shape_of(dU)[:-2]
        dt = dtype_of(dU)
        if m > k:
            dU = concatenate([dU, np.zeros(batch + (m, m - k), dtype=dt)], -1)
        if n > k:
            dVh = concatenate([dVh, np.zeros(batch + (n - k, n), dtype=dt)], -2)
    return _pack_ops([dU, expand_dims(ds, -2), dVh])


svd_p = Primitive(_svd_fun, "linalg.svd")
svd_p.defvjp(_svd_vjp)
svd_p.defjvp(_svd_jvp)


# ----- qr -------------------------------------------------------------------------------
def _qr_fun(a):
    q, r = np.linalg.qr(a, mode="reduced")
    return _pack([q, r], a.shape[:-2])


def _copyltu(M):
    """The lower triangle of M mirrored onto the upper one (conjugated; Re of the diagonal)."""
    n = shape_of(M)[-1]
    strict = np.tril(np.ones((n, n)), -1).astype(dtype_of(M))
    low = multiply(M, strict)
    diag = multiply(real(M) if np.iscomplexobj(value(M)) else M, np.eye(n))
    return add(add(low, mH(low)), diag)


def _qr_vjp(g, ans, a):
    # (gQ + conj(Q) copyltu(M)) R^-T, M = conj(R) gR^H... in autograd's convention:
    # PyTorch's rule (for its conjugate convention) conjugated
    m, n = shape_of(a)[-2:]
    Q, R = unpack(ans, [(m, n), (n, n)])
    gQ, gR = unpack(g, [(m, n), (n, n)])
    M = subtract(matmul(_cj(R), T(_cj(gR))), matmul(T(_cj(gQ)), _cj(Q)))
    B = add(gQ, matmul(_cj(Q), _copyltu(M)))
    return T(solve_p(R, T(B)))                         # B R^-T


def _qr_jvp(t, ans, a):
    # C = Q^H dA R^-1 = Omega + dR R^-1, Omega anti-Hermitian, dR R^-1 upper triangular
    # with a real diagonal (LAPACK's R has one)
    m, n = shape_of(a)[-2:]
    Q, R = unpack(ans, [(m, n), (n, n)])
    dA_Rinv = T(solve_p(T(R), T(t)))                   # dA R^-1
    C = matmul(mH(Q), dA_Rinv)
    strict = np.tril(np.ones((n, n)), -1).astype(dtype_of(C))
    low = multiply(C, strict)
    omega = subtract(low, mH(low))
    if np.iscomplexobj(value(C)):
        omega = add(omega, multiply(multiply(_imag(C), 1j), np.eye(n)))
    upper = subtract(C, omega)                          # C - Omega, upper triangular
    dR = matmul(upper, R)
    dQ = subtract(dA_Rinv, matmul(Q, upper))
    return _pack_ops([dQ, dR])


qr_p = Primitive(_qr_fun, "linalg.qr")
qr_p.defvjp(_qr_vjp)
qr_p.defjvp(_qr_jvp)
