"""np.linalg (chainrule.ops.npla): every function through tests/npcheck.py (both modes,
second order, central differences) on single matrices, stacks, 1x1 and non-square
shapes; values and gradients against torch.linalg; the conventions at repeated
eigenvalues, at a zero norm, for triangles read, and the refusals.

Decompositions are checked through functions that do not depend on the sign
(phase) of each eigenvector or singular vector: squares of their entries,
reconstructions, eigenvalues.
"""
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import npla as L
from npcheck import check

pytestmark = pytest.mark.filterwarnings("ignore:grad. the output of")

R = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _reseed(request):
    """Each test draws the same numbers whichever tests run before it."""
    R.bit_generator.state = np.random.default_rng(
        [3, zlib.crc32(request.node.nodeid.encode())]).bit_generator.state


def rand(*shape):
    return R.standard_normal(shape)


def crand(*shape):
    return R.standard_normal(shape) + 1j * R.standard_normal(shape)


def wc(n, *batch, c=False):
    """A well-conditioned matrix (or stack): random + n I."""
    return (crand if c else rand)(*batch, n, n) + n * np.eye(n)


def spd(n, *batch):
    x = rand(*batch, n, n)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def ri(z):
    return cr.stack([cr.real(z), cr.real(cr.multiply(z, -1j))])


def sq(x):
    return cr.multiply(x, x)


# ----- inv, solve, det, slogdet, pinv -------------------------------------------------
@pytest.mark.parametrize("a", [wc(3), wc(2, 2), wc(1), wc(2, 2, 1)], ids=["3", "b2x2", "1x1",
                                                                          "b2x1x1"])
def test_inv_det_slogdet(a):
    np.testing.assert_allclose(L.inv(a), np.linalg.inv(a))
    check(L.inv, a)
    check(L.det, a)
    check(lambda x: L.slogdet(x)[1], a)
    sign, logdet = L.slogdet(cr.tensor(a))
    np.testing.assert_array_equal(sign, np.linalg.slogdet(a)[0])


@pytest.mark.parametrize("sa,sb", [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)),
                                   ((2, 3, 3), (2, 3, 1)), ((3, 3), (2, 3, 2)), ((1, 1), (1,))])
def test_solve(sa, sb):
    a, b = rand(*sa) + sa[-1] * np.eye(sa[-1]), rand(*sb)
    np.testing.assert_allclose(L.solve(a, b), np.linalg.solve(a, b), rtol=1e-12)
    check(L.solve, a, b)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 2), (1, 1)])
def test_pinv(shape):
    a = rand(*shape)
    np.testing.assert_allclose(L.pinv(a), np.linalg.pinv(a), atol=1e-12)
    check(L.pinv, a)


def test_complex_inv_solve_det():
    a, b = wc(3, c=True), crand(3, 2)
    check(lambda x: ri(L.inv(x)), a)
    check(lambda x, y: ri(L.solve(x, y)), a, b)
    check(lambda x, y: ri(L.solve(x, y)), a, b[:, 0])
    check(lambda x: ri(L.det(x)), a)
    check(lambda x: L.slogdet(x)[1], a)
    check(lambda x: ri(L.matrix_power(x, -3)), a)
    # holomorphic: no conjugation (autograd's convention): d det = det A^-T
    g = cr.grad(lambda x: cr.real(L.det(x)))(a)
    np.testing.assert_allclose(g, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)


