"""einsum, tensordot, inner, outer, cross, vdot, dot and matmul (chainrule.ops.products).

Each is checked by tests/npcheck.py (both modes, second order, against central
differences), its value against NumPy, and its value and gradients against
PyTorch where torch has the function.
"""
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import products as P
from npcheck import check

# NumPy 2 deprecates 2-vectors in np.cross (still supported); linear functions have a
# zero second derivative, which the harness's grad of grad reports as a warning.
pytestmark = [pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors"),
              pytest.mark.filterwarnings("ignore:grad. the output of")]

R = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _reseed(request):
    """Each test draws the same numbers whichever tests run before it."""
    R.bit_generator.state = np.random.default_rng(
        [7, zlib.crc32(request.node.nodeid.encode())]).bit_generator.state


def rand(*shape, complex=False):
    x = R.standard_normal(shape)
    return x + 1j * R.standard_normal(shape) if complex else x


def ri(z):
    """Real and imaginary parts side by side (a real function of a complex result)."""
    return cr.stack([cr.real(z), cr.real(cr.multiply(z, -1j))])


# subscripts, operand shapes
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),                 # implicit output
    ("ii->i", [(3, 3)]),                         # diagonal
    ("ii", [(3, 3)]),                            # trace
    ("iij->j", [(2, 2, 3)]),
    ("iji->ij", [(2, 3, 2)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),                         # a letter only operand 0 has
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),  # ellipsis, broadcast batches
    ("...ij,...jk", [(2, 2, 3), (3, 2)]),
    ("i...->...", [(3, 2, 2)]),
    ("...", [(2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),             # a size-1 axis broadcasts
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ij,jk,kl,lm->im", [(2, 2), (2, 3), (3, 2), (2, 2)]),
    ("Ba,aC", [(2, 3), (3, 2)]),                 # implicit order: ASCII (upper first)
    ("ii,ij->j", [(2, 2), (2, 3)]),
    ("", [()]),
    (",->", [(), ()]),
]


@pytest.mark.parametrize("subs,shapes", EINSUM, ids=[s or "scalar" for s, _ in EINSUM])
def test_einsum(subs, shapes):
    args = [rand(*s) for s in shapes]
    np.testing.assert_allclose(P.einsum(subs, *args), np.einsum(subs, *args), rtol=1e-12)
    check(lambda *a: P.einsum(subs, *a), *args)


@pytest.mark.parametrize("subs,shapes", [e for e in EINSUM if e[0] not in ("", ",->")],
                         ids=[e[0] for e in EINSUM if e[0] not in ("", ",->")])
def test_einsum_torch(subs, shapes):
    torch = pytest.importorskip("torch")
    args = [rand(*s) for s in shapes]
    c = rand(*np.shape(np.einsum(subs, *args)))
    grads = cr.grad(lambda *a: cr.sum(P.einsum(subs, *a) * c), argnums=tuple(range(len(args))))(
        *args)
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    out = torch.einsum(subs, *ts)
    (out * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(P.einsum(subs, *args), out.detach().numpy(), rtol=1e-12)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_einsum_forms_and_options():
    a, b = rand(2, 3), rand(3, 4)
    # interleaved form (sublists), with and without the output sublist
    np.testing.assert_allclose(P.einsum(a, [0, 1], b, [1, 2], [0, 2]), a @ b, rtol=1e-12)
    np.testing.assert_allclose(P.einsum(a, [0, 1], b, [1, Ellipsis]), np.einsum(
        a, [0, 1], b, [1, Ellipsis]), rtol=1e-12)
    check(lambda x, y: P.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b, order=1)
    # optimize accepted (and passed to the rules)
    for opt in (True, "greedy", "optimal", False):
        g = cr.grad(lambda x: cr.sum(P.einsum("ij,jk->ik", x, b, optimize=opt)))(a)
        np.testing.assert_allclose(g, np.ones((2, 4)) @ b.T, rtol=1e-12)
    # nested lists holding Tensors are packed
    g = cr.grad(lambda x: cr.sum(P.einsum("ij,ij->", [x, x], [[1.0, 2.0], [3.0, 4.0]])))(
        np.array([1.0, 1.0]))
    np.testing.assert_allclose(g, [4.0, 6.0])


def test_einsum_errors():
    x = cr.tensor(rand(2, 3), requires_grad=True)
    with pytest.raises(ValueError, match="ellipsis"):
        P.einsum("i...->i", cr.tensor(rand(2, 3, 4)))
    with pytest.raises(ValueError, match="np.einsum"):
        P.einsum("ij,jk->ik", x)
    with pytest.raises(ValueError, match="np.einsum"):
        P.einsum("ijk->i", x)


def test_einsum_complex():
    a, b = rand(2, 3, complex=True), rand(3, 2, complex=True)
    check(lambda x, y: ri(P.einsum("ij,jk->ik", x, y)), a, b)
    check(lambda x: ri(P.einsum("ii->i", x)), rand(3, 3, complex=True))


def test_einsum_third_order():
    # grad of grad of grad: the rules' einsums are differentiated again
    a = rand(3, 3)
    f = lambda x: cr.sum(P.einsum("ij,jk,ki->i", x, x, x) ** 2)  # noqa: E731
    h = cr.hessian(f)(a)
    num = np.stack([(cr.grad(f)(a + 1e-6 * e) - cr.grad(f)(a - 1e-6 * e)) / 2e-6
                    for e in np.eye(9).reshape(9, 3, 3)]).reshape(3, 3, 3, 3)
    np.testing.assert_allclose(h, num, rtol=1e-5, atol=1e-6)
    third = cr.grad(lambda x: cr.sum(cr.grad(lambda y: cr.sum(cr.grad(f)(y)))(x)))(a)
    assert np.all(np.isfinite(third)) and third.shape == (3, 3)


@pytest.mark.parametrize("sa,sb,axes", [
    ((2, 3, 4), (3, 4, 2), 2), ((2, 3), (3, 4), 1), ((2,), (3,), 0), ((2, 3), (2, 3), 2),
    ((2, 3, 4), (4, 2, 3), ([1, 2], [2, 0])), ((3, 2), (2, 3), ([0], [1])),
    ((2, 3), (3, 2), (1, 0)),
])
def test_tensordot(sa, sb, axes):
    torch = pytest.importorskip("torch")
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_allclose(P.tensordot(a, b, axes), np.tensordot(a, b, axes), rtol=1e-12)
    check(lambda x, y: P.tensordot(x, y, axes), a, b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tax = axes if isinstance(axes, int) else tuple([x] if isinstance(x, int) else list(x)
                                                   for x in axes)
    torch.tensordot(ta, tb, dims=tax).sum().backward()
    ga, gb = cr.grad(lambda x, y: cr.sum(P.tensordot(x, y, axes)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-12)


def test_tensordot_mismatch():
    with pytest.raises(ValueError, match="np.tensordot"):
        P.tensordot(cr.tensor(rand(2, 3)), rand(2, 3), 1)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,)), ((), (2, 3)),
                                   ((2, 3), ())])
