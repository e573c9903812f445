"""chainrule.scipy.special: values equal SciPy's; every derivative (reverse, forward, second
order) against central differences (tests/npcheck.py), PyTorch's torch.special gradients
(float64, first and second order) and HIPS autograd's for complex input."""
import numpy as np
import pytest
import scipy.special as sc

import chainrule as cr
import chainrule.scipy.special as sp
from npcheck import check

SHAPES = [(), (3,), (2, 3)]

# name: (low, high) of the test points (inside the domain, away from poles and kinks)
UNARY = {
    "gammaln": (0.5, 4), "digamma": (0.5, 4), "psi": (0.5, 4), "gamma": (0.5, 3),
    "rgamma": (0.5, 3), "erf": (-1.5, 1.5), "erfc": (-1.5, 1.5), "erfinv": (-0.8, 0.8),
    "erfcinv": (0.2, 1.8), "erfcx": (-1, 2), "ndtr": (-2, 2), "log_ndtr": (-3, 2),
    "ndtri": (0.1, 0.9), "expit": (-3, 3), "logit": (0.1, 0.9), "log_expit": (-3, 3),
    "expm1": (-1, 1), "log1p": (-0.5, 2), "exp2": (-1, 1), "exp10": (-1, 1),
    "cbrt": (0.3, 2), "entr": (0.2, 2), "i0": (-3, 3), "i1": (-3, 3), "i0e": (0.3, 3),
    "i1e": (0.3, 3), "j0": (0.5, 5), "j1": (0.5, 5), "y0": (0.5, 5), "y1": (0.5, 5),
    "k0": (0.3, 3), "k1": (0.3, 3),
}


def _points(shape, lo, hi, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, shape):
    f = getattr(sp, name)
    x = _points(shape, *UNARY[name])
    np.testing.assert_allclose(np.asarray(f(x)), getattr(sc, name)(x), rtol=1e-14)
    check(f, x)


@pytest.mark.parametrize("name, lo, hi", [("cbrt", -2, -0.3), ("i0e", -3, -0.3),
                                          ("i1e", -3, -0.3), ("erfcx", -3, -1),
                                          ("gammaln", -2.8, -2.2), ("digamma", -1.8, -1.2),
                                          ("gamma", -0.9, -0.1), ("rgamma", -2.9, -2.1)])
def test_unary_other_side(name, lo, hi):
    check(getattr(sp, name), _points((4,), lo, hi))


# name: (domain of the first input, domain of the second, differentiated inputs)
BINARY = {
    "beta": ((0.5, 3), (0.5, 3), (0, 1)),
    "betaln": ((0.5, 3), (0.5, 3), (0, 1)),
    "xlogy": ((-2, 2), (0.3, 3), (0, 1)),
    "xlog1py": ((-2, 2), (-0.5, 2), (0, 1)),
    "rel_entr": ((0.2, 2), (0.2, 2), (0, 1)),
    "kl_div": ((0.2, 2), (0.2, 2), (0, 1)),
    "gammainc": ((0.5, 3), (0.2, 3), (0, 1)),
    "gammaincc": ((0.5, 3), (0.2, 3), (0, 1)),
}


@pytest.mark.parametrize("shapes", [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((3, 1), (4,)),
                                    ((), (2, 2))], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, shapes):
    (lo0, hi0), (lo1, hi1), argnums = BINARY[name]
    x, y = _points(shapes[0], lo0, hi0, 1), _points(shapes[1], lo1, hi1, 2)
    np.testing.assert_allclose(np.asarray(getattr(sp, name)(x, y)), getattr(sc, name)(x, y),
                               rtol=1e-13)
    check(getattr(sp, name), x, y, argnums=argnums)


@pytest.mark.parametrize("shape", [(), (2, 2)], ids=str)
def test_betainc(shape):
    a, b = _points(shape, 0.5, 3, 1), _points((2,) if shape else (), 0.5, 3, 2)
    x = _points(shape, 0.1, 0.9, 3)
    np.testing.assert_allclose(np.asarray(sp.betainc(a, b, x)), sc.betainc(a, b, x), rtol=1e-14)
    check(sp.betainc, a, b, x)