def test_torch_inv_solve_det_pinv():
    torch = pytest.importorskip("torch")
    a, b, p = wc(3, 2), rand(2, 3, 2), rand(4, 3)
    c1, c2, c3, c4 = rand(2, 3, 3), rand(2, 3, 2), rand(2), rand(3, 4)

    def ours(a, b, p):
        return (cr.sum(L.inv(a) * c1) + cr.sum(L.solve(a, b) * c2)
                + cr.sum(L.det(a) * c3) + cr.sum(L.slogdet(a)[1] * c3)
                + cr.sum(L.pinv(p) * c4))
    ta, tb, tp = (torch.tensor(x, requires_grad=True) for x in (a, b, p))
    T = torch.tensor
    tl = ((torch.linalg.inv(ta) * T(c1)).sum() + (torch.linalg.solve(ta, tb) * T(c2)).sum()
          + (torch.linalg.det(ta) * T(c3)).sum() + (torch.linalg.slogdet(ta)[1] * T(c3)).sum()
          + (torch.linalg.pinv(tp) * T(c4)).sum())
    tl.backward()
    v, g = cr.value_and_grad(ours, argnums=(0, 1, 2))(a, b, p)
    np.testing.assert_allclose(v, tl.item(), rtol=1e-12)
    for mine, t in zip(g, (ta, tb, tp)):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_slogdet_near_singular():
    # singular values 1, 1, 1e-9: log|det| and its gradient A^-T stay exact
    u, _ = np.linalg.qr(rand(3, 3))
    v, _ = np.linalg.qr(rand(3, 3))
    a = u @ np.diag([1.0, 1.0, 1e-9]) @ v.T
    g = cr.grad(lambda x: L.slogdet(x)[1])(a)
    np.testing.assert_allclose(g, np.linalg.inv(a).T, rtol=1e-6)
    assert np.isfinite(g).all()


# ----- cholesky -----------------------------------------------------------------------------
@pytest.mark.parametrize("a", [spd(3), spd(2, 2), spd(1)], ids=["3", "b2", "1x1"])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(a, upper):
    np.testing.assert_allclose(L.cholesky(a, upper=upper), np.linalg.cholesky(a, upper=upper))
    check(lambda x: L.cholesky(x, upper=upper), a)


def test_cholesky_reads_one_triangle():
    a = spd(3)
    g = cr.grad(lambda x: cr.sum(L.cholesky(x) * rand(3, 3)))(a)
    assert np.all(np.triu(g, 1) == 0)  # NumPy never reads the upper triangle
    gu = cr.grad(lambda x: cr.sum(L.cholesky(x, upper=True)))(a)
    assert np.all(np.tril(gu, -1) == 0)


