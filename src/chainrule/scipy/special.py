"""chainrule.scipy.special: differentiable scipy.special; other names pass through.

Each function is a primitive on SciPy's own function, with a VJP and a JVP
rule written with chainrule's operations and the primitives of this module
(d gammaln = digamma, d digamma = polygamma(1, .), d polygamma(n, .) =
polygamma(n + 1, .), d iv(v, .) = (iv(v - 1, .) + iv(v + 1, .)) / 2, ...), so
every order of derivative works. Complex inputs follow autograd's convention
(g * f'(z), no conjugate) where SciPy defines the function on them (erf, ...).

Which inputs are differentiated:
- orders and counts (n of polygamma/jn/yn, v of iv/ive/jv/yv/kv, d of
  multigammaln) have no derivative: differentiating through them raises a
  RuleError (give them as plain values);
- gammainc/gammaincc: in x and in a (autograd and PyTorch: x only). The
  derivatives in a have no closed form in special functions: they are computed
  by the power series / continued fraction of P(a, x) carried out in truncated
  Taylor arithmetic in a (checked against mpmath to 1e-11, to third order).
- betainc: in a, b and x (autograd: x only); the derivatives in a and b by the
  continued fraction in truncated Taylor arithmetic in (a, b), the same way.
- gammasgn has no derivative (piecewise constant).

Conventions at edges (where they depart from PyTorch and autograd):
- logsumexp of a slice that is all -inf (or whose weighted sum b * exp(a) is
  0) is -inf, and its gradient there is 0, as cr.logsumexp's (PyTorch and
  autograd give nan): no finite change of the entries moves it off -inf.
- xlogy(0, y) and xlog1py(0, y) are 0 for every y, so their derivative in y is
  0 where x == 0, also at y = 0 (PyTorch: nan); the derivative in x there is
  log(y), -inf at y = 0 (PyTorch: 0).
- rgamma's derivative -rgamma * digamma is nan at the zeros of 1/Gamma
  (x = 0, -1, ...), as autograd's.

Example:
    >>> import chainrule as cr, chainrule.scipy.special as sp
    >>> float(cr.grad(sp.gammaln)(3.0))   # digamma(3) = 3/2 - euler_gamma
    0.9227843350984671
"""
import numpy as np
import scipy.special as _sc

from ..errors import RuleError
from ..primitive import ConstantPrimitive, Primitive
from ..ops._npapi import has_tensor
from ..ops._util import kept_shape, pack, value
from ..ops.compare import equal, sign
from ..ops.elementwise import exp, log, where
from ..ops.nn import log_softmax as _log_softmax, softmax as _softmax
from ..ops.reduce import logsumexp as _cr_logsumexp, sum as _sum
from ..ops.shape import reshape
from ..ops.ufuncs import real
from . import passthrough

__all__ = [
    "gamma", "gammaln", "digamma", "psi", "polygamma", "multigammaln", "rgamma",
    "gammainc", "gammaincc", "gammasgn", "beta", "betaln", "betainc",
    "erf", "erfc", "erfinv", "erfcinv", "erfcx", "ndtr", "ndtri", "log_ndtr",
    "expit", "logit", "log_expit", "logsumexp", "softmax", "log_softmax",
    "xlogy", "xlog1py", "entr", "rel_entr", "kl_div",
    "expm1", "log1p", "exp2", "exp10", "cbrt",
    "i0", "i1", "i0e", "i1e", "iv", "ive", "j0", "j1", "jn", "jv", "y0", "y1", "yn", "yv",
    "k0", "k1", "kv", "gammaincinv", "gammainccinv", "betaincinv", "betainccinv", "erfi",
    "dawsn", "ndtri_exp", "loggamma", "softplus", "exp1", "expi", "expn", "wrightomega",
    "owens_t", "zeta", "lambertw",
]

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2 * np.pi))


def _public(op, name, doc):
    """The exported function: SciPy's own on plain values; on Tensors ``op``, a nested list
    holding Tensors stacked first (SciPy would convert it with ``Tensor.__array__`` and cut
    the graph)."""
    fun = op.fun

    def f(*args, **kw):
        if not has_tensor(args, kw):
            return fun(*args, **kw)
        if kw:
            raise TypeError(f"scipy.special.{name}: keyword arguments ({', '.join(kw)}) are "
                            f"not supported on Tensors (a result is a new vertex of the graph); "
                            f"call {name}(...) with positional inputs only.")
        for a in args:
            if isinstance(a, (list, tuple)):
                args = tuple(pack(b) for b in args)
                break
        return op(*args)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    f.primitive = op
    return f


def _define(name, fun, *derivs, doc=None):
    """A broadcasting primitive ``name`` whose rule for input k (VJP and JVP alike, the
    Jacobian being diagonal) is g * derivs[k](ans, *args); a refusing rule is kept as is."""
    op = Primitive(fun, name, broadcasts=True)
    rules = []
    for d in derivs:
        if getattr(d, "_refuses", False):
            rules.append(d)
        else:
            rules.append(lambda g, ans, *a, d=d: g * d(ans, *a))
    op.defvjp(*rules)
    op.defjvp(*rules)
    return _public(op, name, doc or f"scipy.special.{name}, differentiable.")


def _refusing(path, arg, why):
    """The rule of an input without a derivative: differentiating through it is an error."""
    def rule(*args, **kw):
        raise RuleError(f"scipy.special.{path}: no derivative with respect to {arg} ({why}); "
                        f"give {arg} as a plain value (a NumPy array or t.detach()).")
    rule._refuses = True
    return rule


def _orderless(path):
    return _refusing(path, "the order", "it is an order, not a variable")


# ----- gamma family --------------------------------------------------------------------------

gammaln = _define("gammaln", _sc.gammaln, lambda ans, x: digamma(x),
                  doc="scipy.special.gammaln: log|Gamma(x)|; derivative digamma(x).")