# (a, b, x) on both sides of the continued fraction's switch, small and large parameters
BETAINC_POINTS = [(0.5, 0.5, 0.3), (2.0, 3.0, 0.4), (2.0, 3.0, 0.8), (0.1, 5.0, 0.01),
                  (10.0, 20.0, 0.3), (50.0, 30.0, 0.65), (1.0, 1.0, 0.5), (300.0, 200.0, 0.61)]


def test_betainc_in_a_b_against_mpmath():
    """d/da, d/db, d2/da db, d2/da2 and d2/da dx of I_x(a, b) against mpmath's."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30

    def I(a, b, x):  # noqa: E743
        return mpmath.betainc(a, b, 0, x, regularized=True)
    a, b, x = (np.array(v) for v in zip(*BETAINC_POINTS))

    def d(k):
        return cr.grad(lambda *p: cr.sum(sp.betainc(*p)), argnums=k)
    ga, gb = d(0)(a, b, x), d(1)(a, b, x)
    gab = cr.grad(lambda b: cr.sum(d(0)(a, b, x)))(b)
    gaa = cr.grad(lambda a: cr.sum(d(0)(a, b, x)))(a)
    gax = cr.grad(lambda x: cr.sum(d(0)(a, b, x)))(x)
    for k, (ai, bi, xi) in enumerate(BETAINC_POINTS):
        ref = [mpmath.diff(lambda t: I(t, bi, xi), ai), mpmath.diff(lambda t: I(ai, t, xi), bi),
               mpmath.diff(lambda s, t: I(s, t, xi), (ai, bi), (1, 1)),
               mpmath.diff(lambda t: I(t, bi, xi), ai, 2),
               mpmath.diff(lambda s, t: I(s, bi, t), (ai, xi), (1, 1))]
        tol = 1e-12 if ai < 100 else 1e-10
        np.testing.assert_allclose([ga[k], gb[k], gab[k], gaa[k], gax[k]],
                                   [float(r) for r in ref], rtol=tol, atol=1e-14,
                                   err_msg=f"a={ai} b={bi} x={xi}")


def test_betainc_edges():
    # I_0 = 0 and I_1 = 1 for every a, b: no change with a, b there
    ga, gb = cr.grad(lambda a, b: cr.sum(sp.betainc(a, b, np.array([0.0, 1.0]))),
                     argnums=(0, 1))(np.array([1.5, 2.0]), np.array([2.5, 0.7]))
    np.testing.assert_array_equal(ga, [0.0, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0])


# orders: static, differentiable in the second input only
ORDERED = {
    "polygamma": ([0, 1, 2], (0.5, 3)),
    "iv": ([0, 1.5, -2], (0.3, 3)),
    "ive": ([0, 1.5, 3], (0.3, 3)),
    "jv": ([0, 1.5, -2], (0.5, 5)),
    "jn": ([0, 1, 3], (0.5, 5)),
    "yv": ([0, 1.5, 2], (0.5, 5)),
    "yn": ([0, 1, 3], (0.5, 5)),
    "kv": ([0, 1.5, 2], (0.3, 3)),
}


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_ordered(name):
    orders, (lo, hi) = ORDERED[name]
    f = getattr(sp, name)
    for n in orders:
        x = _points((3,), lo, hi, int(abs(n) * 10) + 7)
        np.testing.assert_allclose(np.asarray(f(n, x)), getattr(sc, name)(n, x), rtol=1e-13)
        check(f, n, x, argnums=(1,))
    # an array of orders broadcast against a matrix of points
    n = np.array(orders[:2])
    x = _points((3, 1), lo, hi, 3)
    check(f, n, x, argnums=(1,))


def test_ive_negative_z():
    check(sp.ive, 1.5, _points((4,), -3, -0.3), argnums=(1,))


@pytest.mark.parametrize("d", [1, 3])
def test_multigammaln(d):
    a = _points((3,), 2, 4)
    np.testing.assert_allclose(np.asarray(sp.multigammaln(a, d)), sc.multigammaln(a, d))
    check(lambda a: sp.multigammaln(a, d), a)


# (a, x): the power series (x < a + 1), the continued fraction, tiny and large a, x near 0
GAMMAINC_POINTS = [(0.1, 0.05), (0.5, 0.3), (1.0, 1.9), (2.0, 5.0), (10.0, 8.0), (10.0, 15.0),
                   (50.0, 45.0), (0.3, 20.0), (0.01, 0.5), (5.0, 1e-3), (200.0, 210.0)]


def test_gammainc_in_a_against_mpmath():
    """d/da, d2/da2, d2/dadx and d3/da3 of P(a, x) against mpmath's to 30 digits."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30

    def P(a, x):
        return mpmath.gammainc(a, 0, x, regularized=True)
    a = np.array([p[0] for p in GAMMAINC_POINTS])
    x = np.array([p[1] for p in GAMMAINC_POINTS])
    da = lambda a, x: cr.grad(lambda a: cr.sum(sp.gammainc(a, x)))(a)  # noqa: E731
    d1 = da(a, x)
    d2 = cr.grad(lambda a: cr.sum(da(a, x)))(a)
    dax = cr.grad(lambda x: cr.sum(da(a, x)))(x)
    d3 = cr.grad(lambda a: cr.sum(cr.grad(lambda a: cr.sum(da(a, x)))(a)))(a)
    for k, (ai, xi) in enumerate(GAMMAINC_POINTS):
        ref = [float(mpmath.diff(lambda t: P(t, xi), ai, n)) for n in (1, 2, 3)]
        ref_ax = float(mpmath.diff(P, (ai, xi), (1, 1)))
        tol = 1e-11 if ai < 100 else 1e-9
        np.testing.assert_allclose([d1[k], d2[k], d3[k], dax[k]], ref[:3] + [ref_ax], rtol=tol,
                                   err_msg=f"a={ai} x={xi}")
    gq = cr.grad(lambda a: cr.sum(sp.gammaincc(a, x)))(a)
    np.testing.assert_allclose(gq, -d1, rtol=1e-14)