def test_torch_cholesky():
    torch = pytest.importorskip("torch")
    b, c = rand(2, 3, 3), rand(2, 3, 3)
    g = cr.grad(lambda x: cr.sum(L.cholesky(cr.matmul(x, cr.transpose(x, (0, 2, 1)))
                                            + 3 * np.eye(3)) * c))(b)
    tb = torch.tensor(b, requires_grad=True)
    (torch.linalg.cholesky(tb @ tb.transpose(-1, -2) + 3 * torch.eye(3, dtype=torch.float64))
     * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(g, tb.grad.numpy(), rtol=1e-9)


# ----- eigh, eigvalsh -----------------------------------------------------------------------
@pytest.mark.parametrize("a", [spd(3), spd(2, 3), spd(1), rand(3, 3)],
                         ids=["3", "b2", "1x1", "nonsymmetric"])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(a, uplo):
    w, v = L.eigh(cr.tensor(a), uplo)
    w0, v0 = np.linalg.eigh(a, uplo)
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(np.abs(v), np.abs(v0))
    check(lambda x: L.eigh(x, uplo)[0], a)
    check(lambda x: sq(L.eigh(x, uplo)[1]), a)  # sign-invariant
    check(lambda x: L.eigvalsh(x, uplo), a, order=1)


def test_eigh_reads_one_triangle():
    a = spd(3)
    c = rand(3, 3)
    for uplo, tri in (("L", np.triu), ("U", np.tril)):
        g = cr.grad(lambda x: cr.sum(sq(L.eigh(x, uplo)[1]) * c))(a)
        assert np.all(tri(g, 1 if uplo == "L" else -1) == 0)


def test_torch_eigh():
    torch = pytest.importorskip("torch")
    b, c1, c2 = rand(2, 3, 3), rand(2, 3), rand(2, 3, 3)

    def ours(x):
        w, v = L.eigh(x + cr.transpose(x, (0, 2, 1)))
        return cr.sum(w * c1) + cr.sum(sq(v) * c2)
    tb = torch.tensor(b, requires_grad=True)
    w, v = torch.linalg.eigh(tb + tb.transpose(-1, -2))
    tl = (w * torch.tensor(c1)).sum() + (v ** 2 * torch.tensor(c2)).sum()
    tl.backward()
    v_, g = cr.value_and_grad(ours)(b)
    np.testing.assert_allclose(v_, tl.item(), rtol=1e-12)
    np.testing.assert_allclose(g, tb.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_eigh_repeated_eigenvalues():
    # eigenvalues 1, 1, 2 in a rotated basis
    q, _ = np.linalg.qr(rand(3, 3))
    a = q @ np.diag([1.0, 1.0, 2.0]) @ q.T
    # eigenvalues alone: finite, and the sum of squares has gradient 2A (one triangle read)
    g = cr.grad(lambda x: cr.sum(sq(L.eigvalsh(x))))(a)
    np.testing.assert_allclose(g, np.tril(2 * a + 2 * a.T, -1) + np.diag(np.diag(2 * a)),
                               atol=1e-12)
    assert np.isfinite(cr.hessian(lambda x: cr.sum(sq(L.eigvalsh(x))))(a)).all()
    # the eigenvectors of an (exactly) repeated eigenvalue: no derivative, nan (as PyTorch)
    d = np.diag([1.0, 1.0, 2.0])
    assert np.linalg.eigvalsh(d)[0] == np.linalg.eigvalsh(d)[1]
    g = cr.grad(lambda x: cr.sum(L.eigh(x)[1][:, 0] * rand(3)))(d)
    assert np.isnan(g).any()
    # the third eigenvector (a simple eigenvalue) keeps a finite gradient
    g = cr.grad(lambda x: cr.sum(sq(L.eigh(x)[1][:, 2]) * rand(3)))(d)
    assert np.isfinite(g).all()


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_complex_hermitian(uplo):
    z = crand(2, 3, 3) + 3 * np.eye(3)  # only one triangle (and Re of the diagonal) is read
    w, v = L.eigh(cr.tensor(z), uplo)
    w0, v0 = np.linalg.eigh(z, uplo)
    assert np.isrealobj(np.asarray(w))
    np.testing.assert_allclose(w, w0)
    np.testing.assert_allclose(np.abs(v), np.abs(v0))
    check(lambda x: L.eigh(x, uplo)[0], z)
    check(lambda x: cr.real(L.eigh(x, uplo)[1] * P_conj(L.eigh(x, uplo)[1])), z)  # |V|^2
    check(lambda x: L.eigvalsh(x, uplo), z)


def test_torch_eigh_complex():
    torch = pytest.importorskip("torch")
    b, c1, c2 = crand(3, 3), rand(3), rand(3, 3)

    def ours(x):
        w, v = L.eigh(x + cr.transpose(P_conj(x)))
        return cr.sum(w * c1) + cr.sum(cr.real(v * P_conj(v)) * c2)
    tb = torch.tensor(b, requires_grad=True)
    w, v = torch.linalg.eigh(tb + tb.conj().T)
    ((w * torch.tensor(c1)).sum() + (v.abs() ** 2 * torch.tensor(c2)).sum()).backward()
    # PyTorch's gradient of a real loss is the conjugate of autograd's (df/dx + i df/dy)
    np.testing.assert_allclose(cr.grad(ours)(b), np.conj(tb.grad.numpy()), rtol=1e-8,
                               atol=1e-10)


# ----- eig, eigvals -------------------------------------------------------------------------
def test_eig_real_eigenvalues():
    p = wc(3)
    a = p @ np.diag([1.0, 2.0, 4.0]) @ np.linalg.inv(p)  # nonsymmetric, real spectrum
    assert np.isrealobj(np.linalg.eigvals(a))  # NumPy then returns real arrays
    check(lambda x: L.eig(x)[0], a)
    check(lambda x: sq(L.eig(x)[1]), a)  # unit-norm columns, sign-invariant
    p2 = wc(3)
    b = np.stack([a, p2 @ np.diag([1.0, -2.0, 3.0]) @ np.linalg.inv(p2)])  # a stack
    check(lambda x: L.eigvals(x), b)


def test_eig_complex_eigenvalues():
    a = np.array([[0.0, 2.0, 0.3], [-1.0, 0.5, 0.1], [0.2, 0.0, 3.0]])
    assert np.iscomplexobj(np.linalg.eigvals(a))
    check(lambda x: ri(L.eigvals(x)), a)
    # |U|^2: invariant to the phase of each eigenvector
    check(lambda x: cr.real(L.eig(x)[1] * P_conj(L.eig(x)[1])), a)
    check(lambda x: ri(L.eigvals(x)), wc(3, c=True))
    check(lambda x: cr.real(L.eig(x)[1] * P_conj(L.eig(x)[1])), wc(3, c=True))


def P_conj(z):
    return cr.conj(z)


def test_torch_eigvals():
    torch = pytest.importorskip("torch")
    a = rand(2, 4, 4)

    def sym_fn(re, im, m):  # symmetric in the eigenvalues: independent of their order
        return m.sum(re * re * im + 2 * re - im * im)
    w = L.eigvals
    g = cr.grad(lambda x: sym_fn(cr.real(w(x)), cr.real(cr.multiply(w(x), -1j)), cr))(a)
    ta = torch.tensor(a, requires_grad=True)
    tw = torch.linalg.eigvals(ta)
    sym_fn(tw.real, tw.imag, torch).backward()
    np.testing.assert_allclose(g, ta.grad.numpy(), rtol=1e-8, atol=1e-10)


# ----- svd ----------------------------------------------------------------------------------
SVD_SHAPES = [(4, 3), (3, 4), (3, 3), (2, 3, 2), (1, 1), (1, 3)]


@pytest.mark.parametrize("shape", SVD_SHAPES, ids=[str(s) for s in SVD_SHAPES])
def test_svd(shape):
    a = rand(*shape)
    k = min(shape[-2:])
    np.testing.assert_allclose(L.svd(cr.tensor(a), compute_uv=False), np.linalg.svd(
        a, compute_uv=False))
    check(lambda x: L.svd(x, compute_uv=False), a)
    check(lambda x: sq(L.svd(x, full_matrices=False)[0]), a)
    check(lambda x: sq(L.svd(x, full_matrices=False)[2]), a)
    # full_matrices: the first k columns of U / rows of Vh (the rest is not unique)
    check(lambda x: sq(L.svd(x)[0][..., :k]) + 0 * cr.sum(L.svd(x)[2][..., :k, :]), a,
          order=1)
    check(lambda x: L.svdvals(x), a, order=1)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3), (2, 2, 2)])
