"""chainrule.scipy.stats: differentiable densities and distribution functions; other names
pass through to SciPy.

Objects mirror SciPy's (``st.norm.logpdf(x, loc=0, scale=1)``, ``st.t.cdf(x, df)``,
``st.norm(loc, scale).logpdf(x)`` frozen): pdf/logpdf/cdf/logcdf/sf/logsf (pmf/logpmf
for poisson), written as compositions of chainrule operations and
chainrule.scipy.special, so they are differentiable in x and in every
parameter, to any order, in both modes, except where noted:

- cdf/sf of gamma, chi2, beta and t are differentiable in their shape
  parameters too (a, b, df: through chainrule.scipy.special's gammainc and
  betainc, which autograd and PyTorch do not differentiate there).
  poisson's k is a count: no derivative (its rules are in mu).
- Numerically careful forms: norm.logcdf = log_ndtr(z), norm.logsf =
  log_ndtr(-z), logistic through log_expit, expon.logcdf = log(-expm1(-z)).
  Outside the support the log-density is -inf with gradient 0 (the formula is
  evaluated at a safe point there, so no nan leaks into the gradient).
- Invalid parameters (scale <= 0, a shape parameter <= 0) give nan, as in SciPy,
  quietly: the formulas run on stand-in values there.
- multivariate_normal: mean and cov differentiable (cov through its Cholesky
  factor: the gradient in cov is symmetric, as in PyTorch); cov may be a scalar,
  a vector (diagonal) or a matrix; allow_singular=True is refused.

Other methods (rvs, ppf where not listed, mean, var, ...) are SciPy's, on values.
"""
import numpy as np
import scipy.special as _sc
import scipy.stats as _st

from ..errors import ShapeError
from ..ops import _util
from ..ops.compare import equal, greater, greater_equal, less, less_equal, logical_and
from ..ops.elementwise import abs as _abs, exp, log, where
from ..ops.reduce import sum as _sum
from ..ops.shape import concatenate, getitem, reshape, swapaxes_last
from ..tensor import Tensor
from . import _refusing, passthrough
from . import special as sp
from .linalg import _cholesky, solve_triangular

__all__ = ["norm", "t", "beta", "gamma", "chi2", "poisson", "dirichlet", "multivariate_normal",
           "expon", "laplace", "logistic", "uniform"]

_LOG_2PI = float(np.log(2 * np.pi))
_LOG_2 = float(np.log(2))
_NINF = -np.inf


def _arr(x):
    """An array-like argument as a Tensor (lists holding Tensors stacked) or a NumPy array."""
    x = _util.pack(x)
    return x if type(x) is Tensor else np.asarray(x)


def _outside(inside, safe, z):
    """z where ``inside``, ``safe`` elsewhere: formulas stay finite (and so do gradients)."""
    return where(inside, z, safe)


def _log_of(p, q):
    """log p for a probability p = 1 - q: log(p) in its lower half, log1p(-q) in its upper
    half (where p rounds to 1 but q still holds the digits), as SciPy computes it."""
    small = less(p, 0.5)
    return where(small, log(where(small, p, 0.5)), sp.log1p(-where(small, 0.5, q)))