digamma = _define("digamma", _sc.digamma, lambda ans, x: polygamma(1, x),
                  doc="scipy.special.digamma (psi): d/dx log Gamma(x); derivative polygamma(1, x).")
psi = digamma
polygamma = _define("polygamma", _sc.polygamma, _orderless("polygamma"),
                    lambda ans, n, x: polygamma(n + 1, x),
                    doc="scipy.special.polygamma(n, x): n-th derivative of digamma (n static).")
gamma = _define("gamma", _sc.gamma, lambda ans, x: ans * digamma(x),
                doc="scipy.special.gamma; derivative gamma(x) * digamma(x).")
# 1/Gamma is entire; at its zeros (x = 0, -1, ...) digamma is infinite, so the product
# rgamma * digamma would be nan there: the rule is exact away from the poles of Gamma.
rgamma = _define("rgamma", _sc.rgamma, lambda ans, x: -(ans * digamma(x)),
                 doc="scipy.special.rgamma: 1/Gamma(x); derivative -rgamma(x) digamma(x).")


def _multigammaln_fun(a, d):
    return _sc.multigammaln(a, d)


def _multigammaln_deriv(ans, a, d):
    d = int(value(d))
    total = digamma(a)
    for j in range(1, d):
        total = total + digamma(a - 0.5 * j)
    return total


_multigammaln = _define("multigammaln", _multigammaln_fun, _multigammaln_deriv,
                       _refusing("multigammaln", "d", "it is a dimension"),
                       doc="scipy.special.multigammaln(a, d): log of the multivariate gamma "
                           "function; derivative in a: sum_j digamma(a - j/2).")


def multigammaln(a, d):
    """scipy.special.multigammaln(a, d): log of the multivariate gamma function of dimension d.

    Differentiable in a: the derivative is sum_{j<d} digamma(a - j/2).
    """
    return _multigammaln(a, d)


gammasgn = ConstantPrimitive(_sc.gammasgn, "gammasgn")
gammasgn.__doc__ = "scipy.special.gammasgn: sign of Gamma(x) (no derivative)."


def _gammainc_dx(ans, a, x):
    # x^(a-1) e^-x / Gamma(a), through xlogy so that x = 0 with a = 1 gives 1, not nan
    return exp(xlogy(a - 1, x) - x - gammaln(a))


# ----- the incomplete gamma function's derivatives in a ---------------------------------------
# There is no closed form in special functions, so they are computed like the function
# itself (Numerical Recipes' gser/gcf: the power series for x < a + 1, the continued
# fraction for Q = 1 - P otherwise), carried out in truncated Taylor arithmetic in a: the
# k-th coefficient of the result is d^k P / da^k / k!, to the accuracy of the series.
# Two primitive families are closed under differentiation, so every order works:
#   gammainc_da(a, x, k)  = d^k P / da^k             d/da: k + 1;  d/dx: dens_da(k)
#   dens_da(a, x, k)      = d^k/da^k x^(a-1) e^-x / Gamma(a)
#                           d/da: k + 1;  d/dx: ((a-1)/x - 1) dens_da(k) + (k/x) dens_da(k-1)

# Convergence: a few ulps (|delta - 1| of a continued fraction can stay at one ulp, 2.2e-16,
# for ever); the iteration counts grow like sqrt(a), so the cap is never the limit in practice.
_EPS = 1e-15
_MAXITER = 20000


def _t_mul(p, q):
    return [sum(p[j] * q[n - j] for j in range(n + 1)) for n in range(len(p))]


def _t_recip(q):
    r = [1 / q[0]]
    for n in range(1, len(q)):
        r.append(-r[0] * sum(q[j] * r[n - j] for j in range(1, n + 1)))
    return r


def _t_exp(h):
    e = [np.exp(h[0])]
    for n in range(1, len(h)):
        e.append(sum(j * h[j] * e[n - j] for j in range(1, n + 1)) / n)
    return e


def _t_log_prefactor(a, x, p, q, k):
    """Taylor coefficients in a, to order k, of (a + p) log x - x - gammaln(a + q)."""
    g = a + q
    h = [(a + p) * np.log(x) - x - _sc.gammaln(g)]
    if k >= 1:
        h.append(np.log(x) - _sc.digamma(g))
    fact = 1.0
    for j in range(2, k + 1):
        fact *= j
        h.append(-_sc.polygamma(j - 1, g) / fact)
    return h


def _gammainc_taylor(a, x, k):
    """[P, dP/da, ..., d^k P/da^k / k!] for arrays a > 0, x > 0 of one shape (flat)."""
    out = [np.full(a.shape, np.nan) for _ in range(k + 1)]
    ser = x < a + 1
    if ser.any():
        aa, xx = a[ser], x[ser]
        pre = _t_exp(_t_log_prefactor(aa, xx, 0, 1, k))  # x^a e^-x / Gamma(a + 1)
        term = [np.ones_like(aa)] + [np.zeros_like(aa) for _ in range(k)]
        total = list(term)
        for n in range(1, _MAXITER):
            inv = 1 / (aa + n)  # 1 / (a + n + e) = sum_j (-e)^j / (a + n)^(j + 1)
            step = [xx * inv * (-inv) ** j for j in range(k + 1)]
            term = _t_mul(term, step)
            total = [t + d for t, d in zip(total, term)]
            if all(np.all(np.abs(d) <= _EPS * np.abs(t)) for t, d in zip(total, term)):
                break
        for j, v in enumerate(_t_mul(pre, total)):
            out[j][ser] = v
    cf = ~ser
    if cf.any():
        aa, xx = a[cf], x[cf]
        zero = [np.zeros_like(aa) for _ in range(k)]
        # modified Lentz for Q's continued fraction, each quantity a Taylor series in a
        b = [xx + 1 - aa] + ([-np.ones_like(aa)] + zero[1:] if k else [])
        c = [np.full_like(aa, 1e300)] + zero
        d = _t_recip(b)
        h = list(d)
        for i in range(1, _MAXITER):
            an = [-i * (i - aa)] + ([np.full_like(aa, float(i))] + zero[1:] if k else [])
            b = [b[0] + 2] + b[1:]
            d = _t_recip([u + v for u, v in zip(_t_mul(an, d), b)])
            c = [u + v for u, v in zip(b, _t_mul(an, _t_recip(c)))]
            delta = _t_mul(d, c)
            h = _t_mul(h, delta)
            if np.all(np.abs(delta[0] - 1) <= _EPS) and all(
                    np.all(np.abs(dl) <= _EPS * (1 + np.abs(hl)))
                    for dl, hl in zip(delta[1:], h[1:])):
                break
        q = _t_mul(_t_exp(_t_log_prefactor(aa, xx, 0, 0, k)), h)  # x^a e^-x / Gamma(a) * cf
        out[0][cf] = 1 - q[0]
        for j in range(1, k + 1):
            out[j][cf] = -q[j]
    return out


