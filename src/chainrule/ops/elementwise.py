"""Elementwise operations, NumPy semantics and broadcasting.

For an elementwise op the Jacobian is diagonal (after broadcasting), so the
VJP rule and the JVP rule are the same expression with g replaced by t; each
op registers one list of rules for both. Rules reuse the forward output
``ans`` wherever they can (exp, tanh, sqrt, sigmoid, divide).

Masks inside rules are built with the comparison primitives of ``compare``
(not from ``.value``), so a replayed program (``cr.jit``) recomputes them.

Conventions at kinks (chosen to match PyTorch, the test oracle):
relu'(0) = 0; abs'(0) = 0; maximum/minimum split the gradient equally between
tied inputs; clip passes the gradient to x where a_min <= x <= a_max.
"""
import numpy as np

from ..primitive import Primitive
from ..tensor import Tensor
from ._util import value
from .compare import equal, greater, greater_equal, less, less_equal, logical_and, sign


def _elementwise(fun, name, *rules):
    op = Primitive(fun, name, broadcasts=True)
    op.defvjp(*rules)
    op.defjvp(*rules)
    return op


def _sigmoid(x):
    if np.iscomplexobj(x):
        raise TypeError("sigmoid: not defined here on complex input (its stable form needs "
                        "an order); use 1 / (1 + cr.exp(-z))")
    # exp of a non-positive number only: no overflow for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