class _Distribution:
    """A family with shape parameters ``shapes`` and loc/scale, like a scipy.stats object."""

    name = ""
    shapes = ()
    methods = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")

    def __init__(self):
        self._scipy = getattr(_st, self.name)

    def _parse(self, method, args, kwds):
        names = self.shapes + ("loc", "scale")
        if len(args) > len(names):
            raise TypeError(f"scipy.stats.{self.name}.{method} takes at most {len(names)} "
                            f"parameters after x ({', '.join(names)}), got {len(args)}")
        vals = dict(zip(names, args))
        for k, v in kwds.items():
            if k not in names:
                raise TypeError(f"scipy.stats.{self.name}.{method} got an unexpected keyword "
                                f"{k!r}; its parameters are {', '.join(names)}")
            if k in vals:
                raise TypeError(f"scipy.stats.{self.name}.{method} got {k!r} twice")
            vals[k] = v
        missing = [s for s in self.shapes if s not in vals]
        if missing:
            raise TypeError(f"scipy.stats.{self.name}.{method} is missing the shape "
                            f"parameter(s) {', '.join(missing)}")
        return ([_arr(vals[s]) for s in self.shapes], _arr(vals.get("loc", 0.0)),
                _arr(vals.get("scale", 1.0)))

    def _z(self, method, x, args, kwds):
        """(z, shapes, scale, ok): the standardised point and the parameters, where ``ok``
        marks valid parameters (scale > 0, shape parameters > 0); invalid ones are
        replaced by 1 so that nothing computed from them warns or leaks a nan."""
        shapes, loc, scale = self._parse(method, args, kwds)
        ok = greater(scale, 0.0)
        for p in shapes:
            ok = logical_and(ok, greater(p, 0.0))
        if not np.all(_util.value(ok)):
            scale = where(ok, scale, 1.0)
            shapes = [where(ok, p, 1.0) for p in shapes]
        return (_arr(x) - loc) / scale, shapes, scale, ok

    # Standardised pieces (z = (x - loc) / scale); defaults in terms of each other.
    def _logpdf(self, z, *shapes):
        raise NotImplementedError

    def _logcdf(self, z, *shapes):
        return _log_of(self._cdf(z, *shapes), self._sf(z, *shapes))

    def _sf(self, z, *shapes):
        return 1.0 - self._cdf(z, *shapes)

    def _logsf(self, z, *shapes):
        return _log_of(self._sf(z, *shapes), self._cdf(z, *shapes))

    def _apply(self, method, x, args, kwds):
        z, shapes, scale, ok = self._z(method, x, args, kwds)
        out = getattr(self, "_" + method)(z, *shapes)
        if method == "logpdf":
            out = out - log(scale)
        # SciPy's value for invalid parameters is nan
        return out if np.all(_util.value(ok)) else where(ok, out, np.nan)

    def logpdf(self, x, *args, **kwds):
        return self._apply("logpdf", x, args, kwds)

    def pdf(self, x, *args, **kwds):
        return exp(self.logpdf(x, *args, **kwds))

    def cdf(self, x, *args, **kwds):
        return self._apply("cdf", x, args, kwds)

    def logcdf(self, x, *args, **kwds):
        return self._apply("logcdf", x, args, kwds)

    def sf(self, x, *args, **kwds):
        return self._apply("sf", x, args, kwds)

    def logsf(self, x, *args, **kwds):
        return self._apply("logsf", x, args, kwds)

    def __call__(self, *args, **kwds):
        """A frozen distribution: ``st.norm(1.0, 2.0).logpdf(x)``."""
        return _Frozen(self, args, kwds)

    def __getattr__(self, name):
        # any other method is SciPy's, on values (refusing a Tensor being differentiated);
        # private names are not forwarded (copy and pickle probe them before __init__ ran)
        if name.startswith("_"):
            raise AttributeError(name)
        obj = getattr(self._scipy, name)
        if callable(obj):
            return _refusing(obj, f"scipy.stats.{self.name}.{name}")
        return obj

    def __repr__(self):
        return f"<chainrule.scipy.stats.{self.name}: differentiable {', '.join(self.methods)}>"


class _Frozen:
    """A distribution with its parameters fixed, as scipy.stats.<dist>(*params)."""

    def __init__(self, dist, args, kwds):
        self.dist, self.args, self.kwds = dist, args, kwds

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.dist.methods:
            fun = getattr(self.dist, name)
            if name == "entropy":
                return lambda: fun(*self.args, **self.kwds)
            return lambda x: fun(x, *self.args, **self.kwds)
        vals = [_util.value(a) for a in self.args]
        frozen = self.dist._scipy(*vals, **{k: _util.value(v) for k, v in self.kwds.items()})
        obj = getattr(frozen, name)
        if callable(obj):
            return _refusing(obj, f"scipy.stats.{self.dist.name}(...).{name}")
        return obj


