"""chainrule.scipy.integrate: odeint, differentiable in y0, t and args; other names pass through.

``odeint(func, y0, t, args)`` solves dy/dt = func(y, t, *args) with SciPy
(LSODA) on values; ``func`` is written with chainrule operations.

- Reverse mode (cr.grad, cr.vjp, cr.jacobian): the adjoint method, as
  autograd.scipy.integrate.odeint does it (Froehlich et al. 2017, sec. 2.4.2):
  from each output time back to the previous one, SciPy integrates the
  original system together with the adjoint a' = -a^T df/dy and the running
  gradients -a^T df/dt and -a^T df/dargs, backwards in time; the vector-Jacobian
  products of func come from ``cr.vjp``. Cost: one backward solve of 2D+1+P
  equations (D states, P parameters), whatever the number of parameters.
- Forward mode (cr.jvp, cr.jacfwd): forward sensitivities s' = (df/dy) s +
  (df/dargs) t_args, solved alongside y; df/dy comes from ``cr.jacobian`` (D
  reverse passes per step, so meant for small systems).
- The results are as accurate as the solves: pass tight ``rtol``/``atol`` (they
  are used for the derivative solves too) when the derivative matters.
- Second derivatives (grad of grad, hessian) are refused with an error: the
  first-derivative rules are numerical solves, not chainrule programs.
"""
import threading
import weakref

import numpy as np
import scipy.integrate as _si

from ..errors import RuleError
from ..ops import _util
from ..ops.shape import getitem, reshape
from ..primitive import Each, Primitive
from ..tensor import Tensor
from ..transforms import jacobian, vjp
from . import passthrough

__all__ = ["odeint"]

_PATH = "scipy.integrate.odeint"


def _v(x):
    """A NumPy value (the results of a nested cr.vjp are Tensors)."""
    return np.asarray(x.value if type(x) is Tensor else x)


def _rhs(func, args):
    """func on values, for SciPy: y (D,) and t -> dy/dt (D,)."""
    def f(y, t):
        return _v(func(y, t, *args)).ravel()
    return f


def _odeint_fun(y0, t, *args, func, opts):
    return _si.odeint(_rhs(func, args), y0, t, **opts)


def _refuse(*_, **__):
    raise RuleError(f"{_PATH}: second derivatives (grad of grad, hessian, jvp of grad) are not "
                    f"supported: the first-derivative rules of odeint solve adjoint or "
                    f"sensitivity equations numerically with SciPy, they are not chainrule "
                    f"programs that could be differentiated again.")


def _numerical(fun, name):
    """A primitive computed by a numerical solve: it has no derivative of its own."""
    op = Primitive(fun, name)
    op.vjps = op.jvps = Each(lambda k: _refuse)
    return op


# ----- reverse mode: the adjoint method ----------------------------------------------
def _adjoint_fun(g, yt, y0, t, *args, func, opts):
    """Every gradient (y0, t, args), flattened and joined, given the cotangent g of y(t)."""
    T, D = yt.shape
    g = np.asarray(g, dtype=float).reshape(T, D)
    f = _rhs(func, args)
    sizes = [int(np.size(a)) for a in args]

    def augmented(s, ti):
        # s = [y, a (adjoint of y), running gradient of t0, running gradients of args]
        y, a = s[:D], s[D:2 * D]
        out, pull = vjp(lambda y, ti, *p: func(y, ti, *p), y, ti, *args)
        grads = pull(-a.reshape(np.shape(_v(out))))
        return np.concatenate([_v(out).ravel()] + [_v(x).ravel() for x in grads])

    a, gt0, gargs = g[-1].copy(), 0.0, np.zeros(sum(sizes))
    gts = []
    for i in range(T - 1, 0, -1):
        gti = float(np.dot(f(yt[i], t[i]), g[i]))  # moving t_i moves y(t_i) along f
        gts.append(gti)
        gt0 -= gti
        s = np.concatenate([yt[i], a, [gt0], gargs])
        s = _si.odeint(augmented, s, np.array([t[i], t[i - 1]]), **opts)[1]
        a, gt0, gargs = s[D:2 * D] + g[i - 1], s[2 * D], s[2 * D + 1:]
    gts.append(gt0)
    return np.concatenate([a, np.array(gts[::-1]), gargs])


_adjoint = _numerical(_adjoint_fun, "scipy.integrate.odeint (adjoint)")
_cache = threading.local()


def _ref(x):
    try:
        return weakref.ref(x)
    except TypeError:  # not weakly referable: a strong reference
        return lambda: x


def _odeint_vjp(k):
    def rule(g, ans, y0, t, *args, func, opts):
        # The engine asks each input's rule in turn: one backward solve serves them all.
        # The entry refers to g and ans weakly, so it keeps no cotangent alive after the
        # backward pass (at first order what it keeps is the small joined gradient).
        entry = getattr(_cache, "entry", None)
        if entry is None or entry[0]() is not g or entry[1]() is not ans:
            flat = _adjoint(g, ans, y0, t, *args, func=func, opts=opts)
            entry = _cache.entry = (_ref(g), _ref(ans), flat)
        shapes = [_util.shape_of(x) for x in (y0, t) + args]
        start = sum(int(np.prod(s)) for s in shapes[:k])
        piece = getitem(entry[2], slice(start, start + int(np.prod(shapes[k]))))
        return reshape(piece, shapes[k])
    return rule