def _gammainc_da_fun(a, x, k):
    """d^k/da^k of the regularized lower incomplete gamma function P(a, x), k >= 1."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    dtype = np.result_type(a, x)
    af, xf = a.ravel(), x.ravel()
    res = np.full(af.shape, np.nan)
    # P(a, 0) = 0 and P(a, inf) = 1 for every a: no derivative in a there
    flat = (af > 0) & ((xf == 0) | (xf == np.inf))
    res[flat] = 0.0
    ok = (af > 0) & (xf > 0) & np.isfinite(xf) & np.isfinite(af)
    if ok.any():
        res[ok] = _gammainc_taylor(af[ok], xf[ok], k)[k] * float(np.prod(np.arange(1, k + 1)))
    return res.reshape(a.shape).astype(dtype, copy=False)


def _dens_da_fun(a, x, k):
    """d^k/da^k of the gamma density in x, x^(a-1) e^-x / Gamma(a), k >= 1."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    dtype = np.result_type(a, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = _t_exp(_t_log_prefactor(a, x, -1, 0, k))[k] * float(np.prod(np.arange(1, k + 1)))
    # at x = 0 the density is 0 near every a > 1 (and so are its derivatives in a)
    e = np.where((x == 0) & (a > 1), 0.0, e)
    return e.astype(dtype, copy=False)


def _dens(a, x, k):
    return _gammainc_dx(None, a, x) if k == 0 else _dens_da(a, x, k)


_gammainc_da = Primitive(_gammainc_da_fun, "gammainc_da", broadcasts=True)
_gammainc_da.defvjp(lambda g, ans, a, x, k: g * _gammainc_da(a, x, k + 1),
                    lambda g, ans, a, x, k: g * _dens(a, x, k), None)
_gammainc_da.defjvp(lambda t, ans, a, x, k: t * _gammainc_da(a, x, k + 1),
                    lambda t, ans, a, x, k: t * _dens(a, x, k), None)


def _dens_dx(ans, a, x, k):
    u = (a - 1) / x - 1
    return u * ans + (k / x) * _dens(a, x, k - 1)


_dens_da = Primitive(_dens_da_fun, "gamma_density_da", broadcasts=True)
_dens_da.defvjp(lambda g, ans, a, x, k: g * _dens_da(a, x, k + 1),
                lambda g, ans, a, x, k: g * _dens_dx(ans, a, x, k), None)
_dens_da.defjvp(lambda t, ans, a, x, k: t * _dens_da(a, x, k + 1),
                lambda t, ans, a, x, k: t * _dens_dx(ans, a, x, k), None)

gammainc = _define("gammainc", _sc.gammainc,
                   lambda ans, a, x: _gammainc_da(a, x, 1),
                   _gammainc_dx,
                   doc="scipy.special.gammainc(a, x): regularized lower incomplete gamma "
                       "function P(a, x); differentiable in x and in a (the derivatives in a "
                       "by the series / continued fraction in Taylor arithmetic).")
gammaincc = _define("gammaincc", _sc.gammaincc,
                    lambda ans, a, x: -_gammainc_da(a, x, 1),
                    lambda ans, a, x: -_gammainc_dx(ans, a, x),
                    doc="scipy.special.gammaincc(a, x) = 1 - gammainc(a, x); differentiable "
                        "in x and a.")

beta = _define("beta", _sc.beta,
               lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
               lambda ans, a, b: ans * (digamma(b) - digamma(a + b)),
               doc="scipy.special.beta(a, b) = Gamma(a)Gamma(b)/Gamma(a+b).")
betaln = _define("betaln", _sc.betaln,
                 lambda ans, a, b: digamma(a) - digamma(a + b),
                 lambda ans, a, b: digamma(b) - digamma(a + b),
                 doc="scipy.special.betaln(a, b): log|B(a, b)|.")
# ----- the incomplete beta function's derivatives in a and b ----------------------------------
# Computed as the function is (Numerical Recipes' betai/betacf: the continued fraction, on
# the side of x where it converges fast), in truncated Taylor arithmetic in (a, b): an
# array c of shape (i+1, j+1, N) holds d^p/da^p d^q/db^q / (p! q!) at [p, q]. Two primitive
# families are closed under differentiation, so every order works:
#   betainc_d(a, b, x, i, j) = d^i/da^i d^j/db^j I_x(a, b)
#   bdens_d(a, b, x, i, j)   = the same derivatives of the density x^(a-1)(1-x)^(b-1)/B(a, b)


def _b_mul(p, q):
    r = np.zeros(np.broadcast_shapes(p.shape, q.shape), dtype=np.result_type(p, q))
    ni, nj = r.shape[:2]
    for u in range(ni):
        for v in range(nj):
            r[u:, v:] += p[u, v] * q[:ni - u, :nj - v]
    return r