def test_svd_complex(shape):
    z = crand(*shape)
    k = min(shape[-2:])
    s = L.svd(cr.tensor(z), compute_uv=False)
    assert np.isrealobj(np.asarray(s))
    np.testing.assert_allclose(s, np.linalg.svd(z, compute_uv=False))
    check(lambda x: L.svdvals(x), z)
    absq = lambda v: cr.real(v * P_conj(v))  # noqa: E731  |.|^2: phase-invariant
    check(lambda x: absq(L.svd(x, full_matrices=False)[0]), z)
    check(lambda x: absq(L.svd(x, full_matrices=False)[2]), z)
    check(lambda x: absq(L.svd(x)[0][..., :k]), z)
    # u_i conj(v_i)^T: a phase-invariant function mixing both factors
    check(lambda x: ri(cr.matmul(L.svd(x, full_matrices=False)[0],
                                   L.svd(x, full_matrices=False)[2])), z)
    check(lambda x: L.norm(x, "nuc", axis=(-2, -1)), z)


def test_torch_svd_complex():
    torch = pytest.importorskip("torch")
    z, c1, c2 = crand(4, 3), rand(4, 3), rand(3)

    def ours(x):
        u, s, vh = L.svd(x, full_matrices=False)
        return cr.sum(cr.real(u * P_conj(u)) * c1) + cr.sum(s * c2) + L.norm(x, 2)
    tz = torch.tensor(z, requires_grad=True)
    u, s, vh = torch.linalg.svd(tz, full_matrices=False)
    ((u.abs() ** 2 * torch.tensor(c1)).sum() + (s * torch.tensor(c2)).sum()
     + torch.linalg.matrix_norm(tz, 2)).backward()
    np.testing.assert_allclose(cr.grad(ours)(z), np.conj(tz.grad.numpy()), rtol=1e-8,
                               atol=1e-10)


