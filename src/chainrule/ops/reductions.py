"""Reductions and scans beyond cr.ops: prod, std, var, cumsum, cumprod, average, ptp, nan-functions.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted;
without any Tensor among the arguments, NumPy's own function runs).

New primitives: ``prod``, ``cumsum``, ``cumprod`` and ``std``; the rest are
compositions of them and of the core reductions. Numerical conventions:

- prod, cumprod with zeros: exact, no division by zero. d prod / d x_i is the
  product of the other entries (ans / x_i only where x_i != 0); the rule is
  exact to second order for any number of zeros in a slice (third and higher
  orders may miss terms when a slice holds three or more zeros). cumprod's
  rules likewise: exact at first and second order with any zeros (entries
  after the first zero of a slice get 0, the first zero gets
  prod(before) * sum(g * tail)); third order may miss terms with zeros.
- std of a constant slice: NumPy gives 0, where std (a norm of x - mean) is
  not differentiable; the gradient there is 0, its smallest subgradient
  (PyTorch's convention; HIPS autograd gives NaN), and so are the higher
  derivatives. var of a constant is smooth: gradient 0.
- median / quantile / percentile: a selection from the sorted slice (with
  linear interpolation): the gradient goes to the selected entries with the
  interpolation weights; ties go where the stable sort put them. A slice
  holding NaN has NaN quantiles (as NumPy) and no gradient.
- nan-functions: NaN entries get gradient 0 (they are skipped).
- ptp, nanmax, nanmin: max/min's convention (ties share the gradient).
"""
import numpy as np

from ..primitive import ConstantPrimitive, Primitive
from ..state import refuse_value
from ..tensor import Tensor
from ._npapi import as_dtype, numpy_function
from ._util import kept_shape, normalize_axis, pack, shape_of, value
from .assembly import _axis, moveaxis, sort
from .compare import equal, isnan, logical_and, logical_not, logical_or
from .elementwise import conj as _conj, maximum as _maximum, real as _real, where as _where
from .reduce import _count, _keep, max as _max, mean as _mean, min as _min, sum as _sum
from .shape import broadcast_to, concatenate, getitem, reshape

NUMPY_IMPLS = {}


def _register(npfun):
    def deco(impl):
        wrapped = numpy_function(npfun)(impl)
        wrapped.__name__ = wrapped.__qualname__ = npfun.__name__  # NumPy's name, for docs
        NUMPY_IMPLS[npfun] = wrapped
        return wrapped
    return deco


def _real_only(name, x):
    if value(x).dtype.kind == "c":
        raise TypeError(f"{name}: complex input has no derivative rule in chainrule yet")


def _flip(x, ax):
    return getitem(x, (slice(None),) * ax + (slice(None, None, -1),))


def _one(x):
    return value(x).dtype.type(1)


def _zero(x):
    return value(x).dtype.type(0)


# ----- prod ------------------------------------------------------------------------
# The forward functions call the ndarray method when they can: NumPy's module-level
# wrapper costs about 1 us a call (cnp.cumsum of a 10-vector: 6.2 -> 5.2 us).
def _prod_fun(x, axis=None, keepdims=False):
    if type(x) is np.ndarray:
        return x.prod(axis=axis, keepdims=keepdims)
    return np.prod(x, axis=axis, keepdims=keepdims)


def _prod_others(ans, x, axis, keepdims):
    """For each entry, the product of the other entries of its slice: d prod / d x_i.

    ans / x_i where x_i != 0 (ans is 0 there if the slice holds a zero, which
    is right). At a zero: the product of the nonzero entries if it is the
    slice's only zero, else 0; with exactly two zeros the value is
    P_nz * x_other (0, but its derivative P_nz is the second derivative).
    """
    a = _keep(ans, x, axis, keepdims)
    if type(x) is np.ndarray and type(a) is np.ndarray and x.all():
        return a / x  # first order, no zero: the common case, one division
    zero = equal(x, 0)
    z = _where(zero, _one(x), _zero(x))
    nz = _sum(z, axis, keepdims=True)
    xs = _where(zero, _one(x), x)
    pnz = prod(xs, axis, keepdims=True)
    others_zero = _sum(_where(zero, x, _zero(x)), axis, keepdims=True) - x
    at_zero = pnz * (_where(equal(nz, 1), _one(x), _zero(x))
                     + _where(equal(nz, 2), _one(x), _zero(x)) * others_zero)
    return _where(zero, at_zero, a / xs)


