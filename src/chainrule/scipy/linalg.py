"""chainrule.scipy.linalg: differentiable scipy.linalg; other names pass through to SciPy.

Primitives with their own rules: ``solve_triangular``, ``solve_banded``,
``solve_sylvester``, ``expm`` and a Cholesky factor. ``sqrtm`` and
``cho_factor``/``cho_solve`` are built on them, and every rule is itself written
with chainrule operations, so it is differentiable again (any order, both modes).
``cholesky``, ``inv``, ``det``, ``solve``, ``eigh``/``eigvalsh``, ``svd``, ``qr``,
``pinv`` and ``norm`` use np.linalg's rules (SciPy's signatures).

- solve_triangular: x = op(A)^{-1} b; gb = op(A)^{-T} g and gA = -gb x^T
  (transposed back when op is a transpose), kept to the triangle that SciPy
  reads (without the diagonal when ``unit_diagonal``).
- solve_sylvester: AX + XB = Q; gQ = solve_sylvester(A^T, B^T, G),
  gA = -gQ X^T, gB = -X^T gQ.
- sqrtm: S S = A, so dS solves S dS + dS S = dA (a Sylvester equation). When A
  is (nearly) singular, S has an eigenvalue (near) 0 and the equation is
  (nearly) singular: the derivative of sqrt at 0 is infinite, and the rule
  returns huge or non-finite values there, as the true derivative is.
- expm: the Frechet derivative L(A, E) is the top-right block of
  expm([[A, E], [0, A]]); the VJP is L(A^T, G).
- cholesky, cho_factor: np.linalg.cholesky's rule, reading one triangle as
  SciPy does. (``_cholesky`` here, used by stats.multivariate_normal, reads A as
  a function of its symmetric part, as PyTorch and HIPS autograd do: the
  gradient in a covariance is then a symmetric matrix.)

Complex inputs follow autograd's convention (no conjugation in VJP rules).
"""
import numpy as np
import scipy.linalg as _sla

from ..errors import ShapeError
from ..ops import _util, npla
from ..ops.elementwise import multiply
from ..ops.linalg import matmul
from ..ops.reduce import sum as _sum
from ..ops.shape import concatenate, expand_dims, getitem, swapaxes_last
from ..primitive import Primitive
from ..tensor import Tensor
from . import _refusing, passthrough

__all__ = ["solve_triangular", "solve_banded", "solve_sylvester", "sqrtm", "expm", "cholesky",
           "cho_factor", "cho_solve", "inv", "det", "solve", "eigh", "eigvalsh", "svd", "qr",
           "pinv", "norm"]


def _arr(x):
    """An array-like argument as a Tensor (lists holding Tensors stacked) or a NumPy array."""
    x = _util.pack(x)
    return x if type(x) is Tensor else np.asarray(x)


def _matrix(a, name):
    shape = _util.shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"scipy.linalg.{name}: expected a square matrix (..., n, n), got an "
                         f"array of shape {shape}")
    return shape[-1]


def _outer(u, v):
    """u v^T for vectors, u @ v^T for matrices (the rank-one update of gA)."""
    if len(_util.shape_of(u)) == 1:
        return multiply(expand_dims(u, -1), expand_dims(v, 0))
    return matmul(u, swapaxes_last(v))


# ----- solve_triangular -------------------------------------------------------
def _trans_code(trans, a):
    codes = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}
    if trans not in codes:
        raise ValueError(f"scipy.linalg.solve_triangular: trans must be 0, 1, 2, 'N', 'T' or "
                         f"'C', got {trans!r}")
    t = codes[trans]
    if t == 2:
        if np.iscomplexobj(_util.value(a)):
            raise TypeError("scipy.linalg.solve_triangular: trans='C' (conjugate transpose) "
                            "of a complex matrix is not differentiable in chainrule (it is "
                            "not holomorphic); conjugate the matrix first and use trans='T'")
        t = 1  # real matrix: conjugate transpose == transpose
    return t


