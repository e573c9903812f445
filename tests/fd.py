"""Finite-difference helpers shared by the gradient tests.

Everything here is float64 central differences, h = 1e-6: the truncation
error is O(h^2 f''') ~ 1e-12 and the rounding error O(eps |f| / h) ~ 1e-10, so
a correct rule agrees to about 1e-8 relative and a wrong one is off by O(1).

The scalar that gets differentiated is ``sum(f(*args) * cotangent)`` with a
random cotangent: it exercises every entry of the Jacobian (a constant
cotangent of ones would hide, for instance, a transposed rule).
"""
import numpy as np

import chainrule as cr

H = 1e-6
RTOL = 1e-6
ATOL = 1e-8


def numeric_grad(F, args, argnum, h=H):
    """Central-difference gradient of the scalar function F(*args) w.r.t. args[argnum]."""
    # order="C": x.reshape(-1) below must be a view, or the perturbations are lost
    args = [np.array(a, dtype=np.float64, order="C") if k == argnum else a
            for k, a in enumerate(args)]
    x = args[argnum]
    g = np.zeros(x.shape, dtype=np.float64)
    flat_x, flat_g = x.reshape(-1), g.reshape(-1)
    for k in range(flat_x.size):
        old = flat_x[k]
        flat_x[k] = old + h
        fp = float(np.asarray(F(*args)))
        flat_x[k] = old - h
        fm = float(np.asarray(F(*args)))
        flat_x[k] = old
        flat_g[k] = (fp - fm) / (2 * h)
    return g


def numeric_jacobian(f, args, argnum, h=H):
    """Central-difference Jacobian of f (any output shape): shape out.shape + arg.shape."""
    args = [np.array(a, dtype=np.float64, order="C") if k == argnum else a
            for k, a in enumerate(args)]
    x = args[argnum]
    out_shape = np.shape(np.asarray(f(*args)))
    cols = []
    flat_x = x.reshape(-1)
    for k in range(flat_x.size):
        old = flat_x[k]
        flat_x[k] = old + h
        fp = np.array(f(*args), dtype=np.float64)  # a copy: f may return a view of x
        flat_x[k] = old - h
        fm = np.array(f(*args), dtype=np.float64)
        flat_x[k] = old
        cols.append(((fp - fm) / (2 * h)).reshape(-1))
    J = np.stack(cols, axis=-1) if cols else np.zeros((int(np.prod(out_shape)), 0))
    return J.reshape(out_shape + x.shape)


def random_like(rng, shape):
    return rng.standard_normal(shape)


def contract(f, cotangent):
    """The scalar function x -> sum(f(x) * cotangent), written with chainrule ops."""
    def F(*args):
        return cr.sum(cr.multiply(f(*args), cotangent))
    return F


def assert_close(actual, expected, rtol=RTOL, atol=ATOL, what=""):
    """assert_allclose with the error scaled by the size of ``expected`` (a norm-wise check)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what)


def check_grads(f, args, argnums, rng, rtol=RTOL, atol=ATOL):
    """cr.grad of sum(f * random cotangent) against central differences, for each argnum."""
    out = np.asarray(f(*args))
    c = random_like(rng, out.shape)
    F = contract(f, c)
    analytic = cr.grad(F, argnums=tuple(argnums))(*args)
    for i, g in zip(argnums, analytic):
        assert isinstance(g, np.ndarray), f"grad of input {i} is {type(g).__name__}"
        assert g.dtype == np.float64
        assert_close(g, numeric_grad(F, args, i), rtol, atol, what=f"d/d input {i}")