prod = Primitive(_prod_fun, "prod")
prod.defvjp(lambda g, ans, x, axis=None, keepdims=False:
            _keep(g, x, axis, keepdims) * _prod_others(ans, x, axis, keepdims))
prod.defjvp(lambda t, ans, x, axis=None, keepdims=False:
            _sum(t * _prod_others(ans, x, axis, keepdims), axis, keepdims=keepdims))


def _where_mask(a, where_, fill):
    """a with the entries outside NumPy's where= mask replaced by the neutral element."""
    if where_ is True:
        return a
    return _where(where_, a, fill)


@_register(np.prod)
def _np_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """np.prod: the product of the entries over axes."""
    a = as_dtype("np.prod", pack(a), dtype)
    a = _where_mask(a, where, _one(a))
    r = prod(a, axis, keepdims=bool(keepdims))
    return r if initial is None else r * initial


# ----- cumulative sums and products -------------------------------------------------
def _scan_axis(x, axis):
    """(x, axis) of a scan: the flattened x and 0 when axis is None."""
    if axis is None:
        return reshape(x, (-1,)), 0
    return x, int(axis) % max(len(shape_of(x)), 1)


def _cumsum_fun(x, axis=None):
    return x.cumsum(axis) if type(x) is np.ndarray else np.cumsum(x, axis=axis)


def _rev_cumsum(g, ax):
    """sum over k >= i of g_k: the VJP of a cumulative sum."""
    return _flip(cumsum(_flip(g, ax), ax), ax)


cumsum = Primitive(_cumsum_fun, "cumsum")
cumsum.defvjp(lambda g, ans, x, axis=None:
              reshape(_rev_cumsum(g, _scan_axis(x, axis)[1]), shape_of(x)))
cumsum.defjvp(lambda t, ans, x, axis=None: cumsum(t, axis))


def _cumprod_fun(x, axis=None):
    return x.cumprod(axis) if type(x) is np.ndarray else np.cumprod(x, axis=axis)


def _cumprod_parts(x, ax):
    """Masks and partial products of the exact cumprod rules (see the module docstring).

    before: entries before the slice's first zero; first: the first zero;
    xs: x before it, 1 from there on; pb: the product of the entries before
    the first zero; tail_k: the product of x_j for first zero < j <= k.
    """
    zero = equal(x, 0)
    seen = cumsum(_where(zero, 1, 0), ax)
    before = equal(seen, 0)
    first = logical_and(zero, equal(seen, 1))
    xs = _where(before, x, _one(x))
    pb = prod(xs, ax, keepdims=True)
    tail = cumprod(_where(logical_not(logical_or(before, first)), x, _one(x)), ax)
    return before, first, xs, pb, tail


def _cumprod_vjp_1d(g, ans, x1, ax, second):
    """The cumprod VJP along ``ax`` (see the module docstring), exact with zeros.

    Before the slice's first zero z: sum_{k>=i} g_k ans_k / x_i (ans_k = 0 from z
    on, as is the true derivative); at z: prod(before) * sum_{k>=z} g_k tail_k;
    after z: 0, written as x_z * prod(before) * (the VJP of cumprod at x with its
    entries up to z set to 1), which is 0 but has the right derivative in x_z
    (``second``: only when the rule is itself differentiated).
    """
    before, first, xs, pb, tail = _cumprod_parts(x1, ax)
    s = _sum(_where(before, _zero(x1), g * tail), ax, keepdims=True)
    out = _where(before, _rev_cumsum(g * ans, ax) / xs, _where(first, pb * s, _zero(x1)))
    if second:
        y = _where(logical_or(before, first), _one(x1), x1)
        xz = _sum(_where(first, x1, _zero(x1)), ax, keepdims=True)
        after = xz * pb * _cumprod_vjp_1d(g, tail, y, ax, False)
        out = out + _where(logical_or(before, first), _zero(x1), after)
    return out