def hpd(n, *batch):
    x = crand(*batch, n, n)
    return x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_complex(upper):
    a = hpd(3, 2)
    # what is not read: the other triangle, the imaginary part of the diagonal
    unread = np.tril(np.ones((3, 3)), -1) if upper else np.triu(np.ones((3, 3)), 1)
    a_junk = a + unread * crand(2, 3, 3) + 1j * np.eye(3) * rand(2, 3, 3)
    np.testing.assert_allclose(L.cholesky(cr.tensor(a_junk), upper=upper),
                               np.linalg.cholesky(a, upper=upper))
    np.testing.assert_allclose(L.cholesky(cr.tensor(a), upper=upper),
                               np.linalg.cholesky(a, upper=upper))
    check(lambda x: ri(L.cholesky(x, upper=upper)), a_junk)
    # only one triangle (and Re of the diagonal) is read: the rest has gradient 0
    g = cr.grad(lambda x: cr.sum(cr.real(L.cholesky(x, upper=upper)) * rand(3, 3)))(a[0])
    assert np.all(g[unread == 1] == 0) and np.all(np.imag(np.diag(g)) == 0)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 3, 2)])
def test_qr_pinv_complex(shape):
    z = crand(*shape)
    q, r = L.qr(cr.tensor(z))
    np.testing.assert_allclose(q, np.linalg.qr(z)[0], atol=1e-12)
    check(lambda x: ri(L.qr(x)[0]), z)
    check(lambda x: ri(L.qr(x)[1]), z)
    np.testing.assert_allclose(L.pinv(cr.tensor(z)), np.linalg.pinv(z), atol=1e-12)
    check(lambda x: ri(L.pinv(x)), z)
    check(lambda x: ri(L.pinv(x)), np.swapaxes(z, -1, -2))


def test_torch_complex_cholesky_qr_pinv():
    torch = pytest.importorskip("torch")
    b, z, c1, c2, c3 = crand(3, 3), crand(4, 3), rand(3, 3), rand(4, 3), rand(3, 4)

    def ours(b, z):
        chol = L.cholesky(cr.matmul(b, cr.transpose(P_conj(b))) + 3 * np.eye(3))
        return (cr.sum(cr.real(chol) * c1) + cr.sum(cr.real(cr.multiply(L.qr(z)[0], -1j)) * c2)
                + cr.sum(cr.real(L.pinv(z)) * c3))
    tb, tz = torch.tensor(b, requires_grad=True), torch.tensor(z, requires_grad=True)
    T = torch.tensor
    chol = torch.linalg.cholesky(tb @ tb.conj().T + 3 * torch.eye(3, dtype=torch.complex128))
    ((chol.real * T(c1)).sum() + (torch.linalg.qr(tz)[0].imag * T(c2)).sum()
     + (torch.linalg.pinv(tz).real * T(c3)).sum()).backward()
    gb, gz = cr.grad(ours, argnums=(0, 1))(b, z)
    np.testing.assert_allclose(gb, np.conj(tb.grad.numpy()), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gz, np.conj(tz.grad.numpy()), rtol=1e-8, atol=1e-10)


