"""chainrule.scipy.integrate.odeint: linear ODEs with closed-form solutions and gradients,
central differences, HIPS autograd's odeint, both modes; second order refused."""
import numpy as np
import pytest

import chainrule as cr
from fd import numeric_grad

I = pytest.importorskip("chainrule.scipy.integrate")
L = pytest.importorskip("chainrule.scipy.linalg")
si = pytest.importorskip("scipy.integrate")

TOL = dict(rtol=1e-11, atol=1e-11)
A = np.array([[-0.5, 1.0], [-1.0, -0.3]])
Y0 = np.array([1.0, 0.5])
T = np.array([0.0, 0.5, 1.3, 2.0])
C = np.random.default_rng(0).standard_normal((4, 2))


def linear(y, t, a):
    return cr.matmul(a, y)


def forced(y, t, a, w):
    return cr.matmul(a, y) + w * cr.sin(t)


def test_scalar_closed_form():
    # y' = -k y: y(t) = y0 exp(-k (t - t0))
    k, y0, t = 0.7, 2.0, np.array([0.1, 0.6, 1.5])

    def f(k, y0, t):
        return I.odeint(lambda y, t, k: -k * y, y0, t, (k,), **TOL)[:, 0]
    np.testing.assert_allclose(f(k, y0, t), y0 * np.exp(-k * (t - t[0])), rtol=1e-9)
    gk, gy0, gt = cr.jacobian(f, (0, 1, 2))(k, y0, t)
    e = np.exp(-k * (t - t[0]))
    np.testing.assert_allclose(gk, -(t - t[0]) * y0 * e, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(gy0, e, rtol=1e-8)
    dt = np.diag(-k * y0 * e)
    dt[:, 0] += k * y0 * e          # moving t0 moves the start
    np.testing.assert_allclose(gt, dt, rtol=1e-8, atol=1e-12)


def test_linear_system_against_expm():
    # y(t) = expm(A (t - t0)) y0, differentiated by chainrule through expm's own rule
    def closed(y0, t, a):
        return cr.stack([cr.matmul(L.expm(a * (ti - t[0])), y0) for ti in t])

    F = lambda y0, t, a: cr.sum(I.odeint(linear, y0, t, (a,), **TOL) * C)  # noqa: E731
    G = lambda y0, t, a: cr.sum(closed(y0, t, a) * C)                      # noqa: E731
    np.testing.assert_allclose(I.odeint(linear, Y0, T, (A,), **TOL), closed(Y0, T, A),
                               rtol=1e-8, atol=1e-10)
    for ours, exact in zip(cr.grad(F, (0, 1, 2))(Y0, T, A), cr.grad(G, (0, 1, 2))(Y0, T, A)):
        np.testing.assert_allclose(ours, exact, rtol=1e-7, atol=1e-9)


def _F(y0, t, a, w):
    return cr.sum(I.odeint(forced, y0, t, (a, w), **TOL) * C)


def test_reverse_central_differences():
    w = np.array([0.2, -0.1])
    args = [Y0, T, A, w]
    grads = cr.grad(_F, (0, 1, 2, 3))(*args)
    for i, g in enumerate(grads):
        num = numeric_grad(lambda *a: float(np.asarray(_F(*a))), args, i, h=1e-5)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8, err_msg=f"input {i}")


def test_forward_mode():
    w = np.array([0.2, -0.1])
    prim = (Y0, T, A, w)
    r = np.random.default_rng(1)
    tans = tuple(r.standard_normal(np.shape(p)) for p in prim)
    f = lambda y0, t, a, w: I.odeint(forced, y0, t, (a, w), **TOL)  # noqa: E731
    out, tout = cr.jvp(f, prim, tans)
    h = 1e-5
    plus = f(*[p + h * t for p, t in zip(prim, tans)])
    minus = f(*[p - h * t for p, t in zip(prim, tans)])
    np.testing.assert_allclose(out, f(*prim))
    np.testing.assert_allclose(tout, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-8)
    for i in range(4):
        np.testing.assert_allclose(cr.jacfwd(f, i)(*prim), cr.jacobian(f, i)(*prim),
                                   rtol=1e-6, atol=1e-8, err_msg=f"jacfwd {i}")