def _cumprod_vjp(g, ans, x, axis=None):
    x1, ax = _scan_axis(x, axis)
    if type(x1) is np.ndarray and type(ans) is np.ndarray:
        if x1.all():
            return (_rev_cumsum(g * ans, ax) / x1).reshape(x.shape)
        return _cumprod_vjp_1d(g, ans, x1, ax, False).reshape(x.shape)
    return reshape(_cumprod_vjp_1d(g, ans, x1, ax, True), shape_of(x))


def _cumprod_jvp_1d(t1, ans, x1, ax, second):
    """The cumprod JVP along ``ax``, exact with zeros (the transpose of the VJP above).

    Before the first zero z: ans_k * sum_{i<=k} t_i / x_i; from z on only z's own
    tangent survives: t_z * prod(before) * tail_k, plus (``second``) the terms
    that are 0 through x_z, kept for their derivative in x_z.
    """
    before, first, xs, pb, tail = _cumprod_parts(x1, ax)
    tz = _sum(_where(first, t1, _zero(x1)), ax, keepdims=True)
    out = _where(before, ans * cumsum(t1 / xs, ax), tz * pb * tail)
    if second:
        y = _where(logical_or(before, first), _one(x1), x1)
        xz = _sum(_where(first, x1, _zero(x1)), ax, keepdims=True)
        sb = _sum(_where(before, t1 / xs, _zero(x1)), ax, keepdims=True)
        ta = _where(logical_or(before, first), _zero(x1), t1)
        rest = xz * pb * (tail * sb + _cumprod_jvp_1d(ta, tail, y, ax, False))
        out = out + _where(before, _zero(x1), rest)
    return out


def _cumprod_jvp(t, ans, x, axis=None):
    x1, ax = _scan_axis(x, axis)
    t1 = _scan_axis(t, axis)[0]
    if type(x1) is np.ndarray and type(ans) is np.ndarray:
        if x1.all():
            return ans * np.cumsum(t1 / x1, axis=ax)
        return _cumprod_jvp_1d(t1, ans, x1, ax, False)
    return _cumprod_jvp_1d(t1, ans, x1, ax, True)


cumprod = Primitive(_cumprod_fun, "cumprod")
cumprod.defvjp(_cumprod_vjp)
cumprod.defjvp(_cumprod_jvp)


def _scan(npfun, op, skip=None):
    def impl(a, axis=None, dtype=None, out=None):
        a = as_dtype(f"np.{npfun.__name__}", pack(a), dtype)
        if skip is not None:  # nancumsum / nancumprod: NaN read as the neutral element
            a = _where(isnan(a), value(a).dtype.type(skip), a)
        return op(a, None if axis is None else _axis(axis, len(shape_of(a))))
    impl.__name__ = impl.__qualname__ = npfun.__name__
    impl.__doc__ = f"np.{npfun.__name__}: the running {'sum' if op is cumsum else 'product'}."
    return _register(npfun)(impl)


np_cumsum = _scan(np.cumsum, cumsum)
np_cumprod = _scan(np.cumprod, cumprod)
nancumsum = _scan(np.nancumsum, cumsum, 0)
nancumprod = _scan(np.nancumprod, cumprod, 1)