def test_torch_svd():
    torch = pytest.importorskip("torch")
    a = rand(2, 4, 3)
    c1, c2, c3 = rand(2, 4, 3), rand(2, 3), rand(2, 3, 3)

    def ours(x):
        u, s, vh = L.svd(x, full_matrices=False)
        return cr.sum(sq(u) * c1) + cr.sum(s * c2) + cr.sum(sq(vh) * c3)
    ta = torch.tensor(a, requires_grad=True)
    u, s, vh = torch.linalg.svd(ta, full_matrices=False)
    tl = (u ** 2 * torch.tensor(c1)).sum() + (s * torch.tensor(c2)).sum() + \
        (vh ** 2 * torch.tensor(c3)).sum()
    tl.backward()
    v, g = cr.value_and_grad(ours)(a)
    np.testing.assert_allclose(v, tl.item(), rtol=1e-12)
    np.testing.assert_allclose(g, ta.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_svd_repeated_singular_values():
    # the singular values of an orthogonal matrix are all 1: finite gradient of their sum
    q, _ = np.linalg.qr(rand(3, 3))
    g = cr.grad(lambda x: cr.sum(L.svd(x, compute_uv=False)))(q)
    np.testing.assert_allclose(g, q, atol=1e-12)  # d ||A||_* = U V^T
    d = np.diag([2.0, 1.0, 1.0])
    g = cr.grad(lambda x: cr.sum(L.svd(x)[0][:, 1] * rand(3)))(d)
    assert np.isnan(g).any()
    g = cr.grad(lambda x: cr.sum(L.svd(x)[0][:, 0] * rand(3)))(d)
    assert np.isfinite(g).all()


# ----- qr -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 3, 2), (1, 1), (3, 1)])
def test_qr(shape):
    a = rand(*shape)
    q, r = L.qr(cr.tensor(a))
    q0, r0 = np.linalg.qr(a)
    np.testing.assert_allclose(q, q0, atol=1e-12)
    np.testing.assert_allclose(r, r0, atol=1e-12)
    check(lambda x: L.qr(x)[0], a)
    check(lambda x: L.qr(x)[1], a)
    check(lambda x: L.qr(x, mode="r"), a, order=1)


def test_torch_qr():
    torch = pytest.importorskip("torch")
    a, c1, c2 = rand(2, 4, 3), rand(2, 4, 3), rand(2, 3, 3)
    ta = torch.tensor(a, requires_grad=True)
    q, r = torch.linalg.qr(ta)
    ((q * torch.tensor(c1)).sum() + (r * torch.tensor(c2)).sum()).backward()
    g = cr.grad(lambda x: cr.sum(L.qr(x)[0] * c1) + cr.sum(L.qr(x)[1] * c2))(a)
    np.testing.assert_allclose(L.qr(a)[0], q.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(g, ta.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_refusals():
    with pytest.raises(NotImplementedError, match=r"np\.linalg\.qr"):
        L.qr(cr.tensor(rand(2, 3), requires_grad=True))
    with pytest.raises(NotImplementedError, match="complete"):
        L.qr(cr.tensor(rand(3, 2), requires_grad=True), mode="complete")
    with pytest.raises(np.linalg.LinAlgError, match="np.linalg.inv.*square"):
        L.inv(cr.tensor(rand(2, 3)))
    with pytest.raises(ValueError, match="UPLO"):
        L.eigh(cr.tensor(spd(2)), "X")


# ----- norm -----------------------------------------------------------------------------------
VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 3, 0.5, -1]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
@pytest.mark.parametrize("shape,axis,keepdims", [((4,), None, False), ((3, 4), 1, False),
                                                 ((3, 4), 0, True), ((2, 3, 2), -2, False)])
def test_vector_norms(ord, shape, axis, keepdims):
    x = rand(*shape)
    np.testing.assert_allclose(L.norm(cr.tensor(x), ord, axis, keepdims),
                               np.linalg.norm(x, ord, axis, keepdims), rtol=1e-12)
    check(lambda y: L.norm(y, ord, axis, keepdims), x, order=1 if ord in (np.inf, -np.inf) else 2)


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("shape,axis,keepdims", [((3, 4), None, False), ((2, 3, 4), (2, 0), True),
                                                 ((2, 3, 3), (1, 2), False)])
def test_matrix_norms(ord, shape, axis, keepdims):
    x = rand(*shape)
    if axis is None and len(shape) > 2:
        pytest.skip("NumPy needs axis for >2-D input")
    np.testing.assert_allclose(L.norm(cr.tensor(x), ord, axis, keepdims),
                               np.linalg.norm(x, ord, axis, keepdims), rtol=1e-12)
    check(lambda y: L.norm(y, ord, axis, keepdims), x,
          order=1 if ord in (1, -1, np.inf, -np.inf) else 2)


def test_norm_all_axes_and_numpy2_names():
    x = rand(2, 3, 2)
    np.testing.assert_allclose(L.norm(cr.tensor(x)), np.linalg.norm(x))
    np.testing.assert_allclose(L.norm(cr.tensor(x), keepdims=True),
                               np.linalg.norm(x, keepdims=True))
    check(L.norm, x)
    np.testing.assert_allclose(L.vector_norm(cr.tensor(x), ord=3, axis=(0, 2)),
                               np.linalg.vector_norm(x, ord=3, axis=(0, 2)))
    check(lambda y: L.vector_norm(y, ord=1), x, order=1)
    np.testing.assert_allclose(L.matrix_norm(cr.tensor(x), ord="nuc"),
                               np.linalg.matrix_norm(x, ord="nuc"))
    check(lambda y: L.matrix_norm(y, ord=2, keepdims=True), x)


def test_norm_at_zero_and_ord0():
    z = np.zeros(3)
    np.testing.assert_array_equal(cr.grad(L.norm)(z), np.zeros(3))  # PyTorch's subgradient
    np.testing.assert_array_equal(cr.grad(lambda x: L.norm(x, "fro"))(np.zeros((2, 2))), 0)
    np.testing.assert_array_equal(cr.jvp(L.norm, (z,), (np.ones(3),))[1], 0.0)
    x = np.array([0.0, 2.0, -1.0])
    assert L.norm(cr.tensor(x), 0) == 2


def test_norm_complex():
    z = crand(2, 3)
    check(lambda y: L.norm(y), z)
    check(lambda y: L.norm(y, 1, axis=1), z)
    check(lambda y: L.norm(y, np.inf, axis=0), z)
    check(lambda y: L.norm(y, 3, axis=0), z)
    g = cr.grad(L.norm)(z)
    np.testing.assert_allclose(g, np.conj(z) / np.linalg.norm(z), rtol=1e-12)


def test_torch_norms():
    torch = pytest.importorskip("torch")
    x = rand(3, 4)
    cases = [(ord, (1,)) for ord in (2, 1, np.inf, -np.inf, 3)] + \
            [(ord, (0, 1)) for ord in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)]
    for ord, axis in cases:
        g = cr.grad(lambda y: cr.sum(L.norm(y, ord, axis)))(x)
        tx = torch.tensor(x, requires_grad=True)
        tn = torch.linalg.norm(tx, ord, dim=axis)
        tn.sum().backward()
        np.testing.assert_allclose(L.norm(cr.tensor(x), ord, axis), tn.detach().numpy(),
                                   rtol=1e-12, err_msg=f"ord={ord} axis={axis}")
        np.testing.assert_allclose(g, tx.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"ord={ord} axis={axis}")
    tz = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    torch.linalg.norm(tz).backward()
    np.testing.assert_array_equal(cr.grad(L.norm)(np.zeros(3)), tz.grad.numpy())


# ----- built from the above ------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 5, -1, -2])
def test_matrix_power(n):
    a = wc(3, 2) / 3
    np.testing.assert_allclose(L.matrix_power(cr.tensor(a), n), np.linalg.matrix_power(a, n),
                               rtol=1e-10)
    if n:
        check(lambda x: L.matrix_power(x, n), a)


def test_multi_dot_tensorinv_tensorsolve():
    torch = pytest.importorskip("torch")
    arrs = [rand(3), rand(3, 4), rand(4, 2), rand(2)]
    np.testing.assert_allclose(L.multi_dot(arrs), np.linalg.multi_dot(arrs), rtol=1e-12)
    check(lambda *a: L.multi_dot(a), *arrs)
    g = cr.grad(lambda *a: L.multi_dot(a), argnums=(0, 1))(*arrs)
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    torch.linalg.multi_dot(ts).backward()
    np.testing.assert_allclose(g[1], ts[1].grad.numpy(), rtol=1e-10, atol=1e-12)
    a = rand(2, 3, 6) + np.eye(6).reshape(2, 3, 6) * 4
    np.testing.assert_allclose(L.tensorinv(cr.tensor(a)), np.linalg.tensorinv(a), rtol=1e-10)
    check(L.tensorinv, a)
    b = rand(2, 3)
    np.testing.assert_allclose(L.tensorsolve(cr.tensor(a), b), np.linalg.tensorsolve(a, b),
                               rtol=1e-10)
    check(L.tensorsolve, a, b)


def test_numpy2_aliases():
    x, y = rand(2, 3, 3), rand(2, 3, 3)
    np.testing.assert_allclose(L.la_trace(cr.tensor(x), offset=1), np.linalg.trace(x, offset=1))
    np.testing.assert_allclose(L.la_diagonal(cr.tensor(x), offset=-1),
                               np.linalg.diagonal(x, offset=-1))
    check(lambda a: L.la_diagonal(a, offset=1), x)
    check(L.la_trace, x)
    check(L.la_outer, rand(3), rand(2))
    check(L.la_cross, rand(2, 3), rand(3))
    check(L.vecdot, x, y)
    np.testing.assert_allclose(L.vecdot(cr.tensor(x), y), np.linalg.vecdot(x, y))
    check(L.matrix_transpose, x)
    for name in ("svdvals", "vector_norm", "matrix_norm", "trace", "diagonal", "outer",
                 "cross", "vecdot", "tensordot", "matmul", "matrix_transpose", "inv", "eigh"):
        assert getattr(np.linalg, name) in L.NUMPY_IMPLS


@pytest.mark.parametrize("sa,sb", [((5, 3), (5,)), ((5, 3), (5, 2)), ((3, 3), (3,)),
                                   ((2, 4), (2,))])
def test_lstsq(sa, sb):
    a, b = rand(*sa), rand(*sb)
    ours = L.lstsq(cr.tensor(a), cr.tensor(b))
    ref = np.linalg.lstsq(a, b)
    for mine, theirs in zip(ours, ref):
        np.testing.assert_allclose(np.asarray(mine), theirs, rtol=1e-10, atol=1e-12)
    check(lambda x, y: L.lstsq(x, y)[0], a, b)
    if sa[0] > sa[1]:
        check(lambda x, y: L.lstsq(x, y)[1], a, b)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond(p):
    a = wc(3, 2)
    np.testing.assert_allclose(L.cond(cr.tensor(a), p), np.linalg.cond(a, p), rtol=1e-10)
    check(lambda x: L.cond(x, p), a, order=1 if p in (1, -1, np.inf, -np.inf) else 2)


@pytest.mark.parametrize("rank", [2, 1])
def test_det_of_singular_matrix(rank):
    # det = 0 exactly: the derivative adj(A)^T exists (non-zero at rank n-1) although A^-1
    # does not. (PyTorch 2.13 returns a zero gradient at both of these matrices.)
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]) if rank == 2 else \
        np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0])
    assert np.linalg.det(a) == 0 and np.linalg.matrix_rank(a) == rank
    adj_t = np.array([[np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j)
                       for j in range(3)] for i in range(3)])
    g = cr.grad(L.det)(a)
    np.testing.assert_allclose(g, adj_t, atol=1e-12)
    assert np.abs(g).max() > 1 if rank == 2 else np.abs(g).max() < 1e-12
    np.testing.assert_allclose(cr.jvp(L.det, (a,), (np.eye(3),))[1], np.trace(adj_t),
                               atol=1e-12)
    if rank == 2:  # second order through the SVD (distinct singular values)
        check(L.det, a)