def test_autograd_odeint():
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    aint = pytest.importorskip("autograd.scipy.integrate")
    w = np.array([0.2, -0.1])

    def theirs(y0, t, args):  # autograd differentiates the args tuple as one argument
        ys = aint.odeint(lambda y, t, a, w: anp.dot(a, y) + w * anp.sin(t), y0, t, args, **TOL)
        return anp.sum(ys * C)
    mine = cr.grad(_F, (0, 1, 2, 3))(Y0, T, A, w)
    gy0, gt, (ga, gw) = ag.grad(theirs, (0, 1, 2))(Y0, T, (A, w))
    for m, r in zip(mine, (gy0, gt, ga, gw)):
        np.testing.assert_allclose(m, r, rtol=1e-7, atol=1e-9)


def test_tfirst_scalar_and_constant_args():
    f = lambda k: I.odeint(lambda t, y, k, n: -k * y ** n, 1.0, np.array([0.0, 1.0]),  # noqa: E731
                           (k, 2), tfirst=True, **TOL)[1, 0]
    # y' = -k y^2, y(0) = 1: y(1) = 1 / (1 + k), dy/dk = -1 / (1 + k)^2
    assert float(f(0.5)) == pytest.approx(1 / 1.5, rel=1e-9)
    assert float(cr.grad(f)(0.5)) == pytest.approx(-1 / 1.5 ** 2, rel=1e-7)


def test_values_only_matches_scipy():
    t = np.linspace(0, 1, 5)
    ref = si.odeint(lambda y, t: A @ y, Y0, t)
    np.testing.assert_allclose(I.odeint(linear, Y0, t, (A,)), ref)
    y, info = I.odeint(linear, Y0, t, (A,), full_output=True)
    assert "nfe" in info


def test_refusals():
    f = lambda a: cr.sum(I.odeint(linear, Y0, T, (a,), **TOL))  # noqa: E731
    with pytest.raises(cr.RuleError, match="second derivatives"):
        cr.hessian(f)(A)
    with pytest.raises(cr.RuleError, match="second derivatives"):
        cr.grad(lambda a: cr.sum(cr.grad(f)(a)))(A)
    with pytest.raises(TypeError, match="full_output"):
        cr.grad(lambda a: I.odeint(linear, Y0, T, (a,), full_output=True))(A)
    with pytest.raises(ValueError, match="y0 must be"):
        cr.grad(lambda y: cr.sum(I.odeint(linear, y, T, (A,))))(np.ones((2, 1)))


def test_passthrough_and_all():
    assert I.quad(lambda x: x * x, 0, 1)[0] == pytest.approx(1 / 3)
    with pytest.raises(TypeError, match="scipy.integrate.trapezoid has no derivative rule"):
        I.trapezoid(cr.tensor(np.ones(3), requires_grad=True))
    assert I.__all__ == ["odeint"]


def test_func_returning_a_list():
    # y1' = y2, y2' = -w^2 y1: y1(t) = cos(w t) for y(0) = (1, 0)
    def f(w):
        ys = I.odeint(lambda y, t, w: [y[1], -w * w * y[0]], np.array([1.0, 0.0]),
                      np.array([0.0, 0.7]), (w,), **TOL)
        return ys[1, 0]
    assert float(f(1.3)) == pytest.approx(np.cos(1.3 * 0.7), rel=1e-8)
    assert float(cr.grad(f)(1.3)) == pytest.approx(-0.7 * np.sin(1.3 * 0.7), rel=1e-7)


def test_docs_scipy_md_runs():
    # the Python blocks of docs/scipy.md run (and check themselves)
    import pathlib
    import re
    doc = pathlib.Path(__file__).resolve().parents[1] / "docs" / "scipy.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(doc), "exec"), {})


def test_one_backward_solve_per_gradient():
    calls = []
    real = I._adjoint_fun

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)
    I._adjoint.fun = counting
    try:
        cr.grad(_F, (0, 1, 2, 3))(Y0, T, A, np.array([0.2, -0.1]))
    finally:
        I._adjoint.fun = real
    assert len(calls) == 1
    entry = getattr(I._cache, "entry", None)
    assert entry is None or (entry[0]() is None and entry[1]() is None)   # nothing kept alive