# ----- continuous families ----------------------------------------------------------
class _Norm(_Distribution):
    name = "norm"
    methods = _Distribution.methods + ("ppf",)

    def _logpdf(self, z):
        return -0.5 * (z * z) - 0.5 * _LOG_2PI

    def _cdf(self, z):
        return sp.ndtr(z)

    def _logcdf(self, z):
        return sp.log_ndtr(z)

    def _sf(self, z):
        return sp.ndtr(-z)

    def _logsf(self, z):
        return sp.log_ndtr(-z)

    def ppf(self, q, loc=0.0, scale=1.0):
        """The quantile function loc + scale * ndtri(q); differentiable."""
        return _arr(loc) + _arr(scale) * sp.ndtri(_arr(q))


def _t_cdf(df, z):
    """Student's t cdf from the regularized incomplete beta function, differentiable in z and df.

    P(0 < T < |z|) = I(1/2, df/2, z^2/(df + z^2)) / 2 where that ratio is small (computed
    to full relative precision there), P(T > |z|) = I(df/2, 1/2, df/(df + z^2)) / 2 in
    the tails. Every branch sees a safe argument where it is not used, and z = 0 (where
    the beta function's derivative is infinite and z^2's is 0) is the line
    1/2 + pdf(0) z, exact in value and in the first two derivatives.
    """
    zero = equal(z, 0.0)
    zz = where(zero, 1.0, z) ** 2
    x2 = zz / (df + zz)
    small = less(x2, 0.5)
    central = 0.5 * sp.betainc(0.5, 0.5 * df, where(small, x2, 0.25))
    tail = 0.5 * sp.betainc(0.5 * df, 0.5, where(small, 0.75, df / (df + zz)))
    upper = where(small, 0.5 - central, tail)          # P(T > |z|)
    cdf = where(greater(z, 0.0), 1.0 - upper, upper)
    return where(zero, 0.5 + exp(_t_logpdf(z, df)) * z, cdf)


def _t_logpdf(z, df):
    half = 0.5 * (df + 1.0)
    return (sp.gammaln(half) - sp.gammaln(0.5 * df) - 0.5 * log(df * np.pi)
            - half * sp.log1p(z * z / df))


class _T(_Distribution):
    name = "t"
    shapes = ("df",)

    def _logpdf(self, z, df):
        return _t_logpdf(z, df)

    def _cdf(self, z, df):
        return _t_cdf(df, z)

    def _sf(self, z, df):
        return _t_cdf(df, -z)


class _Beta(_Distribution):
    name = "beta"
    shapes = ("a", "b")

    def _inside(self, z):
        return logical_and(greater_equal(z, 0.0), less_equal(z, 1.0))

    def _logpdf(self, z, a, b):
        inside = self._inside(z)
        zs = _outside(inside, 0.5, z)
        val = sp.xlogy(a - 1.0, zs) + sp.xlog1py(b - 1.0, -zs) - sp.betaln(a, b)
        return where(inside, val, _NINF)

    def _cdf(self, z, a, b):
        return sp.betainc(a, b, _clip01(z))

    def _sf(self, z, a, b):
        return sp.betainc(b, a, 1.0 - _clip01(z))


def _clip01(z):
    return where(less(z, 0.0), 0.0, where(less(z, 1.0), z, 1.0))


class _Gamma(_Distribution):
    name = "gamma"
    shapes = ("a",)

    def _logpdf(self, z, a):
        inside = greater_equal(z, 0.0)
        zs = _outside(inside, 1.0, z)
        return where(inside, sp.xlogy(a - 1.0, zs) - zs - sp.gammaln(a), _NINF)

    def _cdf(self, z, a):
        return sp.gammainc(a, _positive(z))

    def _sf(self, z, a):
        return sp.gammaincc(a, _positive(z))


def _positive(z):
    return where(less(z, 0.0), 0.0, z)