# ----- forward mode: sensitivities --------------------------------------------------
def _tangent_fun(tk, yt, y0, t, *args, k, func, opts):
    """The tangent of y(t) for the tangent tk of input k (0: y0, 1: t, 2...: args)."""
    T, D = yt.shape
    f = _rhs(func, args)
    t = np.asarray(t, dtype=float)
    tk = np.asarray(tk, dtype=float)
    if k == 0:
        s0 = tk.ravel()
    elif k == 1:
        s0 = -f(yt[0], t[0]) * tk[0]  # moving t0 shifts the start of the trajectory
    else:
        s0 = np.zeros(D)

    def jac(y, ti):
        fun = lambda y, *p: reshape(func(y, ti, *p), (D,))  # noqa: E731
        if k < 2:
            return _v(jacobian(fun)(y, *args)), None
        jy, ja = jacobian(fun, argnums=(0, k - 1))(y, *args)
        return _v(jy), _v(ja)

    def augmented(s, ti):
        y, sy = s[:D], s[D:]
        jy, ja = jac(y, ti)
        ds = jy @ sy
        if ja is not None:
            ds = ds + ja.reshape(D, -1) @ tk.ravel()
        return np.concatenate([f(y, ti), ds])

    s = _si.odeint(augmented, np.concatenate([yt[0], s0]), t, **opts)[:, D:]
    if k == 1:
        s = s + np.stack([f(yt[i], t[i]) * tk[i] for i in range(T)])
    return s


_tangent = _numerical(_tangent_fun, "scipy.integrate.odeint (sensitivity)")


def _odeint_jvp(k):
    def rule(tk, ans, y0, t, *args, func, opts):
        return _tangent(tk, ans, y0, t, *args, k=k, func=func, opts=opts)
    return rule


_odeint = Primitive(_odeint_fun, _PATH)
_odeint.vjps = Each(_odeint_vjp)  # variadic (y0, t, *args): one rule per input, made on demand
_odeint.jvps = Each(_odeint_jvp)


def odeint(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
           rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
           mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    """scipy.integrate.odeint: y at the times t of dy/dt = func(y, t, *args); differentiable in
    y0, t and args (see the module docstring for how, and for the tolerances).

    Args:
        func: written with chainrule operations (cr.*, chainrule.numpy), as for cr.grad.
        y0: the initial state (a vector, or a scalar for one equation).
        t: the output times, t[0] being the time of y0.
        args: extra arguments of func, each an array (differentiable) or a constant.
    Returns:
        An array of shape (len(t), len(y0)); ``full_output`` is refused when differentiating.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.integrate import odeint
        >>> f = lambda k: odeint(lambda y, t, k: -k * y, 1.0, np.array([0.0, 1.0]), (k,),
        ...                      rtol=1e-10, atol=1e-10)[1, 0]
        >>> round(float(cr.grad(f)(0.5)), 6)   # d/dk exp(-k) = -exp(-k)
        -0.606531
    """
    if not isinstance(args, tuple):
        args = (args,)
    user = func
    # (y, t) order whatever tfirst says; a list of Tensors returned (autograd style
    # code: [dy1, dy2]) is stacked into one array
    if tfirst:
        func = lambda y, t, *a: _util.pack(user(t, y, *a))  # noqa: E731
    else:
        func = lambda y, t, *a: _util.pack(user(y, t, *a))  # noqa: E731
    y0, t = _util.pack(y0), _util.pack(t)
    args = tuple(_util.pack(a) for a in args)
    opts = {k: v for k, v in dict(ml=ml, mu=mu, rtol=rtol, atol=atol, tcrit=tcrit, h0=h0,
                                  hmax=hmax, hmin=hmin, ixpr=ixpr, mxstep=mxstep, mxhnil=mxhnil,
                                  mxordn=mxordn, mxords=mxords, printmessg=printmessg).items()}
    traced = any(type(x) is Tensor for x in (y0, t) + args)
    if not traced:
        return _si.odeint(_rhs(func, args), y0, t, Dfun=Dfun, col_deriv=col_deriv,
                          full_output=full_output, **opts)
    if full_output:
        raise TypeError(f"{_PATH}: full_output=True is not supported while differentiating "
                        f"(the result would be a tuple); call it on plain values for the "
                        f"solver's diagnostics")
    if np.ndim(_util.value(t)) != 1:
        raise ValueError(f"{_PATH}: t must be a 1-D array of times, got shape "
                         f"{np.shape(_util.value(t))}")
    if np.ndim(_util.value(y0)) > 1:
        raise ValueError(f"{_PATH}: y0 must be a scalar or a 1-D array, got shape "
                         f"{np.shape(_util.value(y0))}")
    # Dfun (the Jacobian for the stiff solver) is ignored: chainrule can differentiate func
    return _odeint(y0, t, *args, func=func, opts=opts)


# Notes for docs/numpy.md (tools/gen_numpy_table.py), by name.
CONVENTIONS = {
    "odeint": "in y0, t, args: reverse by the adjoint method, forward by sensitivities "
              "(SciPy solves at the given rtol/atol); second derivatives refused",
}

__getattr__ = passthrough("integrate")
