"""A likelihood fitted end to end as an autograd user does it (examples/weibull_survival.py):
chainrule.numpy, a VJP-only primitive defined autograd's way, ravel_pytree, scipy's L-BFGS-B
on value_and_grad, standard errors from the Hessian; checked against HIPS autograd doing
the same fit and against finite differences."""
import os
import sys

import numpy as np
import pytest

import chainrule as cr

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
weibull = pytest.importorskip("weibull_survival")


@pytest.fixture(scope="module")
def data():
    return weibull.simulate(n=300, seed=1)


@pytest.fixture(scope="module")
def fitted(data):
    return weibull.fit(*data)


def _flat(tree):
    return cr.ravel_pytree(tree)[0]


def test_fit_converges_near_the_truth(fitted):
    params, se, res = fitted
    assert res.success
    assert np.all(np.abs(params["beta"] - [0.8, -0.5]) < 4 * se["beta"])
    assert abs(params["b0"] - 1.0) < 4 * se["b0"]
    k = 1e-3 + np.logaddexp(0.0, params["r"])
    assert abs(k - 1.5) < 0.3


def test_gradient_and_hessian_match_finite_differences(data, fitted):
    from fd import numeric_grad, numeric_jacobian
    X, t, d = data
    _, unravel = cr.ravel_pytree(weibull.initial_params(X.shape[1]))
    objective = lambda flat: weibull.negative_log_likelihood(unravel(flat), X, t, d)  # noqa
    x = _flat(fitted[0]) + 0.05  # away from the optimum, where the gradient is not ~0
    g = cr.grad(objective)(x)
    np.testing.assert_allclose(g, numeric_grad(objective, [x], 0), rtol=1e-6, atol=1e-6)
    H = cr.hessian(objective)(x)
    np.testing.assert_allclose(H, numeric_jacobian(cr.grad(objective), [x], 0), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(H, cr.jacobian(cr.grad(objective))(x), rtol=1e-10)  # rev-rev


def test_matches_hips_autograd(data, fitted):
    pytest.importorskip("autograd")
    ag = pytest.importorskip("weibull_autograd")
    params, se, res = fitted
    a_params, a_se, a_res = ag.fit(*data)
    assert abs(res.fun - a_res.fun) < 1e-8
    np.testing.assert_allclose(_flat(params), _flat(a_params), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(_flat(se), _flat(a_se), rtol=1e-6)
    # the same gradient and Hessian at the same point, to rounding
    X, t, d = data
    import autograd
    flat0, unravel = cr.ravel_pytree(weibull.initial_params(X.shape[1]))
    x = _flat(params) - 0.1
    ours = cr.value_and_grad(lambda f: weibull.negative_log_likelihood(unravel(f), X, t, d))(x)
    theirs = autograd.value_and_grad(
        lambda f: ag.negative_log_likelihood(unravel(f), X, t, d))(x)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10)
    np.testing.assert_allclose(
        cr.hessian(lambda f: weibull.negative_log_likelihood(unravel(f), X, t, d))(x),
        autograd.hessian(lambda f: ag.negative_log_likelihood(unravel(f), X, t, d))(x),
        rtol=1e-10)


def test_the_vjp_only_primitive_really_has_no_jvp_rule():
    """The Hessian above went through a derived JVP rule, not a hand-written one."""
    assert weibull.safe_exp.jvps is None
    np.testing.assert_allclose(cr.jvp(weibull.safe_exp, (1.0,), (2.0,))[1], 2 * np.e)
    # and the clip: above 50 the derivative is 0 (the forward is constant there)
    assert float(cr.jvp(weibull.safe_exp, (60.0,), (1.0,))[1]) == 0.0