def test_gammainc_in_a_edges():
    # P(a, 0) = 0 and P(a, inf) = 1 for every a: no change with a there
    g = cr.grad(lambda a: cr.sum(sp.gammainc(a, np.array([0.0, np.inf]))))(np.array([1.5, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0])
    check(lambda a, x: sp.gammainc(a, x), _points((2, 1), 0.5, 4, 8), _points((3,), 0.1, 6, 9))


def test_gammasgn_has_no_derivative():
    x = np.array([-1.5, 0.5, 2.0])
    np.testing.assert_array_equal(sp.gammasgn(x), sc.gammasgn(x))
    g = cr.grad(lambda x: cr.sum(sp.gammasgn(x) * x))(x)
    np.testing.assert_array_equal(g, sc.gammasgn(x))


@pytest.mark.parametrize("f, args, argnum, what", [
    (sp.polygamma, (1.0, 0.7), 0, "order"), (sp.jn, (1.0, 0.7), 0, "order"),
    (sp.iv, (1.0, 0.7), 0, "order"),
])
def test_no_derivative_in_shape_parameters(f, args, argnum, what):
    with pytest.raises(cr.RuleError, match=f"scipy.special.{f.__name__}.*{what}"):
        cr.grad(f, argnums=argnum)(*args)
    with pytest.raises(cr.RuleError, match=what):
        cr.jvp(lambda p: f(*[p if k == argnum else a for k, a in enumerate(args)]),
               (args[argnum],), (1.0,))


def test_lists_of_tensors_are_differentiated():
    g = cr.grad(lambda x: sp.gammaln([x, 2 * x]).sum())(1.5)
    np.testing.assert_allclose(g, sc.digamma(1.5) + 2 * sc.digamma(3.0))


def test_float32_stays_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    for f in (sp.gammaln, sp.erf, sp.expit, sp.ndtr, sp.log_ndtr):
        g = cr.grad(lambda x: cr.sum(f(x)))(x)
        assert g.dtype == np.float32, f.__name__


def test_log_ndtr_far_left_tail():
    # d/dx log Phi(x) ~ -x as x -> -inf: finite where pdf and cdf both underflow
    g = cr.grad(lambda x: cr.sum(sp.log_ndtr(x)))(np.array([-40.0, -300.0]))
    np.testing.assert_allclose(g, [40.0249, 300.0033], rtol=1e-5)


def test_xlogy_at_zero():
    # xlogy(0, y) = 0 for every y: the derivative in y is 0 there, also at y = 0
    gx, gy = cr.grad(lambda x, y: cr.sum(sp.xlogy(x, y)), argnums=(0, 1))(
        np.array([0.0, 0.0, 2.0]), np.array([0.0, 3.0, 4.0]))
    np.testing.assert_array_equal(gy, [0.0, 0.0, 0.5])
    np.testing.assert_allclose(gx, [-np.inf, np.log(3.0), np.log(4.0)])
    gy = cr.grad(lambda y: cr.sum(sp.xlog1py(0.0, y)))(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(gy, [0.0, 0.0])


# ----- logsumexp, softmax ------------------------------------------------------------------------

@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), False),
                                            (-1, False)])