def _tri_mask(n, lower, unit_diagonal):
    """The entries of A that solve_triangular reads."""
    ones = np.ones((n, n), dtype=bool)
    k = 1 if unit_diagonal else 0
    return np.tril(ones, -k) if lower else np.triu(ones, k)


def _solve_tri_fun(a, b, trans=0, lower=False, unit_diagonal=False):
    return _sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


_solve_tri = Primitive(_solve_tri_fun, "scipy.linalg.solve_triangular")


def _tri_vjp_a(g, ans, a, b, trans=0, lower=False, unit_diagonal=False):
    gb = _solve_tri(a, g, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)
    gm = -_outer(gb, ans)  # the cotangent of op(A)
    ga = gm if trans == 0 else swapaxes_last(gm)
    return multiply(ga, _tri_mask(_util.shape_of(a)[-1], lower, unit_diagonal))


def _tri_vjp_b(g, ans, a, b, trans=0, lower=False, unit_diagonal=False):
    return _solve_tri(a, g, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)


def _tri_jvp_a(t, ans, a, b, trans=0, lower=False, unit_diagonal=False):
    dm = multiply(t, _tri_mask(_util.shape_of(a)[-1], lower, unit_diagonal))
    if trans == 1:
        dm = swapaxes_last(dm)
    return -_solve_tri(a, matmul(dm, ans), trans=trans, lower=lower,
                       unit_diagonal=unit_diagonal)


_solve_tri.defvjp(_tri_vjp_a, _tri_vjp_b)
_solve_tri.defjvp(_tri_jvp_a, lambda t, ans, a, b, **kw: _solve_tri(a, t, **kw))


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """scipy.linalg.solve_triangular: x with op(a) x = b, a triangular; differentiable in a and b.

    Only the triangle of ``a`` that SciPy reads gets a gradient (not the diagonal
    when ``unit_diagonal``). ``overwrite_b`` and ``check_finite`` are accepted and
    ignored (b is never overwritten).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.linalg import solve_triangular
        >>> a = np.array([[2.0, 0.0], [1.0, 1.0]])
        >>> cr.grad(lambda b: cr.sum(solve_triangular(a, b, lower=True)))(np.ones(2))
        array([0., 1.])
    """
    a, b = _arr(a), _arr(b)
    n = _matrix(a, "solve_triangular")
    if _util.shape_of(b)[:1] != (n,):
        raise ShapeError(f"scipy.linalg.solve_triangular: a has shape {_util.shape_of(a)} and "
                         f"b {_util.shape_of(b)}; b must have {n} rows")
    return _solve_tri(a, b, trans=_trans_code(trans, a), lower=bool(lower),
                      unit_diagonal=bool(unit_diagonal))


# ----- solve_banded -------------------------------------------------------------
# A banded matrix in SciPy's layout: a[i, j] = ab[u + i - j, j]. The rules stay in
# that layout (O(n (l + u)) work, no dense n x n matrix): gathers with index arrays.
def _band_grid(lu, n):
    lo, up = lu
    return np.arange(lo + up + 1)[:, None], np.arange(n)[None, :]


def _band_transpose(ab, lu):
    """The band of A^T in the layout of (u, l): ab_T[k, j] = A[j, k - l + j]."""
    lo, up = lu
    k, j = _band_grid(lu, _util.shape_of(ab)[-1])
    cols = j + k - lo
    ok = (cols >= 0) & (cols < _util.shape_of(ab)[-1])
    return multiply(getitem(ab, (up + lo - k, np.clip(cols, 0, None) * ok)), ok)


def _band_outer(u, v, lu):
    """The band entries of u v^T (u, v vectors, or matrices summed over their columns)."""
    lo, up = lu
    n = _util.shape_of(u)[0]
    k, j = _band_grid(lu, n)
    rows = k - up + j
    ok = (rows >= 0) & (rows < n)
    ui = getitem(u, np.clip(rows, 0, n - 1))       # (l+u+1, n[, m])
    vj = getitem(v, j[0])                          # (n[, m])
    if len(_util.shape_of(u)) == 1:
        return multiply(ui * vj, ok)
    return multiply(_sum_last(ui * vj), ok)