add = _elementwise(np.add, "add", lambda g, ans, x, y: g, lambda g, ans, x, y: g)
subtract = _elementwise(np.subtract, "subtract",
                        lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
multiply = _elementwise(np.multiply, "multiply",
                        lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
divide = _elementwise(np.divide, "divide",
                      lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * ans / y)
negative = _elementwise(np.negative, "negative", lambda g, ans, x: -g)
exp = _elementwise(np.exp, "exp", lambda g, ans, x: g * ans)
log = _elementwise(np.log, "log", lambda g, ans, x: g / x)


def _sqrt_rule(g, ans, x):
    # The derivative is +inf at x = 0, an input the forward takes without a
    # warning: the rule adds no "divide by zero" one (0 * inf = nan, as in
    # where(x > 0, sqrt(x), 0) at 0, still warns "invalid value").
    with np.errstate(divide="ignore"):
        return g / (2 * ans)


sqrt = _elementwise(np.sqrt, "sqrt", _sqrt_rule)
square = _elementwise(np.square, "square", lambda g, ans, x: g * (2 * x))
def _abs_vjp(g, ans, x):
    if value(x).dtype.kind != "c":
        return g * sign(x)
    # autograd's convention for a real function of z = a + ib: df/da - i df/db,
    # which for |z| is conj(z) / |z| (0 at z = 0, like the real case).
    return g * conj(x) / where(equal(ans, 0), 1.0, ans) * where(equal(ans, 0), 0.0, 1.0)


def _abs_jvp(t, ans, x):
    if value(x).dtype.kind != "c":
        return t * sign(x)
    # d|z| = Re(conj(z) dz) / |z|: a real tangent
    return real(conj(x) * t) / where(equal(ans, 0), 1.0, ans) * where(equal(ans, 0), 0.0, 1.0)


abs = Primitive(np.abs, "abs", broadcasts=True)
abs.defvjp(_abs_vjp)
abs.defjvp(_abs_jvp)


def _real_fun(x):
    return np.real(x) if np.iscomplexobj(x) else x


def _match(g, x):
    """g as a cotangent of x: complex when x is complex."""
    if value(x).dtype.kind == "c" and value(g).dtype.kind != "c":
        return cast(g, value(x).dtype)
    return g


# real and conj: the complex parts of an array. real's cotangent is real (the
# engine makes it complex again for a complex input); conj's is conj(g).
real = Primitive(_real_fun, "real")
real.defvjp(lambda g, ans, x: _match(g, x))
real.defjvp(lambda t, ans, x: real(t))
conj = Primitive(np.conjugate, "conj")
conj.defvjp(lambda g, ans, x: conj(g))
conj.defjvp(lambda t, ans, x: conj(t))


def _cast_fun(x, dtype):
    return np.asarray(x).astype(dtype)


def _cast_vjp(g, ans, x, dtype):
    want = value(x).dtype if hasattr(value(x), "dtype") else np.asarray(value(x)).dtype
    if want.kind != "c" and value(g).dtype.kind == "c":
        g = real(g)
    return cast(g, want)


# cast: the same numbers in another dtype (t.astype(np.float32)).
cast = Primitive(_cast_fun, "cast")
cast.defvjp(_cast_vjp)
cast.defjvp(lambda t, ans, x, dtype: cast(t, dtype))
sin = _elementwise(np.sin, "sin", lambda g, ans, x: g * cos(x))
cos = _elementwise(np.cos, "cos", lambda g, ans, x: -(g * sin(x)))
# g - g*ans*ans, not g*(1 - ans*ans): mixing a Python scalar into a small
# array costs more than a whole extra array operation.
tanh = _elementwise(np.tanh, "tanh", lambda g, ans, x: g - g * ans * ans)


def _sigmoid_rule(g, ans, x):
    ga = g * ans
    return ga - ga * ans


sigmoid = _elementwise(_sigmoid, "sigmoid", _sigmoid_rule)
relu = _elementwise(lambda x: np.maximum(x, 0), "relu",
                    lambda g, ans, x: g * greater(x, 0))


def _power_x(g, ans, x, y):
    if (type(y) in (int, float) or (type(y) is not Tensor and np.ndim(y) == 0)) and y != 0:
        # x ** 2 and the like
        if y == 2:  # the commonest power: one multiplication fewer (x ** 1 is x exactly)
            return g * (y * x)
        if y >= 1:
            return g * (y * x ** (y - 1))
        # x ** 0.5 at x = 0: the derivative is +inf where the forward did not warn,
        # so the rule does not warn "divide by zero" either (see sqrt).
        with np.errstate(divide="ignore"):
            return g * (y * x ** (y - 1))
    # d/dx x**0 = 0 everywhere (also at x = 0, where y * x**(y-1) would be nan).
    # The constants take ans's dtype: np.where makes Python floats float64, which
    # would turn the derivative of a float32 program into float64.
    dt = value(ans).dtype
    y0 = equal(y, 0)
    with np.errstate(divide="ignore"):
        safe = where(y0, dt.type(0), x ** where(y0, dt.type(1), y - 1))
    return g * (y * safe)


def _power_y(g, ans, x, y):
    zero = logical_and(equal(x, 0), greater_equal(y, 0))  # d/dy 0**y = 0 for y >= 0
    dt = value(ans).dtype
    if type(x) is not Tensor:
        # a constant base (2.0 ** y): in ans's dtype, which NumPy promoted it to
        x = np.asarray(x, dtype=dt)
    return g * where(zero, dt.type(0), ans * log(where(zero, dt.type(1), x)))


power = _elementwise(np.power, "power", _power_x, _power_y)


def _tie_share(ans, x, y, better):
    """1 where x wins, 0 where y wins, 1/2 on ties: the gradient share of x (in ans's dtype)."""
    t = value(ans).dtype.type
    return where(better(x, y), t(1), where(equal(x, y), t(0.5), t(0)))


maximum = _elementwise(np.maximum, "maximum",
                       lambda g, ans, x, y: g * _tie_share(ans, x, y, greater),
                       lambda g, ans, x, y: g * _tie_share(ans, y, x, greater))
minimum = _elementwise(np.minimum, "minimum",
                       lambda g, ans, x, y: g * _tie_share(ans, x, y, less),
                       lambda g, ans, x, y: g * _tie_share(ans, y, x, less))


def _where_fun(condition, x, y):
    return np.where(condition, x, y)


where = _elementwise(_where_fun, "where", None,
                     lambda g, ans, c, x, y: where(c, g, 0.0),
                     lambda g, ans, c, x, y: where(c, 0.0, g))


def _clip_fun(x, a_min=None, a_max=None):
    return np.clip(x, a_min, a_max)


def _inside(x, lo, hi):
    """Where a_min <= x <= a_max (a missing bound does not restrict)."""
    if lo is None:
        return less_equal(x, hi) if hi is not None else greater_equal(x, x)
    if hi is None:
        return greater_equal(x, lo)
    return logical_and(greater_equal(x, lo), less_equal(x, hi))


_clip = _elementwise(_clip_fun, "clip",
                     lambda g, ans, x, lo=None, hi=None: g * _inside(x, lo, hi),
                     lambda g, ans, x, lo=None, hi=None: g * less(x, lo),
                     lambda g, ans, x, lo=None, hi=None: g * greater(x, hi))


def clip(x, a_min=None, a_max=None):
    """np.clip: x limited to [a_min, a_max] (either bound may be None).

    The bounds are passed on positionally: the rules are per positional input,
    so a bound given by keyword (NumPy's names) still gets its gradient.
    """
    return _clip(x, a_min, a_max)
