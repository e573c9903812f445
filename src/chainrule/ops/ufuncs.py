"""The rest of NumPy's float ufuncs (tan, arcsin, log1p, logaddexp, hypot, ...), NumPy semantics.

Each is a ``Primitive(..., broadcasts=True)`` whose forward function is the
NumPy ufunc itself, so ``chainrule.numpy.tan`` costs what ``cr.tanh`` costs.
Real elementwise functions have a diagonal Jacobian: one rule list serves
both VJP and JVP (as in ``elementwise``). Holomorphic functions use the same
formulas on complex input (HIPS autograd's convention: g * f'(z), no
conjugate). The non-holomorphic ones (absolute, real, imag, conj, angle) have
separate VJP and JVP rules: for a real-valued f of complex z the VJP gives
autograd's df/dx - i df/dy and the JVP is real (imag and angle here; real,
conj and absolute are the core's, in ``elementwise``).

Conventions at kinks and edges (documented in docs/numpy.md):
fabs'(0) = absolute'(0) = 0 (as abs); hypot'(0, 0) = (0, 0) (a subgradient,
as the norm at 0); fmax/fmin split the gradient equally between tied inputs
and give it all to the other input where one is NaN; remainder/mod/fmod have
d/dx = 1 and d/dy = -floor(x/y) (-trunc(x/y) for fmod) away from their jumps,
with the one-sided value of the jump's right side there; copysign'(0, y) = 0;
heaviside has no derivative in x1 and d/dx2 = [x1 == 0]; logaddexp of two
-inf has derivative 0 (no nan); sinc'(0) = 0 (exact), and derivatives of
sinc of order two and higher at exactly 0 are 0 (not -pi^2/3).

``NUMPY_IMPLS`` maps each NumPy callable to its implementation.
"""
import numpy as np

from ..primitive import ConstantPrimitive, Primitive
from . import elementwise as E
from ._util import value
from .compare import equal, greater, isnan, less, logical_and, logical_not, logical_or, sign

_LN2 = np.log(2.0)
_LN10 = np.log(10.0)


def _elementwise(fun, name, *rules):
    """A broadcasting primitive whose one rule list serves VJP and JVP (diagonal Jacobian)."""
    op = Primitive(fun, name, broadcasts=True)
    op.defvjp(*rules)
    op.defjvp(*rules)
    return op


def _complex(x):
    return np.iscomplexobj(value(x))


def _zero(ans):
    return value(ans).dtype.type(0)


# ----- no derivative: piecewise constant results (recorded for cr.jit like compare's) -----
floor = ConstantPrimitive(np.floor, "floor")
ceil = ConstantPrimitive(np.ceil, "ceil")
rint = ConstantPrimitive(np.rint, "rint")
trunc = ConstantPrimitive(np.trunc, "trunc")
isinf = ConstantPrimitive(np.isinf, "isinf")
signbit = ConstantPrimitive(np.signbit, "signbit")
logical_xor = ConstantPrimitive(np.logical_xor, "logical_xor")
floor_divide = ConstantPrimitive(np.floor_divide, "floor_divide")
spacing = ConstantPrimitive(np.spacing, "spacing")

# ----- trigonometric and hyperbolic (holomorphic: the same rules on complex input) -----
# tan' = 1 + tan^2: reuses the output.
tan = _elementwise(np.tan, "tan", lambda g, ans, x: g + g * E.square(ans))
arcsin = _elementwise(np.arcsin, "arcsin", lambda g, ans, x: g / E.sqrt(1 - E.square(x)))
arccos = _elementwise(np.arccos, "arccos", lambda g, ans, x: -(g / E.sqrt(1 - E.square(x))))
arctan = _elementwise(np.arctan, "arctan", lambda g, ans, x: g / (1 + E.square(x)))
sinh = _elementwise(np.sinh, "sinh", lambda g, ans, x: g * cosh(x))
cosh = _elementwise(np.cosh, "cosh", lambda g, ans, x: g * sinh(x))
arcsinh = _elementwise(np.arcsinh, "arcsinh", lambda g, ans, x: g / E.sqrt(E.square(x) + 1))
# sqrt(x-1) sqrt(x+1), not sqrt(x^2-1): the same for x > 1, and the principal branch on complex input
arccosh = _elementwise(np.arccosh, "arccosh",
                       lambda g, ans, x: g / (E.sqrt(x - 1) * E.sqrt(x + 1)))