def _b_recip(q):
    r = np.zeros_like(q)
    r[0, 0] = 1 / q[0, 0]
    ni, nj = q.shape[:2]
    for u in range(ni):
        for v in range(nj):
            if u == v == 0:
                continue
            acc = 0.0
            for u1 in range(u + 1):
                for v1 in range(v + 1):
                    if u1 or v1:
                        acc = acc + q[u1, v1] * r[u - u1, v - v1]
            r[u, v] = -r[0, 0] * acc
    return r


def _b_exp(h):
    h0 = h[0, 0].copy()
    rest = h.copy()
    rest[0, 0] = 0
    total = np.zeros_like(h)
    total[0, 0] = 1
    term = total.copy()
    for m in range(1, h.shape[0] + h.shape[1] - 1):
        term = _b_mul(term, rest) / m
        total = total + term
    return np.exp(h0) * total


def _b_const(v, i, j):
    c = np.zeros((i + 1, j + 1) + v.shape)
    c[0, 0] = v
    return c


def _b_vars(a, b, i, j):
    A, B = _b_const(a, i, j), _b_const(b, i, j)
    if i:
        A[1, 0] = 1
    if j:
        B[0, 1] = 1
    return A, B


def _b_log_density(a, b, x, i, j, shift):
    """Taylor coefficients of (a - shift) log x + (b - shift) log(1 - x) - betaln(a, b)."""
    h = _b_const((a - shift) * np.log(x) + (b - shift) * np.log1p(-x) - _sc.betaln(a, b), i, j)
    fact = [float(np.prod(np.arange(1, n + 1))) for n in range(i + j + 1)]
    for u in range(i + 1):
        for v in range(j + 1):
            n = u + v
            if n == 0:
                continue
            # d^u/da^u d^v/db^v of gammaln(a + b) - gammaln(a) - gammaln(b)
            d = _sc.polygamma(n - 1, a + b)
            if v == 0:
                d = d - _sc.polygamma(u - 1, a)
            if u == 0:
                d = d - _sc.polygamma(v - 1, b)
            if (u, v) == (1, 0):
                d = d + np.log(x)
            if (u, v) == (0, 1):
                d = d + np.log1p(-x)
            h[u, v] = d / (fact[u] * fact[v])
    return h


def _b_cf(A, B, x):
    """Numerical Recipes' betacf(a, b, x) on Taylor series A, B (x a plain array)."""
    one = np.zeros_like(A)
    one[0, 0] = 1
    qab, qap, qam = A + B, A + one, A - one
    c = one.copy()
    d = _b_recip(one - _b_mul(qab, _b_recip(qap)) * x)
    h = d.copy()
    for m in range(1, _MAXITER):
        m2 = 2 * m
        aa = _b_mul(m * (B - m * one) * x, _b_recip(_b_mul(qam + m2 * one, A + m2 * one)))
        d = _b_recip(one + _b_mul(aa, d))
        c = one + _b_mul(aa, _b_recip(c))
        h = _b_mul(h, _b_mul(d, c))
        aa = -_b_mul(_b_mul(A + m * one, qab + m * one) * x,
                     _b_recip(_b_mul(A + m2 * one, qap + m2 * one)))
        d = _b_recip(one + _b_mul(aa, d))
        c = one + _b_mul(aa, _b_recip(c))
        delta = _b_mul(d, c)
        h = _b_mul(h, delta)
        rest = delta.copy()
        rest[0, 0] -= 1
        if np.all(np.abs(rest) <= _EPS * (1 + np.abs(h))):
            break
    return h


def _betainc_taylor(a, b, x, i, j):
    """The [i, j] Taylor coefficient of I_x(a, b) (flat arrays, 0 < x < 1, a, b > 0)."""
    out = np.empty(a.shape)
    left = x < (a + 1) / (a + b + 2)
    for side in (left, ~left):
        if not side.any():
            continue
        aa, bb, xx = a[side], b[side], x[side]
        bt = _b_exp(_b_log_density(aa, bb, xx, i, j, 0))  # x^a (1-x)^b / B(a, b)
        A, B = _b_vars(aa, bb, i, j)
        if side is left:
            r = _b_mul(_b_mul(bt, _b_cf(A, B, xx)), _b_recip(A))
        else:  # I_x(a, b) = 1 - I_{1-x}(b, a)
            r = -_b_mul(_b_mul(bt, _b_cf(B, A, 1 - xx)), _b_recip(B))
        out[side] = r[i, j]
    return out


def _b_flat(a, b, x):
    a, b, x = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, x)))
    return a, b, x, np.result_type(a, b, x)


def _betainc_d_fun(a, b, x, i, j):
    """d^i/da^i d^j/db^j of the regularized incomplete beta function I_x(a, b), i + j >= 1."""
    a, b, x, dtype = _b_flat(a, b, x)
    af, bf, xf = a.ravel(), b.ravel(), x.ravel()
    res = np.full(af.shape, np.nan)
    pos = (af > 0) & (bf > 0) & np.isfinite(af) & np.isfinite(bf)
    res[pos & ((xf == 0) | (xf == 1))] = 0.0  # I is 0 (1) there for every a, b
    ok = pos & (xf > 0) & (xf < 1)
    if ok.any():
        fact = float(np.prod(np.arange(1, i + 1)) * np.prod(np.arange(1, j + 1)))
        res[ok] = _betainc_taylor(af[ok], bf[ok], xf[ok], i, j) * fact
    return res.reshape(a.shape).astype(dtype, copy=False)


