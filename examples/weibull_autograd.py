"""The same Weibull fit written for HIPS autograd: the oracle and the peer of the benchmark.

Identical to weibull_survival.py except for the imports, as a user moving over sees it.
"""
import autograd.numpy as np
import numpy as onp
import scipy.optimize
from autograd import hessian, value_and_grad
from autograd.extend import defvjp, primitive
from autograd.misc import flatten


@primitive
def safe_exp(x):
    return onp.exp(onp.minimum(x, 50.0))


defvjp(safe_exp, lambda ans, x: lambda g: g * ans * (x < 50.0))


def negative_log_likelihood(params, X, t, d):
    log_lam = np.dot(X, params["beta"]) + params["b0"]
    k = 1e-3 + np.logaddexp(0.0, params["r"])
    z = np.log(t) - log_lam
    cum_hazard = safe_exp(k * z)
    log_hazard = np.log(k) - log_lam + (k - 1.0) * z
    return -np.sum(d * log_hazard - cum_hazard)


def fit(X, t, d):
    flat0, unravel = flatten({"beta": onp.zeros(X.shape[1]), "b0": onp.array(0.0),
                              "r": onp.array(0.0)})

    def objective(flat):
        return negative_log_likelihood(unravel(flat), X, t, d)
    vg = value_and_grad(objective)

    def fun(flat):
        v, g = vg(flat)
        return float(v), onp.asarray(g, dtype=float)
    res = scipy.optimize.minimize(fun, flat0, jac=True, method="L-BFGS-B",
                                  options={"gtol": 1e-10, "ftol": 1e-14, "maxiter": 1000})
    H = hessian(objective)(res.x)
    se = onp.sqrt(onp.diag(onp.linalg.inv(H)))
    return unravel(res.x), unravel(se), res