class _Chi2(_Distribution):
    name = "chi2"
    shapes = ("df",)

    def _logpdf(self, z, df):
        inside = greater_equal(z, 0.0)
        zs = _outside(inside, 1.0, z)
        k = 0.5 * df
        val = sp.xlogy(k - 1.0, zs) - 0.5 * zs - sp.gammaln(k) - k * _LOG_2
        return where(inside, val, _NINF)

    def _cdf(self, z, df):
        return sp.gammainc(0.5 * df, 0.5 * _positive(z))

    def _sf(self, z, df):
        return sp.gammaincc(0.5 * df, 0.5 * _positive(z))


class _Expon(_Distribution):
    name = "expon"

    def _logpdf(self, z):
        inside = greater_equal(z, 0.0)
        return where(inside, -_outside(inside, 0.0, z), _NINF)

    def _cdf(self, z):
        return -sp.expm1(-_positive(z))

    def _logcdf(self, z):
        # log(-expm1(-z)) near 0, log1p(-exp(-z)) in the tail (as SciPy)
        inside = greater_equal(z, 0.0)
        near = less(z, _LOG_2)
        zn, zt = where(near, _outside(inside, 1.0, z), 0.5), where(near, 1.0, z)
        return where(inside, where(near, log(-sp.expm1(-zn)), sp.log1p(-exp(-zt))), _NINF)

    def _sf(self, z):
        return exp(-_positive(z))

    def _logsf(self, z):
        return -_positive(z)


class _Laplace(_Distribution):
    name = "laplace"

    def _logpdf(self, z):
        return -_abs(z) - _LOG_2

    # Each branch sees z clamped to its own side, so the other branch's exp never
    # overflows into a nan gradient; at z = 0 the right branch has derivative 1/2.
    def _cdf(self, z):
        left = less(z, 0.0)
        return where(left, 0.5 * exp(where(left, z, 0.0)), 1.0 - 0.5 * exp(-where(left, 0.0, z)))

    def _logcdf(self, z):
        left = less(z, 0.0)
        return where(left, where(left, z, 0.0) - _LOG_2,
                     sp.log1p(-0.5 * exp(-where(left, 0.0, z))))

    def _sf(self, z):
        return self._cdf(-z)

    def _logsf(self, z):
        return self._logcdf(-z)


class _Logistic(_Distribution):
    name = "logistic"

    def _logpdf(self, z):
        return sp.log_expit(z) + sp.log_expit(-z)

    def _cdf(self, z):
        return sp.expit(z)

    def _logcdf(self, z):
        return sp.log_expit(z)

    def _sf(self, z):
        return sp.expit(-z)

    def _logsf(self, z):
        return sp.log_expit(-z)


class _Uniform(_Distribution):
    name = "uniform"

    def _logpdf(self, z):
        inside = logical_and(greater_equal(z, 0.0), less_equal(z, 1.0))
        return where(inside, 0.0 * z, _NINF)

    def _cdf(self, z):
        return _clip01(z)


# ----- poisson ----------------------------------------------------------------------
class _Poisson:
    """scipy.stats.poisson: pmf/logpmf/cdf/logcdf/sf/logsf, differentiable in mu."""

    name = "poisson"
    methods = ("pmf", "logpmf", "cdf", "logcdf", "sf", "logsf")

    def __init__(self):
        self._scipy = _st.poisson

    def _k(self, method, k, loc):
        for v, what in ((k, "k"), (loc, "loc")):
            if type(v) is Tensor and (v.requires_grad or v.tangent is not None):
                raise TypeError(f"scipy.stats.poisson.{method}: {what} is an integer count, not "
                                f"differentiable; give it as a plain value (the rules are "
                                f"in mu)")
        return np.asarray(_util.value(k), dtype=float) - np.asarray(_util.value(loc))

    def logpmf(self, k, mu, loc=0):
        k = self._k("logpmf", k, loc)
        valid = (k >= 0) & (k == np.floor(k))
        ks = np.where(valid, k, 0.0)
        mu = _arr(mu)
        return where(valid, sp.xlogy(ks, mu) - mu - _sc.gammaln(ks + 1.0), _NINF)

    def pmf(self, k, mu, loc=0):
        return exp(self.logpmf(k, mu, loc))

    def cdf(self, k, mu, loc=0):
        k = np.floor(self._k("cdf", k, loc))
        mu = _arr(mu)
        return where(k >= 0, sp.gammaincc(np.maximum(k, 0.0) + 1.0, mu), 0.0 * mu)

    def logcdf(self, k, mu, loc=0):
        return log(self.cdf(k, mu, loc))

    def sf(self, k, mu, loc=0):
        k = np.floor(self._k("sf", k, loc))
        mu = _arr(mu)
        return where(k >= 0, sp.gammainc(np.maximum(k, 0.0) + 1.0, mu), 1.0 + 0.0 * mu)

    def logsf(self, k, mu, loc=0):
        return log(self.sf(k, mu, loc))

    __call__ = _Distribution.__call__
    __getattr__ = _Distribution.__getattr__
    __repr__ = _Distribution.__repr__