def _band_matmul(ab, x, lu):
    """A @ x for A in band layout: (A x)[i] = sum_k ab[k, i + u - k] x[i + u - k]."""
    lo, up = lu
    n = _util.shape_of(ab)[-1]
    k, i = _band_grid(lu, n)
    cols = i + up - k
    ok = (cols >= 0) & (cols < n)
    c = np.clip(cols, 0, n - 1)
    a = multiply(getitem(ab, (k + 0 * c, c)), ok)   # (l+u+1, n)
    if len(_util.shape_of(x)) == 1:
        return _sum_first(a * getitem(x, c))
    return _sum_first(expand_dims(a, -1) * getitem(x, c))


def _sum_first(x):
    return _sum(x, 0)


def _sum_last(x):
    return _sum(x, -1)


_solve_banded = Primitive(lambda ab, b, lu: _sla.solve_banded(lu, ab, b),
                          "scipy.linalg.solve_banded")


def _banded_vjp_b(g, ans, ab, b, lu):
    return _solve_banded(_band_transpose(ab, lu), g, lu=lu[::-1])


_solve_banded.defvjp(
    lambda g, ans, ab, b, lu: -_band_outer(_banded_vjp_b(g, ans, ab, b, lu), ans, lu),
    _banded_vjp_b)
_solve_banded.defjvp(
    lambda t, ans, ab, b, lu: -_solve_banded(ab, _band_matmul(t, ans, lu), lu=lu),
    lambda t, ans, ab, b, lu: _solve_banded(ab, t, lu=lu))


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """scipy.linalg.solve_banded: x with a x = b, a banded (ab: SciPy's band layout);
    differentiable in ab (its band entries) and b.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.linalg import solve_banded
        >>> ab = np.array([[0.0, 1.0], [2.0, 2.0]])      # [[2, 1], [0, 2]]
        >>> cr.grad(lambda b: cr.sum(solve_banded((0, 1), ab, b)))(np.ones(2))
        array([0.5 , 0.25])
    """
    lo, up = (int(v) for v in l_and_u)
    ab, b = _arr(ab), _arr(b)
    sa, sb = _util.shape_of(ab), _util.shape_of(b)
    if len(sa) != 2 or sa[0] != lo + up + 1:
        raise ShapeError(f"scipy.linalg.solve_banded: ab must have l + u + 1 = {lo + up + 1} "
                         f"rows for (l, u) = {(lo, up)}, got shape {sa}")
    if len(sb) not in (1, 2) or sb[0] != sa[1]:
        raise ShapeError(f"scipy.linalg.solve_banded: b must have {sa[1]} rows (ab has "
                         f"{sa[1]} columns), got shape {sb}")
    return _solve_banded(ab, b, lu=(lo, up))


# ----- solve_sylvester ----------------------------------------------------------
_sylvester = Primitive(lambda a, b, q: _sla.solve_sylvester(a, b, q),
                       "scipy.linalg.solve_sylvester")


def _syl_q(g, ans, a, b, q):
    return _sylvester(swapaxes_last(a), swapaxes_last(b), g)


_sylvester.defvjp(lambda g, ans, a, b, q: -matmul(_syl_q(g, ans, a, b, q), swapaxes_last(ans)),
                  lambda g, ans, a, b, q: -matmul(swapaxes_last(ans), _syl_q(g, ans, a, b, q)),
                  _syl_q)
_sylvester.defjvp(lambda t, ans, a, b, q: -_sylvester(a, b, matmul(t, ans)),
                  lambda t, ans, a, b, q: -_sylvester(a, b, matmul(ans, t)),
                  lambda t, ans, a, b, q: _sylvester(a, b, t))


