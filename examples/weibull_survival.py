"""A Weibull survival model with right censoring, fitted the way an autograd user fits it.

The negative log-likelihood is written with ``chainrule.numpy`` (as it would be with
``autograd.numpy``), with a user-defined primitive that has only a VJP rule (a clipped
``exp``, defined autograd's way), fitted with ``scipy.optimize.minimize(method="L-BFGS-B",
jac=True)`` on ``cr.value_and_grad`` over a raveled parameter pytree; standard errors come
from ``cr.hessian`` (which needs forward mode through the VJP-only primitive: its JVP
rule is derived from the VJP rule).

The model: T ~ Weibull(shape k, scale lambda_i), lambda_i = exp(X_i beta + b0),
k = 1e-3 + softplus(r) (so k > 0). Each subject has an event (d = 1, the density f(t))
or is censored (d = 0, the survival S(t)):

    log f(t) = log k - log lambda + (k - 1)(log t - log lambda) - (t / lambda)^k
    log S(t) = -(t / lambda)^k

    python examples/weibull_survival.py      # fits simulated data and prints the estimates
"""
import numpy as onp
import scipy.optimize

import chainrule as cr
import chainrule.numpy as np
from chainrule.extend import defvjp, primitive


@primitive
def safe_exp(x):
    """exp, clipped above so that a wild optimiser step cannot overflow."""
    return onp.exp(onp.minimum(x, 50.0))


# autograd's curried rule form; no JVP rule: forward mode derives it
defvjp(safe_exp, lambda ans, x: lambda g: g * ans * (x < 50.0))


def simulate(n=400, seed=0, beta=(0.8, -0.5), b0=1.0, k=1.5, censor_at=6.0):
    """Covariates X (n, 2), times t, event indicators d (1 = event, 0 = censored)."""
    rng = onp.random.default_rng(seed)
    X = rng.standard_normal((n, len(beta)))
    lam = onp.exp(X @ onp.asarray(beta) + b0)
    t_event = lam * rng.weibull(k, n)
    t_censor = rng.uniform(0.5, censor_at, n)
    t = onp.minimum(t_event, t_censor)
    d = (t_event <= t_censor).astype(float)
    return X, t, d


def negative_log_likelihood(params, X, t, d):
    """-sum over subjects of d log f(t) + (1 - d) log S(t), written with chainrule.numpy."""
    log_lam = np.dot(X, params["beta"]) + params["b0"]
    k = 1e-3 + np.logaddexp(0.0, params["r"])          # softplus: k > 0, stable for large r
    z = np.log(t) - log_lam
    cum_hazard = safe_exp(k * z)                        # (t / lambda)^k
    log_hazard = np.log(k) - log_lam + (k - 1.0) * z
    return -np.sum(d * log_hazard - cum_hazard)


def initial_params(p):
    return {"beta": onp.zeros(p), "b0": onp.array(0.0), "r": onp.array(0.0)}


def fit(X, t, d):
    """(params, standard errors, the scipy result): L-BFGS-B on the raveled pytree."""
    flat0, unravel = cr.ravel_pytree(initial_params(X.shape[1]))

    def objective(flat):
        return negative_log_likelihood(unravel(flat), X, t, d)
    value_and_grad = cr.value_and_grad(objective)

    def fun(flat):
        v, g = value_and_grad(flat)
        return float(v), onp.asarray(g, dtype=float)
    res = scipy.optimize.minimize(fun, flat0, jac=True, method="L-BFGS-B",
                                  options={"gtol": 1e-10, "ftol": 1e-14, "maxiter": 1000})
    H = cr.hessian(objective)(res.x)
    se = onp.sqrt(onp.diag(onp.linalg.inv(H)))
    return unravel(res.x), unravel(se), res


if __name__ == "__main__":
    X, t, d = simulate()
    params, se, res = fit(X, t, d)
    print(f"converged: {res.success} after {res.nit} iterations, NLL = {res.fun:.6f}")
    for name in ("beta", "b0", "r"):
        print(f"{name:5s} = {onp.round(params[name], 4)}  (se {onp.round(se[name], 4)})")