def _cumulative(npfun, op, initial):
    def impl(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        name = f"np.{npfun.__name__}"
        x = as_dtype(name, pack(x), dtype)
        nd = len(shape_of(x))
        if axis is None:
            if nd > 1:
                raise ValueError(f"{name}: axis must be specified for an array of more than "
                                 f"one dimension (got shape {shape_of(x)})")
            axis = 0
        ax = _axis(axis, max(nd, 1))
        if nd == 0:
            x = reshape(x, (1,))
        r = op(x, ax)
        if include_initial:
            s = list(shape_of(r))
            s[ax] = 1
            r = concatenate([np.full(s, initial, dtype=value(r).dtype), r], ax)
        return r
    impl.__name__ = impl.__qualname__ = npfun.__name__
    impl.__doc__ = f"np.{npfun.__name__}: the running {'sum' if op is cumsum else 'product'}" \
                   f" (NumPy 2.1's array-API form, include_initial)."
    return _register(npfun)(impl)


if hasattr(np, "cumulative_sum"):
    cumulative_sum = _cumulative(np.cumulative_sum, cumsum, 0)
    cumulative_prod = _cumulative(np.cumulative_prod, cumprod, 1)


# ----- variance and standard deviation ----------------------------------------------
def _ddof(name, ddof, correction):
    if correction is not None:
        if ddof != 0:
            raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
        return correction
    return ddof


def _centered(x, axis, nan):
    """x minus the mean of its slice (NaN entries: 0), and the count of the mean."""
    if nan:
        keep = logical_not(isnan(x))
        n = _sum(_where(keep, _one(x), _zero(x)), axis, keepdims=True)
        x0 = _where(keep, x, _zero(x))
        return _where(keep, x0 - _sum(x0, axis, keepdims=True) / n, _zero(x)), n
    return x - _mean(x, axis, keepdims=True), _count(x, axis)


def _var(a, axis, ddof, keepdims, nan):
    d, n = _centered(a, axis, nan)
    # |d|^2 for complex input (a real variance, as NumPy's)
    ss = _sum(_real(d * _conj(d)) if _is_complex(a) else d * d, axis, keepdims=keepdims)
    if nan and not keepdims:
        n = reshape(n, shape_of(ss))
    with np.errstate(divide="ignore", invalid="ignore"):
        return ss / _maximum(n - ddof, 0)


def _std_fun(x, axis=None, ddof=0, keepdims=False, nan=False):
    f = np.nanstd if nan else np.std
    return f(x, axis=axis, ddof=ddof, keepdims=keepdims)


def _std_share(ans, x, axis, ddof, keepdims, nan):
    """d std / d x_i = (x_i - mean) / (std * (n - ddof)), and 0 where std = 0.

    std = |x - mean| / sqrt(n - ddof) is a norm, not differentiable at a
    constant slice; 0 is its smallest subgradient there (PyTorch's choice, as
    for a norm at 0; autograd gives NaN).
    """
    d, n = _centered(x, axis, nan)
    if _is_complex(x):  # a real function of complex x: df/dRe - i df/dIm (autograd's)
        d = _conj(d)
    a = _keep(ans, x, axis, keepdims)
    flat = equal(a, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where(flat, _zero(a), d / (_where(flat, _one(a), a) * _maximum(n - ddof, 0)))


def _std_jvp(t, ans, x, axis=None, ddof=0, keepdims=False, nan=False):
    dt = _sum(t * _std_share(ans, x, axis, ddof, keepdims, nan), axis, keepdims=keepdims)
    return _real(dt) if _is_complex(x) else dt


def _is_complex(x):
    return value(x).dtype.kind == "c"


std = Primitive(_std_fun, "std")
std.defvjp(lambda g, ans, x, axis=None, ddof=0, keepdims=False, nan=False:
           _keep(g, x, axis, keepdims) * _std_share(ans, x, axis, ddof, keepdims, nan))
std.defjvp(_std_jvp)


def _axis_arg(axis):
    return axis if axis is None or isinstance(axis, (int, np.integer)) else tuple(axis)


def _moment(npfun, nan, root):
    name = f"np.{npfun.__name__}"

    def impl(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
             mean=None, correction=None):
        a = pack(a)
        if not _is_complex(a):  # the dtype of the computation (a complex one stays complex)
            a = as_dtype(name, a, dtype)
        if where is not True or mean is not None:
            raise NotImplementedError(f"{name}: where= and mean= have no derivative rule in "
                                      f"chainrule; select the entries first")
        ddof = _ddof(name, ddof, correction)
        axis = _axis_arg(axis)
        if root:
            return std(a, axis, ddof=ddof, keepdims=bool(keepdims), nan=nan)
        return _var(a, axis, ddof, bool(keepdims), nan)
    impl.__name__ = impl.__qualname__ = npfun.__name__
    impl.__doc__ = f"{name}: the {'standard deviation' if root else 'variance'}" \
                   f"{' ignoring NaN' if nan else ''} (ddof / correction)."
    return _register(npfun)(impl)


np_var = _moment(np.var, False, False)
np_std = _moment(np.std, False, True)
nanvar = _moment(np.nanvar, True, False)
nanstd = _moment(np.nanstd, True, True)


# ----- averages and ranges -----------------------------------------------------------
@_register(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """np.average: the (weighted) mean, differentiable in a and in the weights."""
    a = pack(a)
    axis = _axis_arg(axis)
    keepdims = bool(keepdims)
    if weights is None:
        avg = _mean(a, axis, keepdims=keepdims)
        scl = np.full(shape_of(avg), _count(a, axis), dtype=value(avg).dtype)
    else:
        w = pack(weights)
        sa, sw = shape_of(a), shape_of(w)
        if sa != sw:
            if axis is None:
                raise TypeError("np.average: Axis must be specified when shapes of a and "
                                "weights differ.")
            if len(sw) != 1 or not isinstance(axis, (int, np.integer)):
                raise TypeError("np.average: 1D weights expected when shapes of a and "
                                "weights differ.")
            ax = int(axis) % len(sa)
            if sw[0] != sa[ax]:
                raise ValueError("np.average: Length of weights not compatible with "
                                 "specified axis.")
            w = reshape(w, tuple(-1 if i == ax else 1 for i in range(len(sa))))
            w_full = w * np.ones(sa, dtype=value(w).dtype)
        else:
            w_full = w
        scl = _sum(w_full, axis, keepdims=keepdims)
        if np.any(value(scl) == 0.0):
            raise ZeroDivisionError("np.average: Weights sum to zero, can't be normalized")
        avg = _sum(a * w, axis, keepdims=keepdims) / scl
    if returned:
        if shape_of(scl) != shape_of(avg):
            scl = broadcast_to(scl, shape_of(avg))
        return avg, scl
    return avg


@_register(np.ptp)
def ptp(a, axis=None, out=None, keepdims=False):
    """np.ptp: max - min over axes (ties share the gradient, as in max and min)."""
    a = pack(a)
    axis = _axis_arg(axis)
    return _max(a, axis, keepdims=bool(keepdims)) - _min(a, axis, keepdims=bool(keepdims))


# ----- NaN-skipping reductions -------------------------------------------------------
@_register(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """np.nansum: the sum with NaN read as 0 (NaN entries get gradient 0)."""
    a = as_dtype("np.nansum", pack(a), dtype)
    a = _where_mask(a, where, _zero(a))
    r = _sum(_nan_as(a, 0), _axis_arg(axis), keepdims=bool(keepdims))
    return r if initial is None else r + initial


def _nan_as(a, fill):
    if value(a).dtype.kind not in "fc":
        return a
    return _where(isnan(a), value(a).dtype.type(fill), a)


@_register(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """np.nanprod: the product with NaN read as 1."""
    a = as_dtype("np.nanprod", pack(a), dtype)
    a = _where_mask(a, where, _one(a))
    r = prod(_nan_as(a, 1), _axis_arg(axis), keepdims=bool(keepdims))
    return r if initial is None else r * initial


@_register(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """np.nanmean: the mean of the entries that are not NaN (NaN for an all-NaN slice)."""
    a = as_dtype("np.nanmean", pack(a), dtype)
    if where is not True:
        raise NotImplementedError("np.nanmean: where= has no derivative rule in chainrule")
    axis = _axis_arg(axis)
    keep = logical_not(isnan(a))
    n = _sum(_where(keep, _one(a), _zero(a)), axis, keepdims=bool(keepdims))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _sum(_nan_as(a, 0), axis, keepdims=bool(keepdims)) / n


def _nanext(npfun, op, fill):
    def impl(a, axis=None, out=None, keepdims=False, initial=None, where=True):
        a = pack(a)
        if initial is not None or where is not True:
            raise NotImplementedError(f"np.{npfun.__name__}: initial= and where= have no "
                                      f"derivative rule in chainrule")
        axis = _axis_arg(axis)
        r = op(_nan_as(a, fill), axis, keepdims=bool(keepdims))
        # an all-NaN slice is NaN (NumPy warns "All-NaN slice encountered")
        allnan = equal(_sum(_where(isnan(a), _zero(a), _one(a)), axis,
                            keepdims=bool(keepdims)), 0)
        return _where(allnan, value(a).dtype.type(np.nan), r)
    impl.__name__ = impl.__qualname__ = npfun.__name__
    impl.__doc__ = f"np.{npfun.__name__}: {op.name} skipping NaN entries."
    return _register(npfun)(impl)


nanmax = _nanext(np.nanmax, _max, -np.inf)
nanmin = _nanext(np.nanmin, _min, np.inf)


# ----- order statistics --------------------------------------------------------------
_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _positions(s, q, method, nan, part):
    """Where the quantiles q read the sorted slices s (shape (n, rest...)).

    part 0: the lower index, 1: the upper index, 2: the weight of the upper
    one; each of shape q.shape + rest. With ``nan`` each slice counts only its
    entries that are not NaN (sorting put NaN last).
    """
    n, rest = s.shape[0], s.shape[1:]
    k = np.sum(~np.isnan(s), axis=0) if nan else np.full(rest, n)
    v = q.reshape(q.shape + (1,) * len(rest)) * (k - 1)
    if method in ("lower", "higher", "nearest"):
        # NumPy's nearest rounds half to even, as np.around
        lo = {"lower": np.floor, "higher": np.ceil, "nearest": np.around}[method](v)
        hi, frac = lo, np.zeros_like(v)
    else:
        lo = np.floor(v)
        hi = np.minimum(lo + 1, k - 1)
        frac = v - lo
        if method == "midpoint":
            frac = np.where(frac > 0, 0.5, 0.0)
    if part == 2:
        return frac.astype(s.dtype)  # a float32 program stays float32
    return np.clip(lo if part == 0 else hi, 0, max(n - 1, 0)).astype(np.intp)


_position = ConstantPrimitive(_positions, "quantile_positions")


def _quantile(name, a, q, axis, method, keepdims, nan=False):
    """Quantiles q in [0, 1] of a over axis: the sorted slice, read at q * (n - 1)."""
    if method not in _METHODS:
        raise NotImplementedError(f"{name}: method={method!r} has no derivative rule in "
                                  f"chainrule; supported: {', '.join(_METHODS)}")
    a = pack(a)
    _real_only(name, a)
    s0 = shape_of(a)
    nd = len(s0)
    axes = normalize_axis(axis, nd) if nd else ()
    rest = tuple(s0[i] for i in range(nd) if i not in axes)
    # the reduced axes first, merged into one: (n, rest...)
    a = moveaxis.__wrapped__(a, axes, tuple(range(len(axes)))) if axes else a
    n = int(np.prod([s0[i] for i in axes], dtype=int))
    s = sort.__wrapped__(reshape(a, (n,) + rest), axis=0)
    if type(q) is Tensor:
        refuse_value(q, f"{name} with a traced q (the entries it reads depend on q)")
    qv = np.asarray(value(q), dtype=float)
    if np.any((qv < 0) | (qv > 1)):
        raise ValueError(f"{name}: Quantiles must be in the range [0, 1]")
    # the other axes of each read: aranges broadcast against q.shape + rest
    nq = qv.ndim
    others = tuple(np.arange(r).reshape((1,) * (nq + d) + (r,) + (1,) * (len(rest) - d - 1))
                   for d, r in enumerate(rest))
    lo = _position(s, q=qv, method=method, nan=nan, part=0)
    out = getitem(s, (lo,) + others)
    if method not in ("lower", "higher", "nearest"):
        hi = _position(s, q=qv, method=method, nan=nan, part=1)
        if type(q) is Tensor and method == "linear" and not nan:
            # differentiable in q as well: the weight is q (n - 1) - lo
            frac = reshape(q, qv.shape + (1,) * len(rest)) * (n - 1) - lo
        else:
            frac = _position(s, q=qv, method=method, nan=nan, part=2)
        out = out + (getitem(s, (hi,) + others) - out) * frac
    if value(a).dtype.kind == "f" and n:
        # NaN quantiles (NumPy's): a slice holding NaN, or (nan-functions) only NaN;
        # sorting put the NaN last
        out = _where(isnan(getitem(s, 0 if nan else -1)), value(a).dtype.type(np.nan), out)
    if keepdims:
        out = reshape(out, qv.shape + kept_shape(s0, axes))
    return out


@_register(np.quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """np.quantile: the q-th quantiles (gradient to the selected entries, interpolated)."""
    if weights is not None:
        raise NotImplementedError("np.quantile: weights= has no derivative rule in chainrule")
    return _quantile("np.quantile", a, q, axis, interpolation or method, keepdims)


@_register(np.percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """np.percentile: quantiles given in percent."""
    if weights is not None:
        raise NotImplementedError("np.percentile: weights= has no derivative rule in chainrule")
    q = q / 100 if type(q) is Tensor else np.asarray(q) / 100
    return _quantile("np.percentile", a, q, axis, interpolation or method, keepdims)


@_register(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """np.median: the middle entry (the mean of the two middle ones for an even count)."""
    return _quantile("np.median", a, 0.5, axis, "linear", keepdims)


@_register(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    """np.nanquantile: quantiles of the entries that are not NaN (NaN get gradient 0)."""
    if weights is not None:
        raise NotImplementedError("np.nanquantile: weights= has no derivative rule in chainrule")
    return _quantile("np.nanquantile", a, value(q), axis, interpolation or method, keepdims,
                     nan=True)


@_register(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    """np.nanpercentile: nanquantile in percent."""
    if weights is not None:
        raise NotImplementedError("np.nanpercentile: weights= has no derivative rule in "
                                  "chainrule")
    return _quantile("np.nanpercentile", a, np.asarray(value(q)) / 100, axis,
                     interpolation or method, keepdims, nan=True)


@_register(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """np.nanmedian: the median of the entries that are not NaN."""
    return _quantile("np.nanmedian", a, 0.5, axis, "linear", keepdims, nan=True)


# For docs/numpy.md (tools/gen_numpy_table.py): the conventions of the module docstring.
_ZEROS = "exact with zeros (product of the other entries, no division by 0), to second order"
CONVENTIONS = {
    np.prod: _ZEROS, np.cumprod: _ZEROS, np.nanprod: "NaN read as 1 (gradient 0); " + _ZEROS,
    np.nancumprod: "NaN read as 1 (gradient 0); " + _ZEROS,
    np.std: "0 at a constant slice (PyTorch's; autograd gives NaN); complex: real result",
    np.nanstd: "NaN entries get 0; 0 at a constant slice (PyTorch's; autograd gives NaN)",
    np.var: "complex: mean of |x - mean|^2 (real)", np.nanvar: "NaN entries get gradient 0",
    np.nansum: "NaN entries get gradient 0", np.nanmean: "NaN entries get gradient 0",
    np.nancumsum: "NaN entries get gradient 0",
    np.nanmax: "NaN entries get 0; tied maxima share; an all-NaN slice is NaN",
    np.nanmin: "NaN entries get 0; tied minima share; an all-NaN slice is NaN",
    np.ptp: "max - min: tied extrema share the gradient",
    np.average: "in a and in weights",
    np.median: "to the middle entries (1/2 each for an even count); ties in stable-sort order; "
               "a slice with NaN gives NaN",
    np.quantile: "to the two neighbours with the interpolation weights (also in q, linear); "
                 "methods linear/lower/higher/midpoint/nearest",
    np.percentile: "as quantile",
    np.nanquantile: "as quantile over the entries that are not NaN (NaN get 0; not in q)",
    np.nanpercentile: "as nanquantile", np.nanmedian: "as nanquantile",
}
if hasattr(np, "cumulative_prod"):
    CONVENTIONS[np.cumulative_prod] = _ZEROS

__all__ = sorted(f.__name__ for f in NUMPY_IMPLS.values())