def solve_sylvester(a, b, q):
    """scipy.linalg.solve_sylvester: X with a X + X b = q; differentiable in a, b and q.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.linalg import solve_sylvester
        >>> cr.grad(lambda q: cr.sum(solve_sylvester(np.eye(2), np.eye(2), q)))(np.ones((2, 2)))
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    a, b, q = _arr(a), _arr(b), _arr(q)
    n, m = _matrix(a, "solve_sylvester"), _matrix(b, "solve_sylvester")
    if _util.shape_of(q) != (n, m):
        raise ShapeError(f"scipy.linalg.solve_sylvester: a is {_util.shape_of(a)}, b is "
                         f"{_util.shape_of(b)}, so q must be {(n, m)}; got {_util.shape_of(q)}")
    return _sylvester(a, b, q)


# ----- sqrtm --------------------------------------------------------------------
def _sqrtm_fun(a):
    return _sla.sqrtm(a)


_sqrtm = Primitive(_sqrtm_fun, "scipy.linalg.sqrtm")
_sqrtm.defvjp(lambda g, ans, a: _sylvester(swapaxes_last(ans), swapaxes_last(ans), g))
_sqrtm.defjvp(lambda t, ans, a: _sylvester(ans, ans, t))


def sqrtm(A, disp=None, blocksize=None):
    """scipy.linalg.sqrtm: the principal square root S (S @ S = A); differentiable.

    The derivative solves S dS + dS S = dA; it blows up as A approaches a
    singular matrix (see the module docstring). A with negative real
    eigenvalues has a complex root, differentiated as a holomorphic function.
    ``disp`` and ``blocksize`` (deprecated in SciPy) are accepted and ignored.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.linalg import sqrtm
        >>> cr.grad(lambda a: sqrtm(a)[0, 0])(4.0 * np.eye(2))
        array([[0.25, 0.  ],
               [0.  , 0.  ]])
    """
    A = _arr(A)
    _matrix(A, "sqrtm")
    if len(_util.shape_of(A)) != 2:
        raise ShapeError(f"scipy.linalg.sqrtm: expected an (n, n) matrix, got shape "
                         f"{_util.shape_of(A)}")
    return _sqrtm(A)


# ----- expm ---------------------------------------------------------------------
def _frechet(a, e):
    """L(a, e), the derivative of expm at a in the direction e: expm([[a, e], [0, a]])[:n, n:]."""
    n = _util.shape_of(a)[-1]
    zero = np.zeros(_util.shape_of(a), dtype=np.result_type(_util.value(a), _util.value(e)))
    block = concatenate([concatenate([a, e], axis=-1), concatenate([zero, a], axis=-1)], axis=-2)
    return getitem(_expm(block), (Ellipsis, slice(0, n), slice(n, 2 * n)))


_expm = Primitive(lambda a: _sla.expm(a), "scipy.linalg.expm")
_expm.defvjp(lambda g, ans, a: _frechet(swapaxes_last(a), g))
_expm.defjvp(lambda t, ans, a: _frechet(a, t))


def expm(A):
    """scipy.linalg.expm: the matrix exponential (batches of (..., n, n) too); differentiable.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.linalg import expm
        >>> cr.grad(lambda a: cr.sum(expm(a)))(np.zeros((2, 2)))
        array([[1., 1.],
               [1., 1.]])
    """
    A = _arr(A)
    _matrix(A, "expm")
    return _expm(A)


# ----- Cholesky -----------------------------------------------------------------
def _phi(x):
    """The lower triangle of x with its diagonal halved (self-adjoint)."""
    n = _util.shape_of(x)[-1]
    return multiply(x, np.tril(np.ones((n, n))) - 0.5 * np.eye(n))


def _sym(x):
    return 0.5 * (x + swapaxes_last(x))


def _chol_vjp(g, ans, a):
    # gA = sym(L^{-T} Phi(L^T gL) L^{-1})
    p = _phi(matmul(swapaxes_last(ans), g))
    x = _solve_tri(ans, p, trans=1, lower=True)                        # L^{-T} P
    s = _solve_tri(ans, swapaxes_last(x), trans=1, lower=True)          # (L^{-T} P L^{-1})^T
    return _sym(s)


def _chol_jvp(t, ans, a):
    # dL = L Phi(L^{-1} sym(dA) L^{-T})
    x = _solve_tri(ans, _sym(t), lower=True)
    y = _solve_tri(ans, swapaxes_last(x), lower=True)
    return matmul(ans, _phi(y))


_cholesky = Primitive(lambda a: np.linalg.cholesky(a), "scipy.linalg.cholesky")
_cholesky.defvjp(_chol_vjp)
_cholesky.defjvp(_chol_jvp)


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """scipy.linalg.cholesky: the upper factor U (a = U^T U), or with lower=True L (a = L L^T).

    As in SciPy, only one triangle of ``a`` is read (the upper one, or the lower
    one with lower=True), and only that triangle gets a gradient: this is
    np.linalg.cholesky's rule (chainrule.numpy.linalg). Real matrices only.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.linalg import cholesky
        >>> cr.grad(lambda a: cholesky(a)[0, 0])(4.0 * np.eye(2))
        array([[0.25, 0.  ],
               [0.  , 0.  ]])
    """
    a = _arr(a)
    _matrix(a, "cholesky")
    if np.iscomplexobj(_util.value(a)):
        raise TypeError("scipy.linalg.cholesky: complex matrices are not supported by "
                        "chainrule's rule (the factor of a Hermitian matrix is not "
                        "holomorphic); use a real symmetric positive definite matrix")
    impl = getattr(npla, "NUMPY_IMPLS", {}).get(np.linalg.cholesky)
    if impl is not None:
        return impl(a, upper=not lower)
    # without np.linalg's rule: this module's (symmetric-part convention)
    low = _cholesky(a if lower else swapaxes_last(a))
    return low if lower else swapaxes_last(low)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """scipy.linalg.cho_factor: (c, lower) for cho_solve; differentiable.

    Unlike SciPy, the triangle of ``c`` that is not the factor holds zeros (SciPy
    leaves whatever was there); cho_solve reads only the factor either way.
    """
    return cholesky(a, lower=lower), bool(lower)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """scipy.linalg.cho_solve: x with a x = b, given cho_factor(a); differentiable in c and b.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.linalg import cho_factor, cho_solve
        >>> f = lambda a: cr.sum(cho_solve(cho_factor(a), np.ones(2)))
        >>> cr.grad(f)(2.0 * np.eye(2)) + 0.0   # cho_factor reads the upper triangle, as SciPy
        array([[-0.25, -0.5 ],
               [ 0.  , -0.25]])
    """
    if not isinstance(c_and_lower, tuple) or len(c_and_lower) != 2:
        raise TypeError("scipy.linalg.cho_solve: the first argument must be the pair (c, lower) "
                        "that cho_factor returns")
    c, lower = c_and_lower
    if lower:  # a = L L^T
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans=1, lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans=1), lower=False)  # a = U^T U


# ----- np.linalg aliases ----------------------------------------------------------
def _np_impl(npfun, path):
    """np.linalg's differentiable implementation (chainrule.ops.npla) once it exists,
    else SciPy's function on values (refusing a Tensor being differentiated)."""
    impl = getattr(npla, "NUMPY_IMPLS", {}).get(npfun)
    if impl is not None:
        return impl
    return _refusing(getattr(_sla, path.rsplit(".", 1)[1]), path)


