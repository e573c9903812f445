"""Transforms nested to any depth, in any order, with no perturbation confusion.

Each jvp tags its tangents with its own level (forward.py), each reverse transform
differentiates only its own stretch of the tape, so an inner derivative never
picks up an outer perturbation.
"""
import numpy as np
import pytest

import chainrule as cr
from fd import numeric_jacobian


def _inner_fwd(x):
    return cr.jvp(lambda y: x + y, (1.0,), (1.0,))[1]


def _inner_rev(x):
    return cr.grad(lambda y: x + y)(1.0)


@pytest.mark.parametrize("outer", ["fwd", "rev"])
@pytest.mark.parametrize("inner", ["fwd", "rev"])
def test_perturbation_confusion_classic(outer, inner):
    """d/dx [x * d/dy (x + y)] = 1 (a confused implementation gives 2)."""
    inner_fn = _inner_fwd if inner == "fwd" else _inner_rev
    f = lambda x: x * inner_fn(x)  # noqa: E731
    d = cr.jvp(f, (2.0,), (1.0,))[1] if outer == "fwd" else cr.grad(f)(2.0)
    assert float(d) == 1.0


def test_nested_jvp_sees_only_its_own_tangent():
    # d/dx [ d/dy (x * y) at y=3 ] = d/dx x = 1; the inner tangent is x (carries level 1)
    def f(x):
        return cr.jvp(lambda y: x * y, (3.0,), (1.0,))[1]
    assert float(cr.jvp(f, (2.0,), (1.0,))[1]) == 1.0
    assert float(cr.jvp(f, (2.0,), (1.0,))[0]) == 2.0


def f3(x):
    return cr.sin(x) * x ** 3 + cr.exp(cr.tanh(x))


@pytest.mark.parametrize("x0", [0.3, -1.2])
def test_third_derivative_all_forward_equals_all_reverse(x0):
    fwd = cr.jacfwd(cr.jacfwd(cr.jacfwd(f3)))(x0)
    rev = cr.grad(cr.grad(cr.grad(f3)))(x0)
    mixed1 = cr.jacfwd(cr.grad(cr.jacfwd(f3)))(x0)
    mixed2 = cr.grad(cr.jacfwd(cr.grad(f3)))(x0)
    for got in (rev, mixed1, mixed2):
        np.testing.assert_allclose(got, fwd, rtol=1e-12)
    # and against finite differences of the (exact) second derivative
    d2 = cr.grad(cr.grad(f3))
    np.testing.assert_allclose(fwd, (d2(x0 + 1e-6) - d2(x0 - 1e-6)) / 2e-6, rtol=1e-6)


def test_fourth_order_jvp_of_jvp_of_jvp_of_jvp():
    """d^4/dx^4 sin(x) = sin(x), by nesting jvp four deep."""
    def d(f):
        return lambda x: cr.jvp(f, (x,), (1.0,))[1]
    x0 = 0.4
    np.testing.assert_allclose(d(d(d(d(cr.sin))))(x0), np.sin(x0), rtol=1e-12)


def test_hessian_forward_over_forward_equals_forward_over_reverse():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))

    def f(x):
        return cr.sum(cr.tanh(A @ x) * x ** 2) + cr.logsumexp(x)
    x = rng.standard_normal(3)
    Hff = cr.jacfwd(cr.jacfwd(f))(x)
    Hfr = cr.hessian(f)(x)
    Hrr = cr.jacobian(cr.grad(f))(x)
    Hrf = cr.jacobian(cr.jacfwd(f))(x)
    for H in (Hfr, Hrr, Hrf):
        np.testing.assert_allclose(H, Hff, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(Hff, numeric_jacobian(cr.grad(f), [x], 0), rtol=1e-6, atol=1e-8)


def test_hvp_forward_over_forward_matches():
    f = lambda x: cr.sum(x ** 4)  # noqa: E731
    x, v = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    fwd_fwd = cr.jvp(lambda x: cr.jvp(f, (x,), (v,))[1], (x,), (v,))[1]
    assert float(fwd_fwd) == pytest.approx(float(v @ (12 * np.diag(x ** 2)) @ v))


def test_jvp_inside_grad_inside_jvp():
    def g(x):
        return cr.grad(lambda z: cr.jvp(lambda y: cr.sin(y * z), (x,), (1.0,))[1])(x)
    x0 = 0.3
    # g(x) = d/dz [z cos(x z)] at z = x = cos(x^2) - x^2 sin(x^2); check g' by differences
    d = cr.jvp(g, (x0,), (1.0,))[1]
    num = (g(x0 + 1e-6) - g(x0 - 1e-6)) / 2e-6
    np.testing.assert_allclose(d, num, rtol=1e-6)


def test_levels_are_released():
    from chainrule.state import state
    cr.jvp(lambda x: cr.jvp(cr.sin, (x,), (1.0,))[1], (0.1,), (1.0,))
    assert state.levels == () and state.cap == 0
    # a tangent that escaped a finished jvp is ignored afterwards
    leaked = []
    cr.jvp(lambda x: leaked.append(x) or x, (1.0,), (1.0,))
    out = cr.jvp(lambda y: y * leaked[0], (2.0,), (1.0,))
    assert float(out[1]) == 1.0
