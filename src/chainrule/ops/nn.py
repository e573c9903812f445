"""softmax and log_softmax along an axis, stable for logits of any magnitude.

Both subtract the maximum before exponentiating. Their rules reuse the output:
log_softmax: g - softmax * sum(g)   (the notes' Jacobian [[k=k']] - softmax_k')
softmax:     ans * (g - sum(g * ans))
"""
import numpy as np

from ..primitive import Primitive
from .elementwise import exp
from .reduce import sum


def _shifted(x, axis):
    # A row whose maximum is not finite gives nan whatever the shift (it has no
    # log-softmax), so no special case: the plain shift by the maximum.
    return x - np.maximum.reduce(x, axis=axis, keepdims=True)


def _log_softmax_fun(x, axis=-1):
    z = _shifted(np.asarray(x), axis)
    # the sum is >= 1 (the maximum contributes exp(0)), or nan: log never sees 0
    return z - np.log(np.add.reduce(np.exp(z), axis=axis, keepdims=True))


def _softmax_fun(x, axis=-1):
    e = np.exp(_shifted(np.asarray(x), axis))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


log_softmax = Primitive(_log_softmax_fun, "log_softmax")
log_softmax.defvjp(lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis, keepdims=True))
log_softmax.defjvp(lambda t, ans, x, axis=-1: t - sum(exp(ans) * t, axis, keepdims=True))

softmax = Primitive(_softmax_fun, "softmax")
softmax.defvjp(lambda g, ans, x, axis=-1: ans * (g - sum(g * ans, axis, keepdims=True)))
softmax.defjvp(lambda t, ans, x, axis=-1: ans * (t - sum(t * ans, axis, keepdims=True)))