def test_logsumexp(axis, keepdims):
    a = _points((2, 3), -2, 2)
    np.testing.assert_allclose(np.asarray(sp.logsumexp(a, axis=axis, keepdims=keepdims)),
                               sc.logsumexp(a, axis=axis, keepdims=keepdims))
    check(lambda a: sp.logsumexp(a, axis=axis, keepdims=keepdims), a)


@pytest.mark.parametrize("bshape", [(2, 3), (3,), (2, 1), ()], ids=str)
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True)])
def test_logsumexp_weights(bshape, axis, keepdims):
    a = _points((2, 3), -2, 2)
    b = _points(bshape, 0.5, 2, 5)
    np.testing.assert_allclose(np.asarray(sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims)),
                               sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims))
    check(lambda a, b: sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims), a, b)


def test_logsumexp_negative_weights_and_sign():
    a = np.array([[0.3, 1.0, -0.5], [2.0, 0.1, 0.4]])
    b = np.array([[1.0, -2.0, 0.5], [1.5, 1.0, -3.0]])
    out, s = sp.logsumexp(a, axis=1, b=b, return_sign=True)
    ref, rs = sc.logsumexp(a, axis=1, b=b, return_sign=True)
    np.testing.assert_allclose(np.asarray(out), ref)
    np.testing.assert_array_equal(np.asarray(s), rs)
    assert (rs == -1).any() and (rs == 1).any()
    check(lambda a, b: sp.logsumexp(a, axis=1, b=b), a, b)
    out, s = sp.logsumexp(a, return_sign=True)
    np.testing.assert_allclose(np.asarray(out), sc.logsumexp(a))
    assert float(np.asarray(s)) == 1.0


def test_logsumexp_all_minus_inf_has_zero_gradient():
    a = np.array([[-np.inf, -np.inf], [0.0, 1.0]])
    with np.errstate(all="raise"):
        for b in (None, np.array([2.0, 3.0])):
            out = sp.logsumexp(a, axis=1, b=b)
            assert np.asarray(out)[0] == -np.inf
            g = cr.grad(lambda a: cr.sum(sp.logsumexp(a, axis=1, b=b)))(a)
            np.testing.assert_array_equal(g[0], [0.0, 0.0])
            assert np.isfinite(g).all()
    gb = cr.grad(lambda b: cr.sum(sp.logsumexp(a, axis=1, b=b)), argnums=0)(np.ones(2))
    assert np.isfinite(gb).all()


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_softmax_family(axis):
    x = _points((2, 3), -2, 2)
    np.testing.assert_allclose(np.asarray(sp.softmax(x, axis=axis)), sc.softmax(x, axis=axis))
    np.testing.assert_allclose(np.asarray(sp.log_softmax(x, axis=axis)),
                               sc.log_softmax(x, axis=axis))
    check(lambda x: sp.softmax(x, axis=axis), x)
    check(lambda x: sp.log_softmax(x, axis=axis), x)


# ----- oracles -----------------------------------------------------------------------------------