def test_inner(sa, sb):
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_allclose(P.inner(a, b), np.inner(a, b), rtol=1e-12)
    check(P.inner, a, b)


@pytest.mark.parametrize("sa,sb", [((3,), (2,)), ((2, 2), (3,)), ((), (2,))])
def test_outer(sa, sb):
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_allclose(P.outer(a, b), np.outer(a, b), rtol=1e-12)
    check(P.outer, a, b)


@pytest.mark.parametrize("sa,sb,kw", [
    ((3,), (3,), {}), ((4, 3), (3,), {}), ((2, 1, 3), (4, 3), {}), ((2,), (3,), {}),
    ((3,), (2,), {}), ((2,), (2,), {}), ((4, 2), (4, 2), {}),
    ((3, 4), (4, 3), {"axisa": 0}), ((3, 2), (3, 2), {"axis": 0}),
    ((4, 3), (3, 4), {"axisb": 0, "axisc": 0}),
])
def test_cross(sa, sb, kw):
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_allclose(P.cross(a, b, **kw), np.cross(a, b, **kw), rtol=1e-12)
    check(lambda x, y: P.cross(x, y, **kw), a, b)


def test_cross_torch_and_errors():
    torch = pytest.importorskip("torch")
    a, b = rand(4, 3), rand(4, 3)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    c = rand(4, 3)
    (torch.linalg.cross(ta, tb) * torch.tensor(c)).sum().backward()
    ga, gb = cr.grad(lambda x, y: cr.sum(P.cross(x, y) * c), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="np.cross"):
        P.cross(cr.tensor(rand(4)), rand(4))


def test_vdot():
    a, b = rand(2, 3), rand(3, 2)
    np.testing.assert_allclose(P.vdot(a, b), np.vdot(a, b), rtol=1e-12)
    check(P.vdot, a, b)
    za, zb = rand(2, 2, complex=True), rand(4, complex=True)
    np.testing.assert_allclose(P.vdot(za, zb), np.vdot(za, zb), rtol=1e-12)
    check(lambda x, y: ri(P.vdot(x, y)), za, zb)
    # the first argument is conjugated: d/d(za) of Re vdot = conj(zb) in autograd's convention
    g = cr.grad(lambda x: cr.real(P.vdot(x, zb)))(za)
    np.testing.assert_allclose(g, np.conj(zb).reshape(2, 2), rtol=1e-12)