arctanh = _elementwise(np.arctanh, "arctanh", lambda g, ans, x: g / (1 - E.square(x)))


def _atan2_den(x1, x2):
    return E.square(x1) + E.square(x2)


# arctan2(x1, x2) is the angle of the point (x2, x1); not defined on complex input (NumPy raises).
arctan2 = _elementwise(np.arctan2, "arctan2",
                       lambda g, ans, x1, x2: g * x2 / _atan2_den(x1, x2),
                       lambda g, ans, x1, x2: -(g * x1) / _atan2_den(x1, x2))

_D2R = np.pi / 180.0
_R2D = 180.0 / np.pi
deg2rad = _elementwise(np.deg2rad, "deg2rad", lambda g, ans, x: g * _D2R)
radians = _elementwise(np.radians, "radians", lambda g, ans, x: g * _D2R)
rad2deg = _elementwise(np.rad2deg, "rad2deg", lambda g, ans, x: g * _R2D)
degrees = _elementwise(np.degrees, "degrees", lambda g, ans, x: g * _R2D)

# ----- exponentials and logarithms -----
log1p = _elementwise(np.log1p, "log1p", lambda g, ans, x: g / (x + 1))
expm1 = _elementwise(np.expm1, "expm1", lambda g, ans, x: g + g * ans)
log2 = _elementwise(np.log2, "log2", lambda g, ans, x: g / (x * _LN2))
log10 = _elementwise(np.log10, "log10", lambda g, ans, x: g / (x * _LN10))
exp2 = _elementwise(np.exp2, "exp2", lambda g, ans, x: g * (ans * _LN2))


def _shifted(ans):
    """ans, with -inf replaced by 0: logaddexp(-inf, -inf) = -inf has weights exp(-inf) = 0."""
    return E.where(equal(ans, -np.inf), _zero(ans), ans)


# d/dx logaddexp(x, y) = exp(x - ans): the softmax weight of x, stable for large inputs.
logaddexp = _elementwise(np.logaddexp, "logaddexp",
                         lambda g, ans, x, y: g * E.exp(x - _shifted(ans)),
                         lambda g, ans, x, y: g * E.exp(y - _shifted(ans)))
logaddexp2 = _elementwise(np.logaddexp2, "logaddexp2",
                          lambda g, ans, x, y: g * exp2(x - _shifted(ans)),
                          lambda g, ans, x, y: g * exp2(y - _shifted(ans)))

# ----- algebraic -----
reciprocal = _elementwise(np.reciprocal, "reciprocal", lambda g, ans, x: -(g * E.square(ans)))


def _cbrt_rule(g, ans, x):
    # +inf at 0, where the forward does not warn: no "divide by zero" warning (see sqrt)
    with np.errstate(divide="ignore"):
        return g / (3 * E.square(ans))


cbrt = _elementwise(np.cbrt, "cbrt", _cbrt_rule)
positive = _elementwise(np.positive, "positive", lambda g, ans, x: g)
fabs = _elementwise(np.fabs, "fabs", lambda g, ans, x: g * sign(x))


def _hypot_share(ans, x):
    """x / hypot, with 0 where hypot is 0 (a subgradient, as the norm's at 0)."""
    z = equal(ans, 0)
    return E.where(z, _zero(ans), x / E.where(z, value(ans).dtype.type(1), ans))


hypot = _elementwise(np.hypot, "hypot",
                     lambda g, ans, x, y: g * _hypot_share(ans, x),
                     lambda g, ans, x, y: g * _hypot_share(ans, y))