TORCH = {  # our name: (torch.special function, takes an extra leading constant)
    "gammaln": "gammaln", "digamma": "digamma", "erf": "erf", "erfc": "erfc",
    "erfinv": "erfinv", "erfcx": "erfcx", "ndtr": "ndtr", "log_ndtr": "log_ndtr",
    "ndtri": "ndtri", "expit": "expit", "logit": "logit", "expm1": "expm1", "log1p": "log1p",
    "exp2": "exp2", "entr": "entr", "i0": "i0", "i1": "i1", "i0e": "i0e", "i1e": "i1e",
}  # torch.special's bessel_j0/j1/y0/y1 and modified_bessel_k0/k1 have no derivative:
# autograd is their oracle (test_autograd_oracle_real)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_torch_oracle_unary(name):
    torch = pytest.importorskip("torch")
    x = _points((5,), *UNARY[name])
    c = np.random.default_rng(1).standard_normal(5)
    tf = getattr(torch.special, TORCH[name])
    tx = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad((tf(tx) * torch.tensor(c)).sum(), tx, create_graph=True)
    f = getattr(sp, name)
    g = cr.grad(lambda x: cr.sum(f(x) * c))(x)
    # torch's trigamma is accurate to about 5e-10 (mpmath: polygamma(1, 1.3) = 1.1342534349966193,
    # SciPy 1.1342534349966191, torch 1.134253435540072)
    rtol = 1e-8 if name == "digamma" else 1e-10
    np.testing.assert_allclose(g, tg.detach().numpy(), rtol=rtol, atol=1e-12)
    try:
        (th,) = torch.autograd.grad(tg.sum(), tx)
    except RuntimeError:
        return  # no second derivative in torch: central differences cover it (test_unary)
    h = cr.grad(lambda x: cr.sum(cr.grad(lambda x: cr.sum(f(x) * c))(x)))(x)
    np.testing.assert_allclose(h, th.numpy(), rtol=1e-8, atol=1e-12)


def test_torch_oracle_binary():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, x = rng.uniform(0.5, 3, 4), rng.uniform(0.2, 3, 4)
    # torch differentiates gammainc in x only
    cases = [(sp.xlogy, torch.special.xlogy, (0, 1)), (sp.xlog1py, torch.special.xlog1py, (0, 1)),
             (sp.gammainc, torch.special.gammainc, (1,)),
             (sp.gammaincc, torch.special.gammaincc, (1,))]
    for f, tf, argnums in cases:
        ta, tx = torch.tensor(a, requires_grad=True), torch.tensor(x, requires_grad=True)
        tgs = torch.autograd.grad(tf(ta, tx).sum(), [[ta, tx][i] for i in argnums])
        gs = cr.grad(lambda a, x: cr.sum(f(a, x)), argnums=argnums)(a, x)
        for g, tg in zip(gs, tgs):
            np.testing.assert_allclose(g, tg.numpy(), rtol=1e-10, err_msg=f.__name__)
    # polygamma and multigammaln, in x
    for n in (1, 2):
        tx = torch.tensor(x, requires_grad=True)
        (tg,) = torch.autograd.grad(torch.special.polygamma(n, tx).sum(), tx)
        np.testing.assert_allclose(cr.grad(lambda x: cr.sum(sp.polygamma(n, x)))(x), tg.numpy(),
                                   rtol=1e-10)
    tx = torch.tensor(x + 2, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.special.multigammaln(tx, 3).sum(), tx)
    np.testing.assert_allclose(cr.grad(lambda x: cr.sum(sp.multigammaln(x, 3)))(x + 2),
                               tg.numpy(), rtol=1e-10)


def test_torch_oracle_logsumexp():
    torch = pytest.importorskip("torch")
    a = _points((3, 4), -3, 3)
    ta = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.logsumexp(ta, dim=1).sum(), ta)
    np.testing.assert_allclose(cr.grad(lambda a: cr.sum(sp.logsumexp(a, axis=1)))(a), tg.numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["erf", "erfc", "log1p", "expm1", "gamma", "erfcx"])