def _bdens_d_fun(a, b, x, i, j):
    """d^i/da^i d^j/db^j of the beta density x^(a-1) (1-x)^(b-1) / B(a, b), i + j >= 1."""
    a, b, x, dtype = _b_flat(a, b, x)
    fact = float(np.prod(np.arange(1, i + 1)) * np.prod(np.arange(1, j + 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        e = _b_exp(_b_log_density(a, b, x, i, j, 1))[i, j] * fact
    # the density is 0 near every (a, b) at x = 0 for a > 1, at x = 1 for b > 1
    e = np.where(((x == 0) & (a > 1)) | ((x == 1) & (b > 1)), 0.0, e)
    return e.astype(dtype, copy=False)


def _bdens(a, b, x, i, j):
    if i == j == 0:
        return exp(xlogy(a - 1, x) + xlog1py(b - 1, -x) - betaln(a, b))
    return _bdens_d(a, b, x, i, j)


def _bdens_dx(ans, a, b, x, i, j):
    # d/dx of the density is density * ((a-1)/x - (b-1)/(1-x)); Leibniz in a and b
    out = ((a - 1) / x - (b - 1) / (1 - x)) * ans
    if i:
        out = out + (i / x) * _bdens(a, b, x, i - 1, j)
    if j:
        out = out - (j / (1 - x)) * _bdens(a, b, x, i, j - 1)
    return out


_betainc_d = Primitive(_betainc_d_fun, "betainc_d", broadcasts=True)
_bdens_d = Primitive(_bdens_d_fun, "beta_density_d", broadcasts=True)
for _op, _dx in ((_betainc_d, lambda ans, a, b, x, i, j: _bdens(a, b, x, i, j)),
                 (_bdens_d, _bdens_dx)):
    _nxt = _betainc_d if _op is _betainc_d else _bdens_d
    _rules = (lambda g, ans, a, b, x, i, j, n=_nxt: g * n(a, b, x, i + 1, j),
              lambda g, ans, a, b, x, i, j, n=_nxt: g * n(a, b, x, i, j + 1),
              lambda g, ans, a, b, x, i, j, dx=_dx: g * dx(ans, a, b, x, i, j), None, None)
    _op.defvjp(*_rules)
    _op.defjvp(*_rules)

betainc = _define("betainc", _sc.betainc,
                  lambda ans, a, b, x: _betainc_d(a, b, x, 1, 0),
                  lambda ans, a, b, x: _betainc_d(a, b, x, 0, 1),
                  lambda ans, a, b, x: _bdens(a, b, x, 0, 0),
                  doc="scipy.special.betainc(a, b, x): regularized incomplete beta function "
                      "I_x(a, b); differentiable in a, b (continued fraction in Taylor "
                      "arithmetic) and x.")


# ----- inverses of the incomplete gamma and beta functions -----------------------------------
# Implicit differentiation of P(a, x) = y (and its kin) at x = ans: dx/dy = 1 / (dP/dx),
# dx/da = -(dP/da) / (dP/dx), written with the primitives above so every order works.


def _g_dens(a, x):
    return _dens(a, x, 0)


gammaincinv = _define("gammaincinv", _sc.gammaincinv,
                      lambda ans, a, y: -_gammainc_da(a, ans, 1) / _g_dens(a, ans),
                      lambda ans, a, y: 1 / _g_dens(a, ans),
                      doc="scipy.special.gammaincinv(a, y): x with gammainc(a, x) = y; "
                          "differentiable in a and y.")
gammainccinv = _define("gammainccinv", _sc.gammainccinv,
                       lambda ans, a, y: -_gammainc_da(a, ans, 1) / _g_dens(a, ans),
                       lambda ans, a, y: -1 / _g_dens(a, ans),
                       doc="scipy.special.gammainccinv(a, y): x with gammaincc(a, x) = y; "
                           "differentiable in a and y.")


def _b_dens(a, b, x):
    return _bdens(a, b, x, 0, 0)


betaincinv = _define("betaincinv", _sc.betaincinv,
                     lambda ans, a, b, y: -_betainc_d(a, b, ans, 1, 0) / _b_dens(a, b, ans),
                     lambda ans, a, b, y: -_betainc_d(a, b, ans, 0, 1) / _b_dens(a, b, ans),
                     lambda ans, a, b, y: 1 / _b_dens(a, b, ans),
                     doc="scipy.special.betaincinv(a, b, y): x with betainc(a, b, x) = y; "
                         "differentiable in a, b and y.")
betainccinv = _define("betainccinv", _sc.betainccinv,
                      lambda ans, a, b, y: -_betainc_d(a, b, ans, 1, 0) / _b_dens(a, b, ans),
                      lambda ans, a, b, y: -_betainc_d(a, b, ans, 0, 1) / _b_dens(a, b, ans),
                      lambda ans, a, b, y: -1 / _b_dens(a, b, ans),
                      doc="scipy.special.betainccinv(a, b, y): x with 1 - betainc(a, b, x) = "
                          "y; differentiable in a, b and y.")


# ----- error function and normal distribution ------------------------------------------------

erf = _define("erf", _sc.erf, lambda ans, x: (2 / _SQRT_PI) * exp(-(x * x)),
              doc="scipy.special.erf; derivative 2/sqrt(pi) exp(-x^2) (complex too).")
erfc = _define("erfc", _sc.erfc, lambda ans, x: (-2 / _SQRT_PI) * exp(-(x * x)),
               doc="scipy.special.erfc = 1 - erf; derivative -2/sqrt(pi) exp(-x^2).")
erfinv = _define("erfinv", _sc.erfinv, lambda ans, x: (_SQRT_PI / 2) * exp(ans * ans),
                 doc="scipy.special.erfinv; derivative sqrt(pi)/2 exp(erfinv(x)^2).")
erfcinv = _define("erfcinv", _sc.erfcinv, lambda ans, x: (-_SQRT_PI / 2) * exp(ans * ans),
                  doc="scipy.special.erfcinv; derivative -sqrt(pi)/2 exp(erfcinv(x)^2).")
erfcx = _define("erfcx", _sc.erfcx, lambda ans, x: 2 * (x * ans) - 2 / _SQRT_PI,
                doc="scipy.special.erfcx = exp(x^2) erfc(x); derivative 2x erfcx(x) - 2/sqrt(pi).")
ndtr = _define("ndtr", _sc.ndtr, lambda ans, x: exp(-0.5 * (x * x)) / _SQRT_2PI,
               doc="scipy.special.ndtr: the standard normal CDF; derivative its density.")
# pdf / cdf as exp(log pdf - log cdf): finite far in the left tail, where both underflow
log_ndtr = _define("log_ndtr", _sc.log_ndtr,
                   lambda ans, x: exp(-0.5 * (x * x) - ans) / _SQRT_2PI,
                   doc="scipy.special.log_ndtr: log of the standard normal CDF, stable in "
                       "both tails.")
ndtri = _define("ndtri", _sc.ndtri, lambda ans, x: _SQRT_2PI * exp(0.5 * (ans * ans)),
                doc="scipy.special.ndtri: inverse of ndtr.")

# ----- logistic -------------------------------------------------------------------------------

expit = _define("expit", _sc.expit, lambda ans, x: ans - ans * ans,
                doc="scipy.special.expit: the logistic sigmoid; derivative expit (1 - expit).")
logit = _define("logit", _sc.logit, lambda ans, x: 1 / (x * (1 - x)),
                doc="scipy.special.logit: log(p / (1 - p)); derivative 1 / (p (1 - p)).")
log_expit = _define("log_expit", _sc.log_expit, lambda ans, x: expit(-x),
                    doc="scipy.special.log_expit: log of the sigmoid; derivative expit(-x).")

# ----- elementary functions SciPy provides -----------------------------------------------------

expm1 = _define("expm1", _sc.expm1, lambda ans, x: ans + 1,
                doc="scipy.special.expm1: exp(x) - 1, accurate near 0.")
log1p = _define("log1p", _sc.log1p, lambda ans, x: 1 / (1 + x),
                doc="scipy.special.log1p: log(1 + x), accurate near 0.")
exp2 = _define("exp2", _sc.exp2, lambda ans, x: ans * float(np.log(2)),
               doc="scipy.special.exp2: 2**x.")
exp10 = _define("exp10", _sc.exp10, lambda ans, x: ans * float(np.log(10)),
                doc="scipy.special.exp10: 10**x.")


def _cbrt_deriv(ans, x):
    # infinite at 0, where the forward gives 0 without a warning
    with np.errstate(divide="ignore"):
        return 1 / (3 * (ans * ans))


cbrt = _define("cbrt", _sc.cbrt, _cbrt_deriv, doc="scipy.special.cbrt: the real cube root.")

# ----- x log y and entropies ------------------------------------------------------------------


def _zero_where_x0(x, q):
    """q with 0 wherever x == 0 (q computed from a safe denominator there)."""
    return where(equal(x, 0), 0.0, q)


def _one_where_x0(x, y):
    return where(equal(x, 0), 1.0, y)


def _log_quiet(y):
    # log(0) = -inf is the true derivative of xlogy in x at y = 0, where the forward
    # gave 0 without a warning: the rule adds no "divide by zero" one (see cr.sqrt)
    with np.errstate(divide="ignore"):
        return log(y)


xlogy = _define("xlogy", _sc.xlogy,
                lambda ans, x, y: _log_quiet(y),
                lambda ans, x, y: _zero_where_x0(x, x / _one_where_x0(x, y)),
                doc="scipy.special.xlogy: x*log(y), 0 where x == 0; d/dy is 0 there too.")
xlog1py = _define("xlog1py", _sc.xlog1py,
                  lambda ans, x, y: log1p(y),
                  lambda ans, x, y: _zero_where_x0(x, x / (1 + where(equal(x, 0), 0.0, y))),
                  doc="scipy.special.xlog1py: x*log1p(y), 0 where x == 0; d/dy is 0 there.")


def _entr_deriv(ans, x):
    with np.errstate(divide="ignore"):
        return -(log(x) + 1)


entr = _define("entr", _sc.entr, _entr_deriv,
               doc="scipy.special.entr: -x log x (0 at 0); derivative -(log x + 1).")
rel_entr = _define("rel_entr", _sc.rel_entr,
                   lambda ans, x, y: log(x / y) + 1,
                   lambda ans, x, y: -(x / y),
                   doc="scipy.special.rel_entr: x log(x / y) for x, y > 0.")
kl_div = _define("kl_div", _sc.kl_div,
                 lambda ans, x, y: log(x / y),
                 lambda ans, x, y: 1 - x / y,
                 doc="scipy.special.kl_div: x log(x / y) - x + y for x, y > 0.")

# ----- more functions with derivatives in special functions ----------------------------------

erfi = _define("erfi", _sc.erfi, lambda ans, x: (2 / _SQRT_PI) * exp(x * x),
               doc="scipy.special.erfi = -i erf(i x); derivative 2/sqrt(pi) exp(x^2).")
dawsn = _define("dawsn", _sc.dawsn, lambda ans, x: 1 - 2 * (x * ans),
                doc="scipy.special.dawsn: Dawson's integral; derivative 1 - 2 x dawsn(x).")
ndtri_exp = _define("ndtri_exp", _sc.ndtri_exp,
                    lambda ans, y: _SQRT_2PI * exp(y + 0.5 * (ans * ans)),
                    doc="scipy.special.ndtri_exp(y) = ndtri(exp(y)), accurate for y << 0.")
loggamma = _define("loggamma", _sc.loggamma, lambda ans, z: digamma(z),
                   doc="scipy.special.loggamma: the principal branch of log Gamma (complex "
                       "too); derivative digamma(z).")
softplus = _define("softplus", _sc.softplus, lambda ans, x: expit(x),
                   doc="scipy.special.softplus: log(1 + exp(x)); derivative expit(x).")
exp1 = _define("exp1", _sc.exp1, lambda ans, x: -exp(-x) / x,
               doc="scipy.special.exp1: the exponential integral E1; derivative -exp(-x)/x.")
expi = _define("expi", _sc.expi, lambda ans, x: exp(x) / x,
               doc="scipy.special.expi: the exponential integral Ei; derivative exp(x)/x.")


def _expn_dx(ans, n, x):
    # d/dx E_n = -E_{n-1} for n >= 1; E_0(x) = exp(-x)/x has derivative -E_0 (1 + 1/x)
    nv = value(n)
    if np.all(nv >= 1):
        return -expn(n - 1, x)
    return where(np.asarray(nv) >= 1, -expn(np.maximum(nv - 1, 0), x), -(ans * (1 + 1 / x)))


expn = _define("expn", _sc.expn, _orderless("expn"), _expn_dx,
               doc="scipy.special.expn(n, x): the generalized exponential integral E_n "
                   "(differentiable in x).")
wrightomega = _define("wrightomega", _sc.wrightomega, lambda ans, z: ans / (1 + ans),
                      doc="scipy.special.wrightomega: the Wright omega function; derivative "
                          "omega / (1 + omega).")
owens_t = _define("owens_t", _sc.owens_t,
                  lambda ans, h, a: (-0.5 / _SQRT_2PI) * exp(-0.5 * (h * h))
                  * erf(a * h / float(np.sqrt(2))),
                  lambda ans, h, a: exp(-0.5 * (h * h) * (1 + a * a)) / ((2 * np.pi) * (1 + a * a)),
                  doc="scipy.special.owens_t(h, a): Owen's T function; differentiable in h "
                      "and a.")


def _zeta_fun(x, q):
    return _sc.zeta(x, q)


_zeta = _define("zeta", _zeta_fun,
                _refusing("zeta", "x", "no closed form"),
                lambda ans, x, q: -(x * _zeta(x + 1, q)),
                doc="scipy.special.zeta(x, q): the Hurwitz zeta function; differentiable in q.")


def zeta(x, q=None):
    """scipy.special.zeta(x, q=None): Riemann (q None) or Hurwitz zeta; differentiable in q.

    The derivative in q is -x zeta(x + 1, q); x has no derivative rule (a RuleError).
    """
    return _zeta(x, 1.0 if q is None else q)


def _lambertw_fun(z, k=0, tol=1e-8):
    return _sc.lambertw(z, k, tol)


def _lambertw_rule(g, ans, z, k=0, tol=1e-8):
    # W' = 1 / (exp(W) (1 + W)) (= W / (z (1 + W)) away from 0); the real part for a real z
    return _match_real(z, g / (exp(ans) * (1 + ans)))


def _match_real(z, g):
    if value(z).dtype.kind != "c" and value(g).dtype.kind == "c":
        return real(g)
    return g


_lambertw = Primitive(_lambertw_fun, "lambertw", broadcasts=True)
_lambertw.defvjp(_lambertw_rule, None, None)
_lambertw.defjvp(lambda t, ans, z, k=0, tol=1e-8: t / (exp(ans) * (1 + ans)), None, None)


def lambertw(z, k=0, tol=1e-8):
    """scipy.special.lambertw(z, k=0, tol=1e-8): branch k of the Lambert W function (complex).

    Differentiable in z: W'(z) = 1 / (exp(W) (1 + W)); a real z gets a real gradient.
    """
    return _lambertw(pack(z), k, tol)


# ----- Bessel functions -------------------------------------------------------------------------

iv = _define("iv", _sc.iv, _orderless("iv"),
             lambda ans, v, z: 0.5 * (iv(v - 1, z) + iv(v + 1, z)),
             doc="scipy.special.iv(v, z): modified Bessel function of the first kind "
                 "(differentiable in z).")
ive = _define("ive", _sc.ive, _orderless("ive"),
              lambda ans, v, z: 0.5 * (ive(v - 1, z) + ive(v + 1, z)) - sign(real(z)) * ans,
              doc="scipy.special.ive(v, z) = iv(v, z) exp(-|Re z|) (differentiable in z).")
i0 = _define("i0", _sc.i0, lambda ans, x: i1(x),
             doc="scipy.special.i0; derivative i1(x).")
i1 = _define("i1", _sc.i1, lambda ans, x: 0.5 * (i0(x) + iv(2, x)),
             doc="scipy.special.i1; derivative (i0(x) + iv(2, x)) / 2.")
i0e = _define("i0e", _sc.i0e, lambda ans, x: i1e(x) - sign(x) * ans,
              doc="scipy.special.i0e = i0(x) exp(-|x|).")
i1e = _define("i1e", _sc.i1e, lambda ans, x: 0.5 * (i0e(x) + ive(2, x)) - sign(x) * ans,
              doc="scipy.special.i1e = i1(x) exp(-|x|).")
jv = _define("jv", _sc.jv, _orderless("jv"),
             lambda ans, v, z: 0.5 * (jv(v - 1, z) - jv(v + 1, z)),
             doc="scipy.special.jv(v, z): Bessel function of the first kind (differentiable "
                 "in z).")
jn = _define("jn", _sc.jv, _orderless("jn"),
             lambda ans, n, x: 0.5 * (jv(n - 1, x) - jv(n + 1, x)),
             doc="scipy.special.jn(n, x): Bessel function of the first kind of integer order.")
j0 = _define("j0", _sc.j0, lambda ans, x: -j1(x), doc="scipy.special.j0; derivative -j1(x).")
j1 = _define("j1", _sc.j1, lambda ans, x: 0.5 * (j0(x) - jv(2, x)),
             doc="scipy.special.j1; derivative (j0(x) - jv(2, x)) / 2.")
yv = _define("yv", _sc.yv, _orderless("yv"),
             lambda ans, v, z: 0.5 * (yv(v - 1, z) - yv(v + 1, z)),
             doc="scipy.special.yv(v, z): Bessel function of the second kind (differentiable "
                 "in z).")
yn = _define("yn", _sc.yn, _orderless("yn"),
             lambda ans, n, x: 0.5 * (yv(n - 1, x) - yv(n + 1, x)),
             doc="scipy.special.yn(n, x): Bessel function of the second kind of integer order.")
y0 = _define("y0", _sc.y0, lambda ans, x: -y1(x), doc="scipy.special.y0; derivative -y1(x).")
y1 = _define("y1", _sc.y1, lambda ans, x: 0.5 * (y0(x) - yv(2, x)),
             doc="scipy.special.y1; derivative (y0(x) - yv(2, x)) / 2.")
kv = _define("kv", _sc.kv, _orderless("kv"),
             lambda ans, v, z: -0.5 * (kv(v - 1, z) + kv(v + 1, z)),
             doc="scipy.special.kv(v, z): modified Bessel function of the second kind "
                 "(differentiable in z).")
k0 = _define("k0", _sc.k0, lambda ans, x: -k1(x), doc="scipy.special.k0; derivative -k1(x).")
k1 = _define("k1", _sc.k1, lambda ans, x: -0.5 * (k0(x) + kv(2, x)),
             doc="scipy.special.k1; derivative -(k0(x) + kv(2, x)) / 2.")

# ----- softmax family -------------------------------------------------------------------------


def softmax(x, axis=None):
    """scipy.special.softmax: exp(x) / sum(exp(x)) over ``axis`` (None: the whole array)."""
    return _softmax(pack(x), axis=axis)


def log_softmax(x, axis=None):
    """scipy.special.log_softmax: x - logsumexp(x) over ``axis`` (None: the whole array)."""
    return _log_softmax(pack(x), axis=axis)


def _lse_fun(a, b, axis=None, keepdims=False):
    """log|sum(b * exp(a))| over ``axis``; -inf where the sum is 0 (no warning)."""
    with np.errstate(divide="ignore"):
        return _sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)[0]


def _lse_sign_fun(a, b, axis=None, keepdims=False):
    return _sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)[1]


def _lse_kept(x, a, b, axis, keepdims):
    """x, a reduced array, given back its reduced axes (of the broadcast of a and b)."""
    if keepdims:
        return x
    shape = np.broadcast_shapes(np.shape(value(a)), np.shape(value(b)))
    return reshape(x, kept_shape(shape, axis))


def _lse_weights(ans, a, b, axis, keepdims):
    """sign(sum) * exp(a - ans) = d ans / d b; times b it is d ans / d a.

    Where the sum is 0 (all -inf, or weights cancelling) ans is -inf: shift by 0
    there, so the weights are finite (0 for a = -inf) rather than nan.
    """
    r = _lse_kept(ans, a, b, axis, keepdims)
    s = _lse_sign(a, b, axis=axis, keepdims=True)
    return s * exp(a - where(equal(r, -np.inf), 0.0, r))


def _lse_rule_a(g, ans, a, b, axis=None, keepdims=False):
    return _lse_kept(g, a, b, axis, keepdims) * (b * _lse_weights(ans, a, b, axis, keepdims))


def _lse_rule_b(g, ans, a, b, axis=None, keepdims=False):
    return _lse_kept(g, a, b, axis, keepdims) * _lse_weights(ans, a, b, axis, keepdims)


def _lse_jvp_a(t, ans, a, b, axis=None, keepdims=False):
    return _sum(t * (b * _lse_weights(ans, a, b, axis, keepdims)), axis, keepdims=keepdims)


def _lse_jvp_b(t, ans, a, b, axis=None, keepdims=False):
    return _sum(t * _lse_weights(ans, a, b, axis, keepdims), axis, keepdims=keepdims)


_lse = Primitive(_lse_fun, "logsumexp", broadcasts=True)
_lse.defvjp(_lse_rule_a, _lse_rule_b)
_lse.defjvp(_lse_jvp_a, _lse_jvp_b)
_lse_sign = ConstantPrimitive(_lse_sign_fun, "logsumexp_sign")


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """scipy.special.logsumexp: log(sum(b * exp(a))) over ``axis``, differentiable in a and b.

    With ``return_sign`` it returns (log|sum|, sign(sum)); the sign has no derivative.
    A sum of 0 (all -inf, or b cancelling) gives -inf with a gradient of 0 there.
    """
    a = pack(a)
    if isinstance(axis, list):
        axis = tuple(axis)
    if keepdims and np.ndim(value(a)) == 0 and (b is None or np.ndim(value(pack(b))) == 0):
        # SciPy reads a 0-d input as 1-d: with keepdims the result has shape (1,)
        from ..ops.shape import reshape
        a = reshape(a, (1,))
    if b is None:
        out = _cr_logsumexp(a, axis, keepdims=keepdims)
        if not return_sign:
            return out
        return out, _lse_sign(a, np.ones((), dtype=np.result_type(value(a), 1.0)),
                              axis=axis, keepdims=keepdims)
    b = pack(b)
    out = _lse(a, b, axis=axis, keepdims=keepdims)
    if not return_sign:
        return out
    return out, _lse_sign(a, b, axis=axis, keepdims=keepdims)


def _register_dispatch():
    """scipy.special's ufuncs called on a Tensor (``scipy.special.gammaln(t)``) dispatch
    here, as NumPy's do to chainrule.numpy: NumPy hands every ufunc to Tensor's
    ``__array_ufunc__``, which looks it up in the catalogue."""
    import scipy.special as _sp
    from ..ops import dispatch
    for name in __all__:
        fn = getattr(_sp, name, None)
        if isinstance(fn, np.ufunc) and name in globals():
            dispatch.FOREIGN_UFUNCS.setdefault(fn, globals()[name])


_register_dispatch()

__getattr__ = passthrough("special")
