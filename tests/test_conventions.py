"""The documented conventions: derivatives at kinks, numerical stability, dtypes.

At a kink there is no derivative, so the library chooses one (see the
docstrings of ops/elementwise.py and ops/reduce.py; the choices match PyTorch):

- relu'(0) = 0 and abs'(0) = 0;
- maximum/minimum: on a tie each input gets half of the gradient;
- max/min reductions: tied extremes share the gradient equally;
- clip: x gets the gradient where a_min <= x <= a_max (bounds inclusive).

Reverse mode (grad) and forward mode (jvp) must make the same choice.
"""
import numpy as np
import pytest

import chainrule as cr
from test_ops import CASES


def grad_sum(f, *args, argnums=0):
    """Gradient of sum(f(*args))."""
    return cr.grad(lambda *a: cr.sum(f(*a)), argnums=argnums)(*args)


def jac_both(f, x):
    """(reverse-mode Jacobian, forward-mode Jacobian)."""
    return cr.jacobian(f)(x), cr.jacfwd(f)(x)


# ----- kinks ---------------------------------------------------------------------
def test_relu_derivative_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0, -0.0])
    np.testing.assert_array_equal(grad_sum(cr.relu, x), [0.0, 0.0, 1.0, 0.0])
    J_rev, J_fwd = jac_both(cr.relu, x)
    np.testing.assert_array_equal(np.diag(J_rev), [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(J_fwd, J_rev)


def test_abs_derivative_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0, -0.0])
    np.testing.assert_array_equal(grad_sum(cr.abs, x), [-1.0, 0.0, 1.0, 0.0])
    J_rev, J_fwd = jac_both(cr.abs, x)
    np.testing.assert_array_equal(np.diag(J_rev), [-1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(J_fwd, J_rev)


@pytest.mark.parametrize("op", [cr.maximum, cr.minimum], ids=["maximum", "minimum"])
def test_binary_extremum_ties_split_half_half(op):
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 5.0])  # tie at entry 0
    gx, gy = grad_sum(op, x, y, argnums=(0, 1))
    if op is cr.maximum:
        np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0])
        np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0])
    else:
        np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0])
        np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0])
    # forward mode makes the same choice: J t = (t_x + t_y) / 2 at the tie
    _, t = cr.jvp(op, (x, y), (np.array([1.0, 0.0, 0.0]), np.array([3.0, 0.0, 0.0])))
    assert t[0] == 2.0
    # the same value on both sides (fan-out): the two halves add up to 1
    np.testing.assert_array_equal(grad_sum(lambda a: op(a, a), x), [1.0, 1.0, 1.0])


def test_maximum_tie_with_broadcast_scalar():
    x = np.array([0.0, 1.0, 2.0])
    gx, gy = grad_sum(cr.maximum, x, np.array(1.0), argnums=(0, 1))
    np.testing.assert_array_equal(gx, [0.0, 0.5, 1.0])
    assert gy.shape == () and gy == 1.5  # 1 from entry 0, 1/2 from the tie


