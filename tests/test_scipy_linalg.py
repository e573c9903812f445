"""chainrule.scipy.linalg: values against SciPy, derivatives against central differences
(both modes, second order), PyTorch and HIPS autograd as oracles."""
import numpy as np
import pytest

import chainrule as cr
from npcheck import check

L = pytest.importorskip("chainrule.scipy.linalg")
sla = pytest.importorskip("scipy.linalg")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _tri(n, lower, seed=0):
    a = np.tril(_rng(seed).standard_normal((n, n))) + 3 * np.eye(n)
    # C order: tests/fd.py perturbs entries through a flat view
    return np.ascontiguousarray(a if lower else a.T)


def _spd(n, seed=0):
    m = _rng(seed).standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


# ----- solve_triangular -----------------------------------------------------------
@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize("bshape", [(3,), (3, 2), (3, 1)])
def test_solve_triangular_values(trans, lower, unit, bshape):
    a, b = _tri(3, lower), _rng(1).standard_normal(bshape)
    np.testing.assert_allclose(
        L.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit),
        sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit), rtol=1e-12)


@pytest.mark.parametrize("trans", [0, 1, 2])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize("bshape", [(3,), (3, 2)])
def test_solve_triangular(trans, lower, unit, bshape):
    a, b = _tri(3, lower), _rng(1).standard_normal(bshape)
    def f(a, b):
        return L.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    # second order on one b shape per (trans, lower): the rules are the same for the others
    check(f, a, b, order=2 if bshape == (3,) and not unit else 1)


def test_solve_triangular_reads_only_its_triangle():
    a, b = _tri(3, True), np.ones(3)
    g = cr.grad(lambda a: cr.sum(L.solve_triangular(a, b, lower=True, unit_diagonal=True)))(a)
    assert np.all(np.triu(g) == 0) and np.any(g != 0)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize("trans", [0, 1])