# ----- dirichlet --------------------------------------------------------------------
class _Dirichlet:
    """scipy.stats.dirichlet: pdf/logpdf in x (components on the first axis) and alpha."""

    name = "dirichlet"
    methods = ("pdf", "logpdf")

    def __init__(self):
        self._scipy = _st.dirichlet

    def logpdf(self, x, alpha):
        alpha, x = _arr(alpha), _arr(x)
        sa, sx = _util.shape_of(alpha), _util.shape_of(x)
        if len(sa) != 1:
            raise ShapeError(f"scipy.stats.dirichlet.logpdf: alpha must be a vector, got shape "
                             f"{sa}")
        if len(sx) == 0 or sx[0] not in (sa[0], sa[0] - 1):
            raise ShapeError(f"scipy.stats.dirichlet.logpdf: x (shape {sx}) must have "
                             f"{sa[0]} or {sa[0] - 1} entries on its first axis (alpha has "
                             f"{sa[0]}); components go on the first axis, as in SciPy")
        if sx[0] == sa[0] - 1:  # the last component is implied
            x = concatenate([x, 1.0 - _sum(x, 0, keepdims=True)], axis=0)
        xv = _util.value(x)
        if np.any(xv < 0) or np.any(xv > 1):
            raise ValueError("scipy.stats.dirichlet.logpdf: each entry of x must be in [0, 1]")
        if np.any(np.abs(np.sum(xv, 0) - 1.0) > 10e-10):
            raise ValueError("scipy.stats.dirichlet.logpdf: the entries of x must sum to 1 "
                             "along the first axis")
        a = reshape(alpha, sa + (1,) * (len(sx) - 1))
        log_b = _sum(sp.gammaln(alpha)) - sp.gammaln(_sum(alpha))
        return _sum(sp.xlogy(a - 1.0, x), 0) - log_b

    def pdf(self, x, alpha):
        return exp(self.logpdf(x, alpha))

    __getattr__ = _Distribution.__getattr__
    __repr__ = _Distribution.__repr__

    def __call__(self, alpha):
        return _Frozen(self, (alpha,), {})