def test_complex_matches_autograd(name):
    """Holomorphic functions: the VJP is g * f'(z), no conjugate (autograd's convention)."""
    import autograd.scipy.special as asp
    from autograd import make_vjp
    z = np.array([0.3 + 0.4j, -0.5 + 0.2j, 1.1 - 0.3j])
    g = np.array([1.0 - 0.5j, 0.2 + 1.0j, -0.7 + 0.1j])
    ours = cr.vjp(getattr(sp, name), z)[1](g)[0]
    if hasattr(asp, name):
        theirs = make_vjp(getattr(asp, name))(z)[0](g)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    # and against the complex derivative by central differences (holomorphic: f'(z))
    h = 1e-6
    f = getattr(sc, name)
    np.testing.assert_allclose(ours, g * (f(z + h) - f(z - h)) / (2 * h), rtol=1e-7)


def test_autograd_oracle_real():
    import autograd.scipy.special as asp
    from autograd import elementwise_grad
    x = np.array([0.4, 1.3, 2.7])
    for name in ["gammaln", "digamma", "gamma", "rgamma", "erfinv", "expit", "logit", "i0",
                 "i1", "j0", "j1", "y0", "y1", "erfcinv"]:
        pts = x / 3 if name in ("erfinv", "logit", "ndtri") else x
        np.testing.assert_allclose(cr.grad(lambda x: cr.sum(getattr(sp, name)(x)))(pts),
                                   elementwise_grad(getattr(asp, name))(pts), rtol=1e-10,
                                   err_msg=name)


def test_passthrough_keeps_working():
    np.testing.assert_allclose(sp.spence(1.0), 0.0)  # a name without a rule: SciPy's own
    x = cr.tensor(np.array(2.0), requires_grad=True)
    with pytest.raises(TypeError, match="scipy.special.spence"):
        sp.spence(x)
    assert set(sp.__all__) <= set(dir(sp))


def test_multigammaln_d_by_keyword():
    g = cr.grad(lambda a: sp.multigammaln(a, d=2))(3.0)
    np.testing.assert_allclose(g, sc.digamma(3.0) + sc.digamma(2.5))


def test_plain_values_run_scipy():
    out = np.empty(2)
    sp.gammaln(np.array([1.5, 2.5]), out=out)  # SciPy's own ufunc, keywords included
    np.testing.assert_allclose(out, sc.gammaln([1.5, 2.5]))
    with pytest.raises(TypeError, match="scipy.special.gammaln: keyword arguments"):
        cr.grad(lambda x: cr.sum(sp.gammaln(x, out=out)))(np.array([1.5, 2.5]))


@pytest.mark.parametrize("name", ["gammaln", "erf", "logsumexp", "xlogy", "softmax"])
def test_empty(name):
    x = np.zeros((0, 3)) + 0.5
    f = getattr(sp, name)
    if name == "xlogy":
        g = cr.grad(lambda x: cr.sum(f(x, x)))(x)
    elif name == "logsumexp":
        g = cr.grad(lambda x: cr.sum(f(x, axis=0)))(x)
        np.testing.assert_array_equal(np.asarray(f(x, axis=0)), sc.logsumexp(x, axis=0))
    elif name == "softmax":  # over the non-empty axis (SciPy refuses an empty one, as we do)
        g = cr.grad(lambda x: cr.sum(f(x, axis=1)))(x)
    else:
        g = cr.grad(lambda x: cr.sum(f(x)))(x)
    assert g.shape == (0, 3)


@pytest.mark.parametrize("name, v", [("iv", 1.5), ("ive", 0.5), ("jv", 2.0), ("yv", 1.0),
                                     ("kv", 0.5)])
def test_bessel_complex(name, v):
    """Holomorphic in z: the VJP is g * f'(z) (autograd's convention), f' by differences."""
    z = np.array([0.7 + 0.4j, 1.5 - 0.8j, -0.6 + 1.1j])
    g = np.array([1.0 - 0.5j, 0.2 + 1.0j, -0.7 + 0.1j])
    f = getattr(sc, name)
    ours = cr.vjp(lambda z: getattr(sp, name)(v, z), z)[1](g)[0]
    h = 1e-6
    np.testing.assert_allclose(ours, g * (f(v, z + h) - f(v, z - h)) / (2 * h), rtol=1e-7)
    _, t = cr.jvp(lambda z: getattr(sp, name)(v, z), (z,), (g,))
    np.testing.assert_allclose(t, ours, rtol=1e-12)  # f'(z) g both ways (diagonal Jacobian)