def inv(a, overwrite_a=False, check_finite=True):
    """scipy.linalg.inv: np.linalg.inv's rule."""
    return _np_impl(np.linalg.inv, "scipy.linalg.inv")(a)


def det(a, overwrite_a=False, check_finite=True):
    """scipy.linalg.det: np.linalg.det's rule."""
    return _np_impl(np.linalg.det, "scipy.linalg.det")(a)


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """scipy.linalg.solve: np.linalg.solve's rule (assume_a is a hint; the result is the same)."""
    if transposed:
        a = swapaxes_last(a)
    return _np_impl(np.linalg.solve, "scipy.linalg.solve")(a, b)


def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """scipy.linalg.eigh for the standard problem (b=None): np.linalg.eigh's rule."""
    if b is not None or subset_by_index is not None or subset_by_value is not None:
        if any(isinstance(v, Tensor) for v in (a, b)):
            raise TypeError("scipy.linalg.eigh: the generalized problem (b) and subsets have "
                            "no derivative rule in chainrule; use b=None (np.linalg.eigh)")
        return _sla.eigh(_util.value(a), _util.value(b), lower=lower, eigvals_only=eigvals_only,
                         type=type, subset_by_index=subset_by_index,
                         subset_by_value=subset_by_value, driver=driver)
    impl = _np_impl(np.linalg.eigh, "scipy.linalg.eigh")
    if impl is getattr(npla, "NUMPY_IMPLS", {}).get(np.linalg.eigh):
        w, v = impl(a, UPLO="L" if lower else "U")
    else:
        w, v = impl(a, lower=lower)
    return w if eigvals_only else (w, v)