# ----- multivariate_normal ----------------------------------------------------------
class _MultivariateNormal:
    """scipy.stats.multivariate_normal: pdf/logpdf, differentiable in x, mean and cov."""

    name = "multivariate_normal"
    methods = ("pdf", "logpdf", "entropy")

    def __init__(self):
        self._scipy = _st.multivariate_normal

    def _dims(self, method, mean, cov, allow_singular):
        """(mean, cov, d): the packed parameters and the dimension, checked."""
        path = f"scipy.stats.multivariate_normal.{method}"
        if allow_singular:
            raise NotImplementedError(f"{path}: allow_singular=True has no derivative rule in "
                                      f"chainrule (a pseudo-determinant); use a positive "
                                      f"definite cov")
        cov = _arr(cov)
        mean = None if mean is None else _arr(mean)
        sm = None if mean is None else _util.shape_of(mean)
        sc = _util.shape_of(cov)
        if len(sc) > 2 or (len(sc) == 2 and sc[0] != sc[1]):
            raise ShapeError(f"{path}: cov must be a scalar, a vector or a square matrix, got "
                             f"shape {sc}")
        d = (sm[-1] if sm else 1) if sm is not None else (sc[0] if sc else 1)
        if sc and sc[0] != d:
            raise ShapeError(f"{path}: mean has {d} entries but cov has shape {sc}")
        if len(sc) < 2 and np.any(_util.value(cov) <= 0):
            raise ValueError(f"{path}: cov must be positive")
        return mean, cov, d

    def _logdet(self, cov, d):
        sc = _util.shape_of(cov)
        if len(sc) == 0:
            return d * log(cov), None
        if len(sc) == 1:
            return _sum(log(cov)), None
        low = _cholesky(cov)
        n = np.arange(d)
        return 2.0 * _sum(log(getitem(low, (n, n)))), low

    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """log N(x; mean, cov); mean may carry leading (batch) axes, as in HIPS autograd."""
        mean, cov, d = self._dims("logpdf", mean, cov, allow_singular)
        x = _arr(x)
        sx = _util.shape_of(x)
        if len(sx) == 0:
            x = reshape(x, (1, 1))
        elif len(sx) == 1:
            x = reshape(x, (sx[0], 1) if d == 1 else (1, d))
        if _util.shape_of(x)[-1] != d:
            raise ShapeError(f"scipy.stats.multivariate_normal.logpdf: x has shape {sx}; its "
                             f"last axis must have the dimension {d} of the distribution")
        dev = x if mean is None else x - mean
        lead = _util.shape_of(dev)[:-1]
        logdet, low = self._logdet(cov, d)
        if low is None:  # scalar or diagonal cov
            maha = _sum(dev * dev / cov, -1)
        else:
            z = solve_triangular(low, swapaxes_last(reshape(dev, (-1, d))), lower=True)
            maha = reshape(_sum(z * z, 0), lead)
        out = -0.5 * (d * _LOG_2PI + logdet + maha)
        # SciPy squeezes the result (one point gives a scalar)
        shape = tuple(s for s in _util.shape_of(out) if s != 1)
        return reshape(out, shape) if shape != _util.shape_of(out) else out

    def entropy(self, mean=None, cov=1, allow_singular=False):
        """The differential entropy (d (1 + log 2 pi) + log det cov) / 2; differentiable in cov."""
        _, cov, d = self._dims("entropy", mean, cov, allow_singular)
        return 0.5 * (d * (1.0 + _LOG_2PI) + self._logdet(cov, d)[0])

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        return exp(self.logpdf(x, mean, cov, allow_singular))

    __getattr__ = _Distribution.__getattr__
    __repr__ = _Distribution.__repr__

    def __call__(self, mean=None, cov=1, allow_singular=False):
        return _Frozen(self, (mean, cov, allow_singular), {})


norm = _Norm()
t = _T()
beta = _Beta()
gamma = _Gamma()
chi2 = _Chi2()
expon = _Expon()
laplace = _Laplace()
logistic = _Logistic()
uniform = _Uniform()
poisson = _Poisson()
dirichlet = _Dirichlet()
multivariate_normal = _MultivariateNormal()

# Notes for docs/numpy.md (tools/gen_numpy_table.py), by name.
CONVENTIONS = {
    "norm": "logcdf = log_ndtr(z), logsf = log_ndtr(-z); ppf",
    "t": "cdf differentiable in df too; at x = loc the derivative is the density",
    "poisson": "in mu (k is a count: refused)",
    "dirichlet": "components on the first axis (SciPy's layout)",
    "multivariate_normal": "cov scalar, diagonal or matrix; gradient in cov symmetric; "
                           "allow_singular refused",
}
for _name in ("beta", "gamma", "chi2", "expon", "uniform"):
    CONVENTIONS[_name] = "-inf outside the support, gradient 0 there"
del _name

__getattr__ = passthrough("stats")