@pytest.mark.parametrize("sa,sb", [
    ((), ()), ((), (2, 3)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
    ((2, 2, 3), (3,)), ((3,), (2, 3, 2)), ((2, 2, 3), (4, 3, 2)), ((2, 3), (2, 3, 4)),
    ((2, 1, 3), (3, 2)), ((1, 1), (1, 1)),
])
def test_dot(sa, sb):
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_allclose(P.dot(a, b), np.dot(a, b), rtol=1e-12)
    check(P.dot, a, b)


def test_dot_errors_and_complex():
    with pytest.raises(ValueError, match="np.dot"):
        P.dot(cr.tensor(rand(2, 3)), rand(2, 3))
    check(lambda x, y: ri(P.dot(x, y)), rand(2, 2, 3, complex=True), rand(3, 2, complex=True))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                   ((2, 1, 2, 3), (4, 3, 2)), ((2, 3), (3, 2)),
                                   ((4, 1), (1, 3)), ((1, 4), (4, 1))])
def test_matmul(sa, sb):
    torch = pytest.importorskip("torch")
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_allclose(P.np_matmul(a, b), np.matmul(a, b), rtol=1e-12)
    check(P.np_matmul, a, b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.matmul(ta, tb).sum().backward()
    ga, gb = cr.grad(lambda x, y: cr.sum(P.np_matmul(x, y)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-12)


def test_outer_product_matmul_is_numpys_bits():
    # an inner dimension of 1 runs as a broadcast product (the batch-1 dW): same bits,
    # same dtype, as np.matmul; transposed (F-ordered) operands too
    from chainrule.ops.linalg import matmul
    for a, b in [(rand(5, 1), rand(1, 3)), (rand(1, 5).T, rand(3, 1).T),
                 (rand(2, 1, complex=True), rand(1, 2)),
                 (np.arange(3).reshape(3, 1), np.arange(2).reshape(1, 2))]:
        r, e = np.asarray(matmul(a, b)), np.matmul(a, b)
        assert r.dtype == e.dtype and np.array_equal(r, e)
    with pytest.raises(ValueError, match="matmul"):
        matmul(cr.tensor(rand(3, 1)), rand(2, 2))  # a mismatch still fails as matmul


def test_registered():
    for f in (np.einsum, np.tensordot, np.inner, np.outer, np.cross, np.vdot, np.dot,
              np.matmul):
        assert f in P.NUMPY_IMPLS


def _random_spec(rng):
    """Random einsum subscripts over a few letters: repeats within an operand, letters
    summed in one operand only, size-1 axes, an ellipsis, implicit or explicit output."""
    sizes = {c: int(rng.integers(1, 4)) for c in "abcd"}
    n_ops = int(rng.integers(1, 4))
    ell = rng.random() < 0.3
    batch = tuple(int(x) for x in rng.integers(1, 3, size=int(rng.integers(1, 3))))
    subs, shapes = [], []
    for _ in range(n_ops):
        sub = "".join(rng.choice(list("abcd"), size=int(rng.integers(0, 4))))
        shape = tuple(sizes[c] for c in sub)
        if ell and rng.random() < 0.7:
            sub, shape = "..." + sub, batch[int(rng.integers(0, len(batch) + 1)):] + shape
        subs.append(sub)
        shapes.append(shape)
    spec = ",".join(subs)
    if rng.random() < 0.6:
        letters = sorted(set(c for c in spec if c.isalpha()))
        out = "".join(rng.permutation(letters)[:int(rng.integers(0, len(letters) + 1))])
        spec += "->" + ("..." if "..." in spec else "") + out
    return spec, shapes


@pytest.mark.parametrize("seed", range(40))
def test_einsum_random_specs_vs_torch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    spec, shapes = _random_spec(rng)
    args = [rng.standard_normal(s) for s in shapes]
    want = np.einsum(spec, *args)
    got = P.einsum(spec, *args)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=spec)
    c = rng.standard_normal(np.shape(want))
    argnums = tuple(range(len(args)))
    grads = cr.grad(lambda *a: cr.sum(P.einsum(spec, *a) * c), argnums=argnums)(*args)
    ts = [torch.tensor(a, requires_grad=True) for a in args]
    (torch.einsum(spec, *ts) * torch.tensor(c)).sum().backward()
    for k, (g, t) in enumerate(zip(grads, ts)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{spec}: operand {k}")
    # forward mode agrees with reverse mode on the same directions
    tangents = [rng.standard_normal(s) for s in shapes]
    _, t_out = cr.jvp(lambda *a: cr.sum(P.einsum(spec, *a) * c), tuple(args), tuple(tangents))
    np.testing.assert_allclose(t_out, sum(np.sum(g * t) for g, t in zip(grads, tangents)),
                               rtol=1e-10, atol=1e-12, err_msg=spec)