def eigvalsh(a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,
             check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """scipy.linalg.eigvalsh for the standard problem (b=None): np.linalg.eigvalsh's rule."""
    return eigh(a, b, lower=lower, eigvals_only=True, type=type,
                subset_by_index=subset_by_index, subset_by_value=subset_by_value, driver=driver)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """scipy.linalg.svd: (U, s, Vh), or s alone; np.linalg.svd's rule."""
    return _np_impl(np.linalg.svd, "scipy.linalg.svd")(a, full_matrices=full_matrices,
                                                        compute_uv=compute_uv)


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """scipy.linalg.qr (mode 'full', 'economic' or 'r'; no pivoting): np.linalg.qr's rule.

    As SciPy, mode='r' gives a tuple holding R alone.
    """
    if mode not in ("full", "economic", "r") or pivoting:
        if type(a) is Tensor:
            raise TypeError(f"scipy.linalg.qr: mode={mode!r}, pivoting={pivoting!r} has no "
                            f"derivative rule in chainrule; use mode 'full', 'economic' or "
                            f"'r' without pivoting")
        return _sla.qr(a, mode=mode, pivoting=pivoting)
    impl = _np_impl(np.linalg.qr, "scipy.linalg.qr")
    try:
        if mode == "r":
            # SciPy's 'r' is the R of the full factorization, (M, N): the reduced R with
            # zero rows below (the same R, without choosing a completion of Q)
            r = impl(a, mode="r")
            m, n = _util.shape_of(a)[-2:]
            if m > n:
                r = concatenate([r, np.zeros((m - n, n), dtype=_util.value(r).dtype)], axis=0)
            return (r,)
        return tuple(impl(a, mode="complete" if mode == "full" else "reduced"))
    except NotImplementedError as e:
        raise NotImplementedError(f"scipy.linalg.qr(mode={mode!r}): {e}") from None


def pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    """scipy.linalg.pinv (default tolerances, which are NumPy's): np.linalg.pinv's rule."""
    if atol is not None or return_rank:
        raise TypeError("scipy.linalg.pinv: atol and return_rank have no derivative rule in "
                        "chainrule; use rtol (NumPy's rcond) alone")
    impl = _np_impl(np.linalg.pinv, "scipy.linalg.pinv")
    return impl(a) if rtol is None else impl(a, rcond=rtol)


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """scipy.linalg.norm: np.linalg.norm's rule (every ord and axis it allows)."""
    return _np_impl(np.linalg.norm, "scipy.linalg.norm")(a, ord=ord, axis=axis,
                                                          keepdims=keepdims)


# Notes for docs/numpy.md (tools/gen_numpy_table.py), by name.
CONVENTIONS = {
    "solve_triangular": "gradient only on the triangle read (no diagonal with unit_diagonal); "
                        "trans='C' of a complex matrix refused",
    "solve_banded": "gradient only on the band entries of ab; rules in band layout",
    "solve_sylvester": "complex: holomorphic (no conjugation)",
    "sqrtm": "dS solves S dS + dS S = dA; huge (about 1/eps) at a singular matrix",
    "expm": "Frechet derivative by expm([[A, E], [0, A]]); batches",
    "cholesky": "reads one triangle (upper unless lower=True), as SciPy; np.linalg's rule",
    "cho_factor": "the unused triangle of c holds zeros (SciPy: whatever was there)",
    "eigh": "standard problem only (b=None); np.linalg.eigh's rule",
    "qr": "modes full/economic/r, no pivoting; np.linalg.qr's rule",
}

__getattr__ = passthrough("linalg")