FOF = {
    "inv": (L.inv, (3, 3)), "det": (L.det, (3, 3)), "slogdet": (lambda x: L.slogdet(x)[1], (3, 3)),
    "cholesky": (L.cholesky, (3, 3)), "eigh": (lambda x: L.eigh(x)[0] + cr.sum(
        sq(L.eigh(x)[1]), 0), (3, 3)), "eig": (lambda x: L.eig(x)[0], (3, 3)),
    "svd": (lambda x: sq(L.svd(x, full_matrices=False)[0]), (4, 3)), "qr": (
        lambda x: L.qr(x)[0], (4, 3)), "pinv": (L.pinv, (4, 3)),
    "solve": (lambda x: L.solve(x, np.arange(3.0)), (3, 3)), "norm": (
        lambda x: L.norm(x, "nuc"), (4, 3)),
}


@pytest.mark.parametrize("name", FOF)
def test_forward_over_forward(name):
    f, shape = FOF[name]
    x = spd(3) if shape == (3, 3) else rand(*shape)
    t = rand(*shape)
    d2 = cr.jvp(lambda y: cr.jvp(f, (y,), (t,))[1], (x,), (t,))[1]
    h = 1e-5
    num = (np.asarray(cr.jvp(f, (x + h * t,), (t,))[1])
           - np.asarray(cr.jvp(f, (x - h * t,), (t,))[1])) / (2 * h)
    np.testing.assert_allclose(d2, num, rtol=1e-5, atol=1e-6)