def test_solve_triangular_torch(upper, unit, trans):
    torch = pytest.importorskip("torch")
    a, b = _tri(4, not upper, seed=2), _rng(3).standard_normal((4, 3))
    c = _rng(4).standard_normal((4, 3))
    f = lambda a, b: cr.sum(L.solve_triangular(a, b, trans=trans, lower=not upper,  # noqa: E731
                                               unit_diagonal=unit) * c)
    ga, gb = cr.grad(f, (0, 1))(a, b)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    # torch solves A X = B; trans=1 solves A^T X = B, the other triangle of A^T
    m = ta.mT if trans else ta
    x = torch.linalg.solve_triangular(m, tb, upper=upper != bool(trans), unitriangular=unit)
    (x * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_solve_triangular_errors():
    with pytest.raises(cr.ShapeError, match="scipy.linalg.solve_triangular"):
        L.solve_triangular(np.ones((2, 3)), np.ones(2))
    with pytest.raises(cr.ShapeError, match="rows"):
        L.solve_triangular(np.eye(3), np.ones(2))
    with pytest.raises(ValueError, match="trans"):
        L.solve_triangular(np.eye(2), np.ones(2), trans="X")
    with pytest.raises(TypeError, match="trans='C'"):
        L.solve_triangular(np.eye(2) + 0j, np.ones(2), trans="C")


# ----- solve_banded -------------------------------------------------------------------
def _banded(lu, n=5, seed=30):
    ab = _rng(seed).standard_normal((lu[0] + lu[1] + 1, n))
    ab[lu[1]] += 4  # diagonally dominant
    return ab


@pytest.mark.parametrize("lu", [(1, 1), (0, 2), (2, 0), (1, 2), (0, 0)])
@pytest.mark.parametrize("bshape", [(5,), (5, 2)])
def test_solve_banded(lu, bshape):
    ab, b = _banded(lu), _rng(31).standard_normal(bshape)
    np.testing.assert_allclose(L.solve_banded(lu, ab, b), sla.solve_banded(lu, ab, b),
                               rtol=1e-12)
    check(lambda ab, b: L.solve_banded(lu, ab, b), ab, b, order=2 if bshape == (5,) else 1)


def test_solve_banded_autograd():
    ag = pytest.importorskip("autograd")
    asla = pytest.importorskip("autograd.scipy.linalg")
    lu, b = (1, 2), _rng(32).standard_normal(5)
    ab, c = _banded(lu), _rng(33).standard_normal(5)
    ours = cr.grad(lambda ab, b: cr.sum(L.solve_banded(lu, ab, b) * c), (0, 1))(ab, b)
    theirs = ag.grad(lambda ab, b: (asla.solve_banded(lu, ab, b) * c).sum(), (0, 1))(ab, b)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_solve_banded_shape_errors():
    with pytest.raises(cr.ShapeError, match="l \\+ u \\+ 1"):
        L.solve_banded((1, 1), np.ones((2, 4)), np.ones(4))
    with pytest.raises(cr.ShapeError, match="rows"):
        L.solve_banded((1, 1), np.ones((3, 4)), np.ones(3))


# ----- solve_sylvester, sqrtm ----------------------------------------------------
def _sylvester_args(n=3, m=2):
    r = _rng(5)
    return (r.standard_normal((n, n)) + 3 * np.eye(n), r.standard_normal((m, m)) + 2 * np.eye(m),
            r.standard_normal((n, m)))


def test_solve_sylvester():
    a, b, q = _sylvester_args()
    np.testing.assert_allclose(L.solve_sylvester(a, b, q), sla.solve_sylvester(a, b, q))
    check(L.solve_sylvester, a, b, q)
    check(L.solve_sylvester, np.array([[2.0]]), np.array([[3.0]]), np.array([[1.0]]))


def test_solve_sylvester_autograd():
    ag = pytest.importorskip("autograd")
    asla = pytest.importorskip("autograd.scipy.linalg")
    a, b, q = _sylvester_args()
    c = _rng(6).standard_normal(q.shape)
    ours = cr.grad(lambda *x: cr.sum(L.solve_sylvester(*x) * c), (0, 1, 2))(a, b, q)
    theirs = ag.grad(lambda *x: (asla.solve_sylvester(*x) * c).sum(), (0, 1, 2))(a, b, q)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_solve_sylvester_shape_error():
    with pytest.raises(cr.ShapeError, match="q must be"):
        L.solve_sylvester(np.eye(2), np.eye(3), np.ones((3, 2)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_sqrtm(n):
    a = _spd(n, seed=n)
    np.testing.assert_allclose(L.sqrtm(a), sla.sqrtm(a), rtol=1e-12)
    check(L.sqrtm, a)


def test_sqrtm_nonsymmetric_and_autograd():
    ag = pytest.importorskip("autograd")
    asla = pytest.importorskip("autograd.scipy.linalg")
    a = _rng(7).standard_normal((3, 3)) * 0.3 + 2 * np.eye(3)   # eigenvalues near 2
    check(L.sqrtm, a)
    c = _rng(8).standard_normal((3, 3))
    np.testing.assert_allclose(cr.grad(lambda a: cr.sum(L.sqrtm(a) * c))(a),
                               ag.grad(lambda a: (asla.sqrtm(a) * c).sum())(a), rtol=1e-9)


def test_sqrtm_near_singular():
    # d sqrt(x)/dx = 1/(2 sqrt x): the rule follows it as A approaches a singular matrix
    for eps in (1e-4, 1e-8):
        g = cr.grad(lambda a: L.sqrtm(a)[1, 1])(np.diag([1.0, eps]))
        assert g[1, 1] == pytest.approx(1 / (2 * np.sqrt(eps)), rel=1e-6)
        assert np.all(np.isfinite(g))


def test_sqrtm_shape_error():
    with pytest.raises(cr.ShapeError, match="scipy.linalg.sqrtm"):
        L.sqrtm(np.ones((2, 3)))


# ----- expm -----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (2, 2, 2)])
def test_expm(shape):
    a = 0.5 * _rng(9).standard_normal(shape)
    np.testing.assert_allclose(L.expm(a), sla.expm(a), rtol=1e-12)
    check(L.expm, a)


def test_expm_torch():
    torch = pytest.importorskip("torch")
    a = _rng(10).standard_normal((4, 4))    # norm > 1: the scaling-and-squaring branch
    c = _rng(11).standard_normal((4, 4))
    ta = torch.tensor(a, requires_grad=True)
    (torch.linalg.matrix_exp(ta) * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(cr.grad(lambda a: cr.sum(L.expm(a) * c))(a), ta.grad.numpy(),
                               rtol=1e-9, atol=1e-12)


def test_expm_frechet_matches_scipy():
    a, e = _rng(12).standard_normal((3, 3)), _rng(13).standard_normal((3, 3))
    _, t = cr.jvp(L.expm, (a,), (e,))
    np.testing.assert_allclose(t, sla.expm_frechet(a, e, compute_expm=False), rtol=1e-10)


# ----- cholesky, cho_factor, cho_solve ----------------------------------------------
@pytest.mark.parametrize("lower", [True, False])
def test_cholesky(lower):
    a = _spd(3)
    np.testing.assert_allclose(L.cholesky(a, lower=lower), sla.cholesky(a, lower=lower),
                               rtol=1e-12)
    # SciPy reads one triangle only (the upper one by default): so do the value and the rule
    skew = a + np.triu(np.ones((3, 3)), 1) if lower else a + np.tril(np.ones((3, 3)), -1)
    np.testing.assert_allclose(L.cholesky(skew, lower=lower), sla.cholesky(skew, lower=lower),
                               rtol=1e-12)
    check(lambda a: L.cholesky(a, lower=lower), a, order=2 if lower else 1)
    g = cr.grad(lambda a: cr.sum(L.cholesky(a, lower=lower)))(a)
    assert np.all((np.triu(g, 1) if lower else np.tril(g, -1)) == 0)


def test_cholesky_torch():
    torch = pytest.importorskip("torch")
    a, c = _spd(4, seed=3), np.tril(_rng(14).standard_normal((4, 4)))
    ta = torch.tensor(a, requires_grad=True)
    (torch.linalg.cholesky((ta + ta.mT) / 2) * torch.tensor(c)).sum().backward()
    g = cr.grad(lambda a: cr.sum(L.cholesky((a + a.T) / 2, lower=True) * c))(a)
    np.testing.assert_allclose(g, ta.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_private_cholesky_is_symmetric():
    # the factor multivariate_normal uses: PyTorch's convention, a symmetric gradient
    torch = pytest.importorskip("torch")
    a, c = _spd(4, seed=3), np.tril(_rng(14).standard_normal((4, 4)))
    ta = torch.tensor(a, requires_grad=True)
    (torch.linalg.cholesky(ta) * torch.tensor(c)).sum().backward()
    g = cr.grad(lambda a: cr.sum(L._cholesky(a) * c))(a)
    np.testing.assert_allclose(g, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    check(lambda a: L._cholesky((a + a.T) / 2), a, order=1)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("bshape", [(3,), (3, 2)])
def test_cho_solve(lower, bshape):
    a, b = _spd(3), _rng(15).standard_normal(bshape)
    c, low = L.cho_factor(a, lower=lower)
    assert low is lower
    ref = sla.cho_solve(sla.cho_factor(a, lower=lower), b)
    np.testing.assert_allclose(L.cho_solve((c, low), b), ref, rtol=1e-12)
    check(lambda a, b: L.cho_solve(L.cho_factor((a + a.T) / 2, lower=lower), b), a, b,
          order=2 if bshape == (3,) else 1)


def test_cho_solve_bad_argument():
    with pytest.raises(TypeError, match="cho_factor"):
        L.cho_solve(np.eye(2), np.ones(2))


# ----- np.linalg aliases and pass-through -------------------------------------------
def test_aliases_on_values():
    a = _spd(3)
    np.testing.assert_allclose(L.inv(a), np.linalg.inv(a))
    np.testing.assert_allclose(L.det(a), np.linalg.det(a))
    np.testing.assert_allclose(L.solve(a, np.ones(3)), np.linalg.solve(a, np.ones(3)))
    np.testing.assert_allclose(L.solve(a, np.ones(3), transposed=True),
                               np.linalg.solve(a.T, np.ones(3)))
    np.testing.assert_allclose(L.eigh(a, eigvals_only=True), np.linalg.eigvalsh(a))


def test_aliases_differentiate_when_np_linalg_has_rules():
    from chainrule.ops import npla
    if np.linalg.inv not in getattr(npla, "NUMPY_IMPLS", {}):
        pytest.skip("np.linalg.inv has no rule yet (chainrule.ops.npla)")
    a, b = _spd(3), np.ones(3)
    ia = np.linalg.inv(a)
    np.testing.assert_allclose(cr.grad(lambda a: cr.sum(L.inv(a)))(a),
                               -ia.T @ np.ones((3, 3)) @ ia.T, rtol=1e-10)
    np.testing.assert_allclose(cr.grad(L.det)(a), np.linalg.det(a) * ia.T, rtol=1e-10)
    np.testing.assert_allclose(cr.grad(lambda b: cr.sum(L.solve(a, b)))(b), ia.T @ np.ones(3),
                               rtol=1e-10)
    np.testing.assert_allclose(cr.grad(lambda b: cr.sum(L.solve(a, b, transposed=True)))(b),
                               ia @ np.ones(3), rtol=1e-10)
    g = cr.grad(lambda a: cr.sum(L.eigh(a, eigvals_only=True)))(a)   # d trace = I
    np.testing.assert_allclose(g, np.eye(3), atol=1e-10)
    w, v = L.eigh(a)
    np.testing.assert_allclose(w, sla.eigh(a)[0], rtol=1e-12)


def test_more_np_linalg_aliases():
    from chainrule.ops import npla
    if np.linalg.svd not in getattr(npla, "NUMPY_IMPLS", {}):
        pytest.skip("np.linalg has no rules yet (chainrule.ops.npla)")
    a = _rng(40).standard_normal((4, 3))
    s = a.T @ a + np.eye(3)
    np.testing.assert_allclose(L.eigvalsh(s), sla.eigvalsh(s), rtol=1e-12)
    np.testing.assert_allclose(L.svd(a, compute_uv=False), sla.svd(a, compute_uv=False))
    for m in (a, a.T.copy()):
        for mode in ("full", "economic", "r"):
            ours, ref = L.qr(m, mode=mode), sla.qr(m, mode=mode)
            assert len(ours) == len(ref)
            for o, r in zip(ours, ref):   # columns of Q (rows of R) are defined up to sign
                np.testing.assert_allclose(np.abs(o), np.abs(r), atol=1e-12)
    np.testing.assert_allclose(L.pinv(a), sla.pinv(a), rtol=1e-10)
    np.testing.assert_allclose(L.norm(a, 1, axis=0), sla.norm(a, 1, axis=0))
    check(lambda s: L.eigvalsh((s + s.T) / 2), s, order=1)
    check(lambda a: L.svd(a, compute_uv=False), a, order=1)
    check(lambda a: L.qr(a, mode="r")[0], a, order=1)
    check(L.pinv, a, order=1)
    check(L.norm, a, order=1)
    with pytest.raises(NotImplementedError, match="scipy.linalg.qr"):
        cr.grad(lambda a: cr.sum(L.qr(a)[0]))(a)   # a tall matrix's full Q is not unique
    with pytest.raises(TypeError, match="pivoting"):
        cr.grad(lambda a: cr.sum(L.qr(a, pivoting=True)[0]))(a)


def test_passthrough():
    p, low, up = L.lu(_spd(3))
    np.testing.assert_allclose(p @ low @ up, _spd(3))
    x = cr.tensor(_spd(2), requires_grad=True)
    with pytest.raises(TypeError, match="scipy.linalg.lu has no derivative rule"):
        L.lu(x)
    with pytest.raises(AttributeError):
        L.no_such_function  # noqa: B018


def test_all_names_exist():
    for name in L.__all__:
        assert callable(getattr(L, name)), name


def _complex(*shape, seed=20):
    r = _rng(seed)
    return r.standard_normal(shape) + 1j * r.standard_normal(shape)


@pytest.mark.parametrize("name", ["expm", "solve_sylvester", "sqrtm", "solve_triangular"])
def test_complex_holomorphic(name):
    # autograd's convention: VJPs without conjugation (npcheck checks both real directions)
    cases = {
        "expm": (L.expm, (0.5 * _complex(3, 3),)),
        "solve_sylvester": (L.solve_sylvester, (_complex(2, 2) + 3 * np.eye(2),
                                                _complex(2, 2, seed=21) + 2 * np.eye(2),
                                                _complex(2, 2, seed=22))),
        "sqrtm": (L.sqrtm, (0.3 * _complex(2, 2) + 2 * np.eye(2),)),
        "solve_triangular": (lambda a, b: L.solve_triangular(a, b, trans=1, lower=True),
                             (np.tril(_complex(3, 3)) + 3 * np.eye(3), _complex(3, 2, seed=23))),
    }
    f, args = cases[name]
    check(f, *args)
    np.testing.assert_allclose(f(*args), getattr(sla, name)(*args) if name != "solve_triangular"
                               else sla.solve_triangular(*args, trans=1, lower=True), rtol=1e-10)


def test_lists_holding_tensors():
    # d/dx sum(expm([[x, 1], [0, x]])) = d/dx (2 e^x + e^x) = 3 e^x
    g = cr.grad(lambda x: cr.sum(L.expm([[x, 1.0], [0.0, x]])))(0.3)
    assert g == pytest.approx(3 * np.exp(0.3), rel=1e-10)
    def x2(x):
        return L.solve_triangular([[2.0, 0.0], [x, 1.0]], [1.0, 1.0], lower=True)[1]
    assert cr.grad(x2)(1.0) == pytest.approx(-0.5, rel=1e-12)   # x2 = 1 - x/2
    np.testing.assert_allclose(L.sqrtm([[4.0, 0.0], [0.0, 9.0]]), np.diag([2.0, 3.0]))
