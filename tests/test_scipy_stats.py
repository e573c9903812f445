"""chainrule.scipy.stats: values against SciPy, derivatives in x and every parameter against
central differences (both modes, second order), PyTorch's distributions and HIPS autograd."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from fd import numeric_grad
from npcheck import check

st = pytest.importorskip("chainrule.scipy.stats")
sst = pytest.importorskip("scipy.stats")

# name, shape parameters, loc, scale, points inside the support (away from kinks)
CONTINUOUS = [
    ("norm", (), 0.3, 1.7, [-1.5, 0.2, 2.5]),
    ("t", (3.5,), 0.1, 1.2, [-1.5, 0.4, 2.5]),
    ("beta", (2.3, 1.7), -0.5, 2.0, [-0.3, 0.4, 1.2]),
    ("gamma", (2.2,), -1.0, 0.8, [-0.5, 0.3, 2.0]),
    ("chi2", (3.3,), -1.6, 1.1, [-1.0, 0.3, 2.0]),
    ("expon", (), -0.5, 1.3, [-0.2, 0.5, 2.0]),
    ("laplace", (), 0.2, 0.9, [-1.5, -0.1, 1.1]),
    ("logistic", (), 0.2, 0.9, [-1.5, 0.1, 2.1]),
    ("uniform", (), -1.0, 2.5, [-0.8, 0.3, 1.2]),
]
METHODS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
X_ALL = np.array([-3.0, -1.5, -0.2, 0.0, 0.3, 0.7, 1.0, 2.5, 40.0])


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(f(*a, **k))


@pytest.mark.parametrize("name,shapes,loc,scale,xs", CONTINUOUS)
@pytest.mark.parametrize("method", METHODS)
def test_values(name, shapes, loc, scale, xs, method):
    ours = _quiet(getattr(getattr(st, name), method), X_ALL, *shapes, loc=loc, scale=scale)
    ref = _quiet(getattr(getattr(sst, name), method), X_ALL, *shapes, loc=loc, scale=scale)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-300)
    # positional loc/scale and the frozen form agree
    np.testing.assert_allclose(_quiet(getattr(getattr(st, name), method), X_ALL, *shapes,
                                      loc, scale), ref, rtol=1e-10, atol=1e-300)
    frozen = getattr(st, name)(*shapes, loc=loc, scale=scale)
    np.testing.assert_allclose(_quiet(getattr(frozen, method), X_ALL), ref, rtol=1e-10,
                               atol=1e-300)


@pytest.mark.parametrize("name,shapes,loc,scale,xs", CONTINUOUS)
@pytest.mark.parametrize("method", METHODS)
def test_derivatives(name, shapes, loc, scale, xs, method):
    dist = getattr(st, name)
    k = len(shapes)

    def f(x, loc, scale, *shapes):
        return getattr(dist, method)(x, *shapes, loc=loc, scale=scale)
    args = [np.array(xs), np.array(loc), np.array(scale)] + [np.array(s) for s in shapes]
    check(f, *args, order=2 if method in ("logpdf", "cdf") else 1)


@pytest.mark.parametrize("name,shapes", [("t", (3.5,)), ("t", (0.7,)), ("beta", (2.3, 0.6)),
                                         ("gamma", (2.2,)), ("chi2", (3.3,))])
@pytest.mark.parametrize("method", ["cdf", "logsf"])
def test_cdf_in_shape_parameters_vs_scipy(name, shapes, method):
    # differences of SciPy's own cdf (not of ours) in each shape parameter
    x = {"beta": [0.05, 0.3, 0.9], "t": [-2.0, 0.3, 4.0]}.get(name, [0.3, 1.5, 6.0])
    for i in range(len(shapes)):
        def ref(p):
            s = list(shapes)
            s[i] = float(p)
            return float(np.sum(getattr(getattr(sst, name), method)(x, *s)))

        def ours(p):
            s = list(shapes)
            s[i] = p
            return cr.sum(getattr(getattr(st, name), method)(np.array(x), *s))
        num = numeric_grad(ref, [np.array(shapes[i])], 0)
        np.testing.assert_allclose(cr.grad(ours)(np.array(shapes[i])), num, rtol=1e-6)


def test_tails_are_finite():
    z = np.array([-40.0, -10.0, 0.0, 10.0, 40.0])
    for f, ref in ((st.norm.logcdf, sst.norm.logcdf), (st.norm.logsf, sst.norm.logsf),
                   (st.logistic.logcdf, sst.logistic.logcdf),
                   (st.logistic.logsf, sst.logistic.logsf)):
        np.testing.assert_allclose(f(z), ref(z), rtol=1e-12)
        g = cr.grad(lambda x: cr.sum(f(x)))(z)
        assert np.all(np.isfinite(g))
    # d/dz log ndtr(z) -> -z as z -> -inf
    assert cr.grad(st.norm.logcdf)(-40.0) == pytest.approx(40.0, rel=1e-3)
    assert cr.grad(st.laplace.cdf)(0.0) == pytest.approx(0.5)   # the density at the kink
    assert cr.grad(st.expon.logcdf)(1e-8) == pytest.approx(1e8, rel=1e-6)


def test_outside_support_gradient_is_zero_not_nan():
    for f in (lambda x: st.beta.logpdf(x, 2.0, 3.0), lambda x: st.gamma.logpdf(x, 2.0),
              lambda x: st.chi2.logpdf(x, 3.0), lambda x: st.expon.logpdf(x),
              lambda x: st.uniform.logpdf(x)):
        x = np.array([-2.0, 5.0, 0.5])
        out = np.asarray(f(x))
        assert out[0] == -np.inf
        g = cr.grad(lambda x: cr.sum(cr.where(np.isfinite(out), f(x), 0.0)))(x)
        assert g[0] == 0 and np.all(np.isfinite(g))


# ----- poisson ----------------------------------------------------------------------
@pytest.mark.parametrize("method", ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"])
def test_poisson(method):
    k = np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 7.0])
    ours = _quiet(getattr(st.poisson, method), k, 2.3)
    np.testing.assert_allclose(ours, _quiet(getattr(sst.poisson, method), k, 2.3), rtol=1e-10)
    # inside the support (log-probabilities are finite there)
    kk = np.array([0.0, 1.0, 3.0, 7.0]) if method == "logpmf" else np.array([0.0, 1.0, 2.5, 7.0])
    check(lambda mu: getattr(st.poisson, method)(kk, mu), np.array(2.3))
    check(lambda mu: getattr(st.poisson, method)(kk + 1, mu, loc=1),
          np.array([2.3, 1.1, 0.5, 4.0]))


def test_poisson_k_is_not_differentiable():
    with pytest.raises(TypeError, match="count"):
        cr.grad(lambda k: st.poisson.logpmf(k, 2.0))(3.0)


# ----- dirichlet, multivariate_normal ----------------------------------------------
ALPHA = np.array([1.5, 2.0, 0.8])
XD = np.array([[0.2, 0.3], [0.5, 0.1], [0.3, 0.6]])   # components on the first axis


def test_dirichlet():
    np.testing.assert_allclose(st.dirichlet.logpdf(XD, ALPHA), sst.dirichlet.logpdf(XD, ALPHA))
    np.testing.assert_allclose(st.dirichlet.pdf(XD[:, 0], ALPHA), sst.dirichlet.pdf(XD[:, 0],
                                                                                  ALPHA))
    np.testing.assert_allclose(st.dirichlet.logpdf(XD[:2], ALPHA),
                               sst.dirichlet.logpdf(XD[:2], ALPHA))
    np.testing.assert_allclose(st.dirichlet(ALPHA).logpdf(XD), sst.dirichlet(ALPHA).logpdf(XD))
    # x on the simplex: differentiate through its first K-1 components
    check(lambda x, a: st.dirichlet.logpdf(x, a), XD[:2], ALPHA)
    check(lambda x, a: st.dirichlet.pdf(x, a), XD[:2, 1], ALPHA, order=1)
    with pytest.raises(ValueError, match="sum to 1"):
        st.dirichlet.logpdf(np.array([0.2, 0.2, 0.2]), ALPHA)
    with pytest.raises(cr.ShapeError, match="first axis"):
        st.dirichlet.logpdf(np.full(5, 0.2), ALPHA)


MEAN = np.array([0.1, -0.2, 0.4])
COV = np.array([[1.0, 0.3, 0.1], [0.3, 0.8, -0.2], [0.1, -0.2, 1.2]])
XM = np.array([[0.5, 0.1, -0.3], [0.0, 0.2, 1.0]])


@pytest.mark.parametrize("x", [XM, XM[0], np.ones((2, 2, 3))])
@pytest.mark.parametrize("cov", [COV, np.diag(COV), 0.7])
def test_multivariate_normal_values(x, cov):
    for m in ("logpdf", "pdf"):
        ours = getattr(st.multivariate_normal, m)(x, MEAN, cov)
        ref = getattr(sst.multivariate_normal, m)(x, MEAN, cov)
        assert np.shape(ours) == np.shape(ref)
        np.testing.assert_allclose(ours, ref, rtol=1e-10)
    np.testing.assert_allclose(st.multivariate_normal(MEAN, cov).logpdf(x),
                               sst.multivariate_normal(MEAN, cov).logpdf(x), rtol=1e-10)


def test_multivariate_normal_derivatives():
    sym = lambda c: (c + c.T) / 2  # noqa: E731  (the gradient in cov is symmetric)
    # second order on a 2-d distribution (the Hessians are 10 x 10 already)
    check(lambda x, m, c: st.multivariate_normal.logpdf(x, m, sym(c)), XM[:, :2], MEAN[:2],
          COV[:2, :2])
    check(lambda x, m, c: st.multivariate_normal.logpdf(x, m, sym(c)), XM, MEAN, COV, order=1)
    check(lambda x, m, c: st.multivariate_normal.pdf(x, m, sym(c)), XM[0], MEAN, COV, order=1)
    check(lambda x, m, c: st.multivariate_normal.logpdf(x, m, c), XM, MEAN, np.diag(COV),
          order=1)
    check(lambda x, m, c: st.multivariate_normal.logpdf(x, m, c), XM[0], MEAN, np.array(0.7))
    # one dimension: scalar x, mean and variance
    np.testing.assert_allclose(st.multivariate_normal.logpdf(0.3, 0.1, 2.0),
                               sst.multivariate_normal.logpdf(0.3, 0.1, 2.0))
    check(lambda x, m, c: st.multivariate_normal.logpdf(x, m, c), np.array([0.3, -0.4]),
          np.array(0.1), np.array(2.0))


def test_multivariate_normal_entropy_and_batched_mean():
    for cov in (COV, np.diag(COV), 0.7):
        np.testing.assert_allclose(st.multivariate_normal.entropy(MEAN, cov),
                                   sst.multivariate_normal.entropy(MEAN, cov), rtol=1e-12)
        np.testing.assert_allclose(st.multivariate_normal(MEAN, cov).entropy(),
                                   sst.multivariate_normal(MEAN, cov).entropy(), rtol=1e-12)
    # d entropy / d cov = inv(cov) / 2
    np.testing.assert_allclose(cr.grad(lambda c: st.multivariate_normal.entropy(cov=c))(COV),
                               np.linalg.inv(COV) / 2, rtol=1e-10)
    # a mean per point (HIPS autograd broadcasts it): each row its own distribution
    means = np.stack([MEAN, -MEAN])
    ours = st.multivariate_normal.logpdf(XM, means, COV)
    ref = [sst.multivariate_normal.logpdf(x, m, COV) for x, m in zip(XM, means)]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    check(lambda x, m: st.multivariate_normal.logpdf(x, m, COV), XM, means, order=1)


def test_multivariate_normal_errors():
    with pytest.raises(NotImplementedError, match="allow_singular"):
        st.multivariate_normal.logpdf(XM, MEAN, COV, allow_singular=True)
    with pytest.raises(cr.ShapeError, match="last axis"):
        st.multivariate_normal.logpdf(np.ones((2, 2)), MEAN, COV)
    with pytest.raises(cr.ShapeError, match="cov"):
        st.multivariate_normal.logpdf(XM, MEAN, np.ones((2, 2)))


# ----- oracles ----------------------------------------------------------------------
def _torch_grads(make, log_prob_of, values):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(v, requires_grad=True) for v in values]
    log_prob_of(make(*ts), ts).sum().backward()
    return [t.grad.numpy() for t in ts]


TORCH_CASES = [
    # our logpdf(x, *params) and torch's (distribution, x); parameter values
    ("norm", lambda x, m, s: st.norm.logpdf(x, m, s),
     lambda T, m, s: T.Normal(m, s), (0.3, 1.7)),
    ("t", lambda x, df, m, s: st.t.logpdf(x, df, m, s),
     lambda T, df, m, s: T.StudentT(df, m, s), (3.5, 0.1, 1.2)),
    ("beta", lambda x, a, b: st.beta.logpdf(x, a, b),
     lambda T, a, b: T.Beta(a, b), (2.3, 1.7)),
    ("gamma", lambda x, a, s: st.gamma.logpdf(x, a, scale=s),
     lambda T, a, s: T.Gamma(a, 1 / s), (2.2, 0.8)),
    ("chi2", lambda x, df: st.chi2.logpdf(x, df), lambda T, df: T.Chi2(df), (3.3,)),
    ("expon", lambda x, s: st.expon.logpdf(x, scale=s),
     lambda T, s: T.Exponential(1 / s), (1.3,)),
    ("laplace", lambda x, m, s: st.laplace.logpdf(x, m, s),
     lambda T, m, s: T.Laplace(m, s), (0.2, 0.9)),
]


@pytest.mark.parametrize("name,ours,theirs,params", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_torch_log_prob(name, ours, theirs, params):
    torch = pytest.importorskip("torch")
    x = np.array([0.2, 0.45, 0.9])
    values = [x] + [np.array(p) for p in params]
    mine = cr.grad(lambda *a: cr.sum(ours(*a)), tuple(range(len(values))))(*values)
    ref = _torch_grads(lambda *ts: theirs(torch.distributions, *ts[1:]),
                       lambda d, ts: d.log_prob(ts[0]), values)
    np.testing.assert_allclose(float(cr.sum(ours(*values))),
                               float(theirs(torch.distributions, *[torch.tensor(np.array(p))
                                                                   for p in params]).log_prob(
                                   torch.tensor(x)).sum()), rtol=1e-10)
    for m, r in zip(mine, ref):
        np.testing.assert_allclose(m, r, rtol=1e-9, atol=1e-12)


def test_torch_cdfs():
    torch = pytest.importorskip("torch")
    x, m, s = np.array([-1.0, 0.4, 2.0]), np.array(0.3), np.array(1.7)
    for ours, theirs in ((st.norm.cdf, torch.distributions.Normal),
                         (st.laplace.cdf, torch.distributions.Laplace)):
        mine = cr.grad(lambda *a: cr.sum(ours(*a)), (0, 1, 2))(x, m, s)
        ref = _torch_grads(lambda x, m, s: theirs(m, s), lambda d, ts: d.cdf(ts[0]), [x, m, s])
        for a, b in zip(mine, ref):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_torch_poisson_dirichlet_mvn():
    torch = pytest.importorskip("torch")
    D = torch.distributions
    k = np.array([0.0, 1.0, 4.0])
    mine = cr.grad(lambda mu: cr.sum(st.poisson.logpmf(k, mu)))(np.array(2.3))
    ref = _torch_grads(lambda mu: D.Poisson(mu), lambda d, ts: d.log_prob(torch.tensor(k)),
                       [np.array(2.3)])
    np.testing.assert_allclose(mine, ref[0], rtol=1e-10)

    # torch puts the components on the last axis, SciPy on the first
    mine = cr.grad(lambda a: cr.sum(st.dirichlet.logpdf(XD, a)))(ALPHA)
    ref = _torch_grads(lambda a: D.Dirichlet(a), lambda d, ts: d.log_prob(torch.tensor(XD.T)),
                       [ALPHA])
    np.testing.assert_allclose(mine, ref[0], rtol=1e-10)

    mine = cr.grad(lambda x, m, c: cr.sum(st.multivariate_normal.logpdf(x, m, c)),
                   (0, 1, 2))(XM, MEAN, COV)
    ref = _torch_grads(lambda x, m, c: D.MultivariateNormal(m, covariance_matrix=c),
                       lambda d, ts: d.log_prob(ts[0]), [XM, MEAN, COV])
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_autograd_oracle():
    ag = pytest.importorskip("autograd")
    ast = pytest.importorskip("autograd.scipy.stats")
    x = np.array([0.2, 0.45, 0.9])
    pairs = [
        (lambda x, m, s: st.norm.logcdf(x, m, s), lambda x, m, s: ast.norm.logcdf(x, m, s),
         (0.3, 1.7)),
        (lambda x, df, m, s: st.t.logpdf(x, df, m, s),
         lambda x, df, m, s: ast.t.logpdf(x, df, m, s), (3.5, 0.1, 1.2)),
        (lambda x, a, b: st.beta.logpdf(x, a, b), lambda x, a, b: ast.beta.logpdf(x, a, b),
         (2.3, 1.7)),
        (lambda x, a: st.gamma.logpdf(x, a), lambda x, a: ast.gamma.logpdf(x, a), (2.2,)),
    ]  # not chi2: autograd 1.9's chi2.logpdf gives a zero gradient in x (and none in df)
    for ours, theirs, params in pairs:
        values = [x] + [np.array(p) for p in params]
        n = tuple(range(len(values)))
        mine = cr.grad(lambda *a: cr.sum(ours(*a)), n)(*values)
        ref = ag.grad(lambda *a: theirs(*a).sum(), n)(*values)
        for a, b in zip(mine, ref):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # autograd differentiates its multivariate_normal in mean and cov only
    mine = cr.grad(lambda x, m, c: cr.sum(st.multivariate_normal.logpdf(x, m, c)),
                   (1, 2))(XM, MEAN, COV)
    ref = ag.grad(lambda x, m, c: ast.multivariate_normal.logpdf(x, m, c).sum(),
                  (1, 2))(XM, MEAN, COV)
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_t_cdf_at_zero():
    # the cdf's derivative is the density, also at x = loc; in df it is 0 there
    g = cr.grad(lambda x: st.t.cdf(x, 2.5))(0.0)
    assert g == pytest.approx(sst.t.pdf(0.0, 2.5), rel=1e-12)
    assert cr.grad(lambda df: st.t.cdf(0.0, df))(2.5) == 0
    assert cr.hessian(lambda x: st.t.cdf(x, 2.5))(0.0) == pytest.approx(0.0, abs=1e-12)
    # and near 0 it stays accurate (z^2 / (df + z^2) keeps its digits)
    for z in (1e-9, -1e-5, 1e-3):
        assert cr.grad(lambda x: st.t.cdf(x, 2.5))(z) == pytest.approx(sst.t.pdf(z, 2.5),
                                                                       rel=1e-12)


@pytest.mark.filterwarnings("ignore:grad.*does not depend")  # d2/dloc2 of a linear ppf
def test_norm_ppf():
    q = np.array([0.1, 0.5, 0.93])
    np.testing.assert_allclose(st.norm.ppf(q, 1.0, 2.0), sst.norm.ppf(q, 1.0, 2.0))
    np.testing.assert_allclose(cr.grad(lambda s: cr.sum(st.norm(1.0, s).ppf(q)))(2.0),
                               np.sum(sst.norm.ppf(q)))
    check(lambda q, m, s: st.norm.ppf(q, m, s), q, np.array(1.0), np.array(2.0))


def test_parameters_and_passthrough():
    with pytest.raises(TypeError, match="missing the shape"):
        st.beta.logpdf(0.5, 2.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        st.norm.logpdf(0.5, mu=1.0)
    assert st.norm(1.0, 2.0).mean() == 1.0
    assert st.t.rvs(3, size=4, random_state=0).shape == (4,)
    with pytest.raises(TypeError, match="scipy.stats.norm.ppf|no derivative rule"):
        st.t.ppf(cr.tensor(np.array(0.3), requires_grad=True), 3)
    assert st.pearsonr([1.0, 2.0, 3.0], [1.0, 2.0, 3.5])[0] > 0.9   # module pass-through
    for name in st.__all__:
        assert hasattr(getattr(st, name), "logpdf") or hasattr(getattr(st, name), "logpmf")


def test_objects_copy_and_pickle():
    import copy
    import pickle
    for obj in (st.norm, st.poisson, st.multivariate_normal, st.norm(1.0, 2.0)):
        c = copy.copy(obj)
        assert float(c.logpdf(0.5) if hasattr(obj, "logpdf") else 0.0) == \
            float(obj.logpdf(0.5) if hasattr(obj, "logpdf") else 0.0)
        pickle.loads(pickle.dumps(obj))


def test_list_inputs():
    # array-likes as SciPy takes them; a list holding a Tensor is differentiated through it
    np.testing.assert_allclose(st.norm.logpdf([0.1, 0.2], [0.0, 1.0], 2.0),
                               sst.norm.logpdf([0.1, 0.2], [0.0, 1.0], 2.0))
    np.testing.assert_allclose(st.t.cdf([0.1, 0.2], 3), sst.t.cdf([0.1, 0.2], 3))
    np.testing.assert_allclose(st.dirichlet.logpdf([0.2, 0.8], [1.0, 2.0]),
                               sst.dirichlet.logpdf([0.2, 0.8], [1.0, 2.0]))
    np.testing.assert_allclose(st.multivariate_normal.logpdf([0.2, 0.8], [0.0, 1.0],
                                                             [[1.0, 0.0], [0.0, 2.0]]),
                               sst.multivariate_normal.logpdf([0.2, 0.8], [0.0, 1.0],
                                                              [[1.0, 0.0], [0.0, 2.0]]))
    g = cr.grad(lambda m: cr.sum(st.norm.logpdf([0.1, 0.2], [m, 1.0], 2.0)))(0.5)
    assert g == pytest.approx((0.1 - 0.5) / 4.0)


@pytest.mark.parametrize("name,args", [("norm", (0.0, -1.0)), ("norm", (0.0, 0.0)),
                                       ("t", (-1.0,)), ("beta", (2.0, -1.0)), ("gamma", (0.0,)),
                                       ("chi2", (np.array([-1.0, 2.0]),)), ("expon", (0, -2.0))])
def test_invalid_parameters_give_nan_quietly(name, args):
    for m in METHODS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # no warning from the invalid branch
            ours = np.asarray(getattr(getattr(st, name), m)(0.5, *args))
        np.testing.assert_allclose(ours, _quiet(getattr(getattr(sst, name), m), 0.5, *args))
    # the valid entries keep their gradient
    if name == "chi2":
        g = cr.grad(lambda x: cr.sum(cr.where(np.array([False, True]),
                                              st.chi2.logpdf(x, args[0]), 0.0)))(0.5)
        assert g == pytest.approx((2.0 / 2 - 1) / 0.5 - 0.5)