def _f_share(ans, x, y, better):
    """fmax/fmin: x's share of the gradient: 1 where x wins or y is NaN (and x is not),
    1/2 on ties, 0 elsewhere."""
    t = value(ans).dtype.type
    wins = logical_or(better(x, y), logical_and(isnan(y), logical_not(isnan(x))))
    return E.where(wins, t(1), E.where(equal(x, y), t(0.5), t(0)))


fmax = _elementwise(np.fmax, "fmax",
                    lambda g, ans, x, y: g * _f_share(ans, x, y, greater),
                    lambda g, ans, x, y: g * _f_share(ans, y, x, greater))
fmin = _elementwise(np.fmin, "fmin",
                    lambda g, ans, x, y: g * _f_share(ans, x, y, less),
                    lambda g, ans, x, y: g * _f_share(ans, y, x, less))

# x - floor(x / y) * y: slope 1 in x, -floor(x / y) in y between the jumps.
remainder = _elementwise(np.remainder, "remainder",
                         lambda g, ans, x, y: g,
                         lambda g, ans, x, y: -(g * floor(E.divide(x, y))))
fmod = _elementwise(np.fmod, "fmod",
                    lambda g, ans, x, y: g,
                    lambda g, ans, x, y: -(g * trunc(E.divide(x, y))))


def _copysign_x(g, ans, x, y):
    # |x| with y's sign: d/dx = sign(x) * (+-1 by y's sign bit); 0 at x = 0, as abs
    return g * sign(x) * E.where(signbit(y), -1.0, 1.0)


copysign = _elementwise(np.copysign, "copysign", _copysign_x, None)
heaviside = _elementwise(np.heaviside, "heaviside", None,
                         lambda g, ans, x1, x2: g * equal(x1, 0))
# ldexp(x, i) = x * 2**i with integer i
ldexp = _elementwise(np.ldexp, "ldexp", lambda g, ans, x, i: g * np.exp2(value(i)), None)
float_power = Primitive(np.float_power, "float_power", broadcasts=True)
float_power.defvjp(*E.power.vjps)
float_power.defjvp(*E.power.jvps)


def _sinc_fun(x):
    return np.sinc(x)


def _sinc_rule(g, ans, x):
    # sinc'(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (where the formula is 0/0)
    z = equal(x, 0)
    safe = E.where(z, value(ans).dtype.type(1), x)
    return g * E.where(z, _zero(ans), (E.cos(np.pi * safe) - ans) / safe)


sinc = _elementwise(_sinc_fun, "sinc", _sinc_rule)

# ----- complex parts: separate VJP (autograd's convention) and JVP (real for real results) -----


def _match(x, g):
    """g in x's kind: the real part for a real x, complex for a complex x (autograd's match_complex)."""
    cx, cg = _complex(x), _complex(g)
    if cg and not cx:
        return real(g)
    if cx and not cg:
        return g * (1 + 0j) if type(g) is not np.ndarray else g.astype(np.result_type(g, 1j))
    return g


# real, conj and the complex-aware absolute are the core's (ops/elementwise.py).
real, conj, absolute = E.real, E.conj, E.abs

imag = Primitive(np.imag, "imag", broadcasts=True)
# Im z = (z - conj z) / 2i: the VJP of a real output g is -i g; 0 for a real input.
imag.defvjp(lambda g, ans, x: _match(x, E.multiply(g, -1j)) if _complex(x) else g * 0)
imag.defjvp(lambda t, ans, x: imag(t) if _complex(t) else t * 0)


def _angle_fun(x, deg=False):
    return np.angle(x, deg)


def _angle_factor(ans, x, deg):
    """conj(i z) / |z|^2 (times 180/pi in degrees), 0 at z = 0."""
    r2 = real(x * conj(x))
    z = equal(r2, 0)
    f = conj(x * 1j) / E.where(z, value(ans).dtype.type(1), r2)
    f = E.where(z, 0j, f)
    return f * _R2D if deg else f