@pytest.mark.parametrize("f, args", [
    (sp.gammaln, (np.array([0.7, 2.5]),)), (sp.erfinv, (np.array([0.3, -0.6]),)),
    (lambda z: sp.iv(1.5, z), (np.array([0.7, 2.5]),)),
    (sp.gammainc, (np.array([0.7, 2.5]), np.array([1.1, 3.0]))),
    (sp.betainc, (np.array([0.7, 2.5]), np.array([1.5, 0.8]), np.array([0.3, 0.6]))),
    (lambda a, b: sp.logsumexp(a, b=b), (np.array([0.3, -1.0, 2.0]), np.array([1.0, 2.0, 0.5]))),
])
def test_forward_over_forward(f, args):
    """jvp of jvp: the second directional derivative, against a difference of first ones."""
    rng = np.random.default_rng(3)
    ts = tuple(rng.standard_normal(np.shape(a)) for a in args)

    def d1(*p):
        return cr.jvp(f, p, ts)[1]
    second = cr.jvp(d1, args, ts)[1]
    h = 1e-5
    plus = np.asarray(d1(*[a + h * t for a, t in zip(args, ts)]))
    minus = np.asarray(d1(*[a - h * t for a, t in zip(args, ts)]))
    np.testing.assert_allclose(second, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name, domains, argnums", [
    ("gammaincinv", [(0.5, 3), (0.1, 0.9)], None), ("gammainccinv", [(0.5, 3), (0.1, 0.9)], None),
    ("betaincinv", [(0.5, 3), (0.5, 3), (0.1, 0.9)], None),
    ("betainccinv", [(0.5, 3), (0.5, 3), (0.1, 0.9)], None),
    ("erfi", [(-1.5, 1.5)], None), ("dawsn", [(-3, 3)], None), ("ndtri_exp", [(-6, -0.1)], None),
    ("loggamma", [(0.3, 4)], None), ("softplus", [(-3, 3)], None), ("exp1", [(0.2, 3)], None),
    ("expi", [(0.2, 3)], None), ("wrightomega", [(-2, 2)], None),
    ("owens_t", [(-2, 2), (-2, 2)], None), ("zeta", [(1.5, 4), (0.3, 3)], (1,)),
    ("lambertw", [(-0.3, 3)], None),
])
def test_more_functions(name, domains, argnums):
    args = [_points((3,), lo, hi, k) for k, (lo, hi) in enumerate(domains)]
    np.testing.assert_allclose(np.asarray(getattr(sp, name)(*args)), getattr(sc, name)(*args),
                               rtol=1e-14)
    check(getattr(sp, name), *args, argnums=argnums)
    if len(args) > 1:  # broadcasting: the first input a column
        args[0] = args[0][:2, None]
        check(getattr(sp, name), *args, argnums=argnums, order=1)


def test_expn_orders():
    n, x = np.array([0, 1, 4]), np.array([0.4, 1.3, 2.2])
    np.testing.assert_allclose(np.asarray(sp.expn(n, x)), sc.expn(n, x))
    check(sp.expn, n, x, argnums=(1,))
    check(lambda x: sp.expn(2, x), x)


def test_zeta_riemann_and_no_derivative_in_x():
    np.testing.assert_allclose(sp.zeta(2.0), np.pi ** 2 / 6)
    with pytest.raises(cr.RuleError, match="scipy.special.zeta.*x"):
        cr.grad(sp.zeta)(2.0)


