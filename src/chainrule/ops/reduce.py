"""Reductions: sum, mean, max, min, logsumexp (NumPy's axis and keepdims).

The VJP of a reduction spreads g back over the reduced axes: g is first given
the keepdims shape, then broadcast. max/min share g equally among tied
maxima (PyTorch's convention); logsumexp reuses its output:
d/dx logsumexp(x) = exp(x - ans), which is also stable for large logits.
"""
import numpy as np

from ..primitive import Primitive
from ._util import kept_shape, linear_jvp, normalize_axis, value
from .compare import equal, isnan, logical_or
from .shape import broadcast_to, reshape


def _keep(g, x, axis, keepdims):
    """g reshaped to the keepdims shape of reducing x over axis."""
    if keepdims or axis is None:  # all axes: g is a scalar, which broadcasts as it is
        return g
    return reshape(g, kept_shape(np.shape(value(x)), axis))


def _sum_fun(x, axis=None, keepdims=False):
    if type(x) is np.ndarray:  # the method skips np.sum's Python-level wrapper
        return x.sum(axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


def _mean_fun(x, axis=None, keepdims=False):
    if type(x) is np.ndarray and x.dtype.kind == "f" and x.size:
        # ndarray.mean goes through a slow Python helper; same result, a third of the time
        n = x.size if axis is None else _count(x, axis)
        return np.true_divide(np.add.reduce(x, axis=axis, keepdims=keepdims), x.dtype.type(n))
    return np.mean(x, axis=axis, keepdims=keepdims)


def _spread(g, shape):
    """g broadcast to ``shape``: the VJP of a sum."""
    if isinstance(g, (np.ndarray, np.generic)):  # first order (g / n on a 0-d array
        # gives a NumPy scalar): a fresh array is cheaper than broadcast_to
        out = np.empty(shape, dtype=g.dtype)
        out[...] = g
        return out
    return broadcast_to(g, shape)


def _count(x, axis):
    """How many entries each output of a reduction over ``axis`` summarises."""
    shape = np.shape(value(x))
    n = 1
    for i in normalize_axis(axis, len(shape)):
        n *= shape[i]
    return n


sum = Primitive(_sum_fun, "sum")
sum.defvjp(lambda g, ans, x, axis=None, keepdims=False:
           _spread(_keep(g, x, axis, keepdims), np.shape(value(x))))
sum.defjvp(linear_jvp(sum, 0))

mean = Primitive(_mean_fun, "mean")
# A mean over no entries (an empty axis) has an empty gradient: divide by 1, not 0,
# so the rule does not warn about a division it does not need.
mean.defvjp(lambda g, ans, x, axis=None, keepdims=False:
            _spread(_keep(g, x, axis, keepdims) / (_count(x, axis) or 1), np.shape(value(x))))
mean.defjvp(linear_jvp(mean, 0))


def _extremum(npfun, name):
    def fun(x, axis=None, keepdims=False):
        return npfun(x, axis=axis, keepdims=keepdims)

    def share(ans, x, axis, keepdims):
        """Constant weights: 1/count on the (tied) extreme entries, 0 elsewhere.

        A NaN is the extreme of its slice (np.max returns it), so NaN entries
        share g; NaN == NaN being false, they would otherwise give 0/0 weights.
        """
        from .elementwise import where
        if value(x).dtype.kind == "c":
            raise TypeError(f"{name}: complex numbers have no order, so the {name} of a complex "
                            f"array has no derivative; reduce cr.abs(z) or cr.real(z) instead")
        t = value(ans).dtype.type
        hit = where(logical_or(equal(x, _keep(ans, x, axis, keepdims)), isnan(x)), t(1), t(0))
        return hit / sum(hit, axis, keepdims=True)

    op = Primitive(fun, name)
    op.defvjp(lambda g, ans, x, axis=None, keepdims=False:
              _keep(g, x, axis, keepdims) * share(ans, x, axis, keepdims))
    op.defjvp(lambda t, ans, x, axis=None, keepdims=False:
              sum(t * share(ans, x, axis, keepdims), axis, keepdims=keepdims))
    return op


max = _extremum(np.max, "max")
min = _extremum(np.min, "min")


def _logsumexp_fun(x, axis=None, keepdims=False):
    # initial=-inf: an empty slice has logsumexp log(0) = -inf (as in PyTorch), not an error
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf) along axis: shift by 0
    with np.errstate(divide="ignore"):
        s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        s = s.reshape(np.shape(np.sum(s, axis=axis)) if axis is not None else ())
    return s


def _lse_weights(ans, x, axis, keepdims):
    """exp(x - ans): the softmax of each slice, its derivative.

    A slice of only -inf has logsumexp -inf whatever finite change is made to
    its entries, so its weights are 0: shift it by 0 (as the forward does),
    not by ans, where exp(-inf - -inf) would be nan with a warning.
    """
    from .elementwise import exp, where
    a = _keep(ans, x, axis, keepdims)
    return exp(x - where(equal(a, -np.inf), value(ans).dtype.type(0), a))


logsumexp = Primitive(_logsumexp_fun, "logsumexp")
logsumexp.defvjp(lambda g, ans, x, axis=None, keepdims=False:
                 _keep(g, x, axis, keepdims) * _lse_weights(ans, x, axis, keepdims))
logsumexp.defjvp(lambda t, ans, x, axis=None, keepdims=False:
                 sum(t * _lse_weights(ans, x, axis, keepdims), axis, keepdims=keepdims))