@pytest.mark.parametrize("name", ["max", "min"])
def test_reduction_ties_share_equally(name):
    op = getattr(cr, name)
    s = 1.0 if name == "max" else -1.0
    x = s * np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(grad_sum(op, x), [0.0, 0.5, 0.5, 0.0])
    x = s * np.array([[4.0, 4.0, 4.0], [1.0, 7.0, 2.0]])
    for kd in (False, True):
        g = grad_sum(lambda a: op(a, 1, keepdims=kd), x)
        np.testing.assert_allclose(g, [[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]], rtol=1e-15)
    g = grad_sum(lambda a: op(a, 0), x)
    np.testing.assert_array_equal(g, [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    # whole-array reduction over a 3-way tie
    np.testing.assert_allclose(grad_sum(op, x[0]), [1 / 3] * 3, rtol=1e-15)
    # forward mode: the tangent of a tied extreme is the mean of the tied tangents
    _, t = cr.jvp(lambda a: op(a, 1), (x,), (np.array([[3.0, 6.0, 0.0], [1.0, 2.0, 3.0]]),))
    np.testing.assert_allclose(t, [3.0, 2.0], rtol=1e-15)


def test_clip_passes_gradient_at_the_bounds_inclusive():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    f = lambda a: cr.clip(a, -0.5, 0.5)  # noqa: E731
    np.testing.assert_array_equal(grad_sum(f, x), [0.0, 1.0, 1.0, 1.0, 0.0])
    J_rev, J_fwd = jac_both(f, x)
    np.testing.assert_array_equal(np.diag(J_rev), [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(J_fwd, J_rev)
    # one-sided clips
    np.testing.assert_array_equal(grad_sum(lambda a: cr.clip(a, None, 0.5), x), [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_sum(lambda a: cr.clip(a, -0.5, None), x), [0, 1, 1, 1, 1])


def test_clip_bounds_as_inputs_get_the_rest():
    """Where x is clipped, the gradient goes to the bound; at the bound itself, to x."""
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    lo, hi = np.array(-0.5), np.array(0.5)
    gx, glo, ghi = grad_sum(cr.clip, x, lo, hi, argnums=(0, 1, 2))
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0, 1.0, 0.0])
    assert glo == 1.0 and ghi == 1.0


# ----- stability of the softmax family -----------------------------------------------
BIG = [np.array([1000.0, 999.0, -1000.0]),
       np.array([-1000.0, -1000.0, -1001.0]),
       np.array([[1e3, -1e3], [-1e3, 1e3], [1e3, 1e3]])]


@pytest.mark.parametrize("x", BIG, ids=["mixed", "all_negative", "matrix"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_family_is_stable_for_large_logits(x, dtype):
    x = x.astype(dtype)
    x64 = x.astype(np.float64)
    m = np.max(x64, axis=-1, keepdims=True)
    z = x64 - m
    lse = (m + np.log(np.sum(np.exp(z), axis=-1, keepdims=True)))
    sm = np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)
    # float32 spacing at 1e3 is 6e-5, so x - logsumexp(x) carries a relative error of
    # that order into exp(); float64 spacing at 1e3 is 1e-13.
    tol = dict(rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-30)
    rng = np.random.default_rng(0)
    c = rng.standard_normal(x.shape).astype(dtype)

    for name, f, value, grad_of_sum_c in [
        ("logsumexp", lambda a: cr.logsumexp(a, -1, keepdims=True), lse,
         sm * np.sum(c, -1, keepdims=True)),
        ("softmax", lambda a: cr.softmax(a, axis=-1), sm,
         sm * (c - np.sum(c * sm, -1, keepdims=True))),
        ("log_softmax", lambda a: cr.log_softmax(a, axis=-1),
         z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True)),
         c - sm * np.sum(c, -1, keepdims=True)),
    ]:
        val = np.asarray(f(x))
        assert val.dtype == dtype, name
        assert np.all(np.isfinite(val)), name
        np.testing.assert_allclose(val, value, err_msg=name, **tol)
        g = cr.grad(lambda a: cr.sum(f(a) * c))(x)
        assert g.dtype == dtype, name
        assert np.all(np.isfinite(g)), name
        np.testing.assert_allclose(g, grad_of_sum_c, err_msg=name, rtol=tol["rtol"],
                                   atol=1e-4 if dtype == np.float32 else 1e-12)
        # second order stays finite too
        H = cr.hessian(lambda a: cr.sum(f(a) * c))(x)
        assert np.all(np.isfinite(H)), name


def test_logsumexp_without_keepdims_and_over_all_axes_is_stable():
    x = np.array([[1e3, 1e3 - 1], [-1e3, -1e3]])
    np.testing.assert_allclose(cr.logsumexp(x, 1), [1e3 + np.log1p(np.exp(-1)), -1e3 + np.log(2)],
                               rtol=1e-15)
    np.testing.assert_allclose(cr.logsumexp(x), 1e3 + np.log1p(np.exp(-1)), rtol=1e-15)
    g = cr.grad(lambda a: cr.logsumexp(a))(x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g.sum(), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(g[1], [0.0, 0.0])


def test_sigmoid_is_stable_for_large_inputs():
    x = np.array([-1e3, -40.0, 0.0, 40.0, 1e3])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow either
        v = np.asarray(cr.sigmoid(x))
        g = cr.grad(lambda a: cr.sum(cr.sigmoid(a)))(x)
    np.testing.assert_allclose(v, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1.0, 1.0],
                               rtol=1e-15, atol=0)
    assert np.all(np.isfinite(g)) and g[2] == 0.25 and g[0] == 0.0


# ----- float32 stays float32 ----------------------------------------------------------
def _as32(x):
    return x.astype(np.float32)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_float32_in_float32_out(c):
    args64 = c.inputs()
    args = [_as32(a) for a in args64]
    expected = np.asarray(c.ref(*args))  # NumPy's own promotion rules decide the dtype
    out = np.asarray(c.fn(*args))
    assert out.dtype == expected.dtype
    traced, vjp_fn = cr.vjp(c.fn, *args)
    assert traced.dtype == expected.dtype
    np.testing.assert_allclose(traced, c.ref(*args64), rtol=2e-5, atol=2e-6)
    ct = np.ones(traced.shape, dtype=traced.dtype)
    grads = vjp_fn(ct)
    g64 = cr.vjp(c.fn, *args64)[1](ct.astype(np.float64))
    for g, a, ref in zip(grads, args, g64):
        assert g.dtype == np.float32, "gradient of a float32 input must be float32"
        np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-4)
    if expected.dtype == np.float32:
        _, t = cr.jvp(c.fn, args, [np.ones_like(a) for a in args])
        assert t.dtype == np.float32, "forward-mode tangent"
        # The gradient as the engine computes it, before the final export casts it:
        # under an outer transform (here jvp, i.e. a Hessian-vector product) grad's
        # result is the engine's own array.
        F = lambda *a: cr.sum(c.fn(*a) * ct)  # noqa: E731
        for i in range(len(args)):
            g, hv = cr.jvp(cr.grad(F, argnums=i), args, [np.ones_like(a) for a in args])
            assert g.dtype == np.float32, f"gradient of input {i} inside the engine"
            assert hv.dtype == np.float32, f"Hessian-vector product of input {i}"


def test_float32_object_style():
    x = cr.tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = cr.sum(cr.softmax(cr.tanh(x) * x) * cr.sigmoid(x))
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_float32_zero_tangent_stays_float32():
    """An output with no recorded tangent (the gradient of a linear function) gets zeros
    of its own dtype."""
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    assert cr.hessian(lambda a: cr.sum(2 * a))(x).dtype == np.float32
    _, t = cr.jvp(cr.grad(lambda a: cr.sum(a * 3)), (x,), (x,))
    assert t.dtype == np.float32