def test_inverses_invert():
    a, b, y = 1.7, 2.3, 0.35
    x = sp.gammaincinv(a, y)
    ga, gy = cr.grad(sp.gammaincinv, argnums=(0, 1))(a, y)
    # implicit differentiation of P(a, x(a, y)) = y
    pa = cr.grad(sp.gammainc, argnums=0)(a, x)
    px = cr.grad(sp.gammainc, argnums=1)(a, x)
    np.testing.assert_allclose([ga, gy], [-pa / px, 1 / px], rtol=1e-12)
    x = sp.betaincinv(a, b, y)
    g = cr.grad(sp.betaincinv, argnums=(0, 1, 2))(a, b, y)
    d = cr.grad(sp.betainc, argnums=(0, 1, 2))(a, b, x)
    np.testing.assert_allclose(g, [-d[0] / d[2], -d[1] / d[2], 1 / d[2]], rtol=1e-12)


@pytest.mark.parametrize("name", ["loggamma", "lambertw", "wrightomega", "erfi", "dawsn"])
def test_more_complex(name):
    z = np.array([0.7 + 0.4j, 1.5 - 0.8j, 0.6 + 1.1j])
    g = np.array([1.0 - 0.5j, 0.2 + 1.0j, -0.7 + 0.1j])
    f = getattr(sc, name)
    ours = cr.vjp(getattr(sp, name), z)[1](g)[0]
    h = 1e-6
    np.testing.assert_allclose(ours, g * (f(z + h) - f(z - h)) / (2 * h), rtol=1e-7)


def test_fuzz_logsumexp():
    """Random shapes, axes, keepdims and broadcast weights b (hypothesis, seeded): values equal
    SciPy's, derivatives in a and b agree with central differences."""
    import os
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @st.composite
    def case(draw):
        ndim = draw(st.integers(0, 3))
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
        axis = None
        if ndim and draw(st.booleans()):
            axis = tuple(draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim)))
            if len({a % ndim for a in axis}) != len(axis):
                hypothesis.reject()  # a repeated axis: NumPy refuses it too
        bshape = None
        if draw(st.booleans()):  # b broadcasts against a: a suffix of a's shape, some 1s
            k = draw(st.integers(0, ndim))
            bshape = tuple(1 if draw(st.booleans()) else s for s in shape[ndim - k:])
        return shape, axis, draw(st.booleans()), bshape

    @hypothesis.settings(max_examples=int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", 20)),
                         derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case())
    def run(c):
        shape, axis, keepdims, bshape = c
        a = _points(shape, -2, 2, 1)
        if bshape is None:
            np.testing.assert_allclose(np.asarray(sp.logsumexp(a, axis=axis, keepdims=keepdims)),
                                       sc.logsumexp(a, axis=axis, keepdims=keepdims))
            check(lambda a: sp.logsumexp(a, axis=axis, keepdims=keepdims), a, order=1)
            return
        b = _points(bshape, 0.5, 2, 2)
        np.testing.assert_allclose(
            np.asarray(sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims)),
            sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims))
        check(lambda a, b: sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims), a, b, order=1)

    run()


def test_incomplete_gamma_beta_in_parameters_on_a_grid():
    """Many points at once (both branches, one array): finite, and equal to central differences
    of SciPy's own functions. (Once, a continued fraction's stopping test of 1e-16 could not be
    met at one ulp and every call ran to the iteration cap: this test took minutes.)"""
    rng = np.random.default_rng(11)
    a, x = rng.uniform(0.1, 50, 400), rng.uniform(0.01, 100, 400)
    g = cr.grad(lambda a: cr.sum(sp.gammainc(a, x)))(a)
    h = 1e-6
    np.testing.assert_allclose(g, (sc.gammainc(a + h, x) - sc.gammainc(a - h, x)) / (2 * h),
                               rtol=1e-5, atol=1e-9)
    b, y = rng.uniform(0.1, 50, 400), rng.uniform(0.001, 0.999, 400)
    ga, gb = cr.grad(lambda a, b: cr.sum(sp.betainc(a, b, y)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, (sc.betainc(a + h, b, y) - sc.betainc(a - h, b, y)) / (2 * h),
                               rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(gb, (sc.betainc(a, b + h, y) - sc.betainc(a, b - h, y)) / (2 * h),
                               rtol=1e-5, atol=1e-9)