def _angle_vjp(g, ans, x, deg=False):
    if not _complex(x):
        return g * 0  # the angle of a real number is piecewise constant (0 or pi)
    return g * _angle_factor(ans, x, deg)


def _angle_jvp(t, ans, x, deg=False):
    if not _complex(x):
        return t * 0
    return real(t * _angle_factor(ans, x, deg))


angle = Primitive(_angle_fun, "angle", broadcasts=True)
angle.defvjp(_angle_vjp)
angle.defjvp(_angle_jvp)


def divmod_(x1, x2):
    """np.divmod: (floor_divide(x1, x2), remainder(x1, x2)); only the remainder has a derivative."""
    return floor_divide(x1, x2), remainder(x1, x2)


def modf(x):
    """np.modf: (fractional part, integral part); d frac/dx = 1, the integral part has none."""
    i = trunc(x)
    return x - i, i


NUMPY_IMPLS = {
    np.tan: tan, np.arcsin: arcsin, np.arccos: arccos, np.arctan: arctan,
    np.arctan2: arctan2, np.sinh: sinh, np.cosh: cosh, np.arcsinh: arcsinh,
    np.arccosh: arccosh, np.arctanh: arctanh, np.deg2rad: deg2rad, np.radians: radians,
    np.rad2deg: rad2deg, np.degrees: degrees,
    np.log1p: log1p, np.expm1: expm1, np.log2: log2, np.log10: log10, np.exp2: exp2,
    np.logaddexp: logaddexp, np.logaddexp2: logaddexp2,
    np.reciprocal: reciprocal, np.cbrt: cbrt, np.positive: positive, np.fabs: fabs,
    np.hypot: hypot, np.fmax: fmax, np.fmin: fmin, np.remainder: remainder, np.fmod: fmod,
    np.copysign: copysign, np.heaviside: heaviside, np.ldexp: ldexp,
    np.float_power: float_power, np.sinc: sinc,
    np.real: real, np.imag: imag, np.conjugate: conj, np.absolute: absolute, np.angle: angle,
    np.divmod: divmod_, np.modf: modf,
    np.floor: floor, np.ceil: ceil, np.rint: rint, np.trunc: trunc, np.isinf: isinf,
    np.signbit: signbit, np.logical_xor: logical_xor, np.floor_divide: floor_divide,
    np.spacing: spacing,
}

# The conventions at kinks and edges, for docs/numpy.md (tools/gen_numpy_table.py reads
# CONVENTIONS from every catalogue module).
CONVENTIONS = {
    np.fabs: "fabs'(0) = 0", np.hypot: "gradient (0, 0) at (0, 0)",
    np.fmax: "ties split 1/2 each; a NaN input passes the gradient to the other",
    np.fmin: "ties split 1/2 each; a NaN input passes the gradient to the other",
    np.remainder: "d/dx = 1, d/dy = -floor(x/y) (one-sided at the jumps)",
    np.fmod: "d/dx = 1, d/dy = -trunc(x/y) (one-sided at the jumps)",
    np.copysign: "d/dx = 0 at x = 0; no derivative in y",
    np.heaviside: "no derivative in x1; d/dx2 = [x1 == 0]",
    np.logaddexp: "weights 0 where both inputs are -inf", np.logaddexp2:
    "weights 0 where both inputs are -inf",
    np.sinc: "sinc'(0) = 0 exactly; higher derivatives at exactly 0 are 0",
    np.cbrt: "+inf at 0", np.arccosh: "complex: principal branch, 1/(sqrt(z-1) sqrt(z+1))",
    np.imag: "VJP -1j*g (0 for a real input); JVP real", np.angle:
    "VJP g*conj(1j*z)/|z|^2, 0 at z = 0 and for real input; JVP real",
    np.ldexp: "no derivative in the integer exponent",
    np.divmod: "only the remainder has a derivative", np.modf: "d frac/dx = 1",
}
