"""The function transforms: forward mode against reverse mode, vjp, jacobian, hessian,
hvp, and derivatives of any order, each against finite differences or a closed form.

Forward and reverse mode compute the same Jacobian by different routes (JVP
rules vs VJP rules), so they must agree to rounding (1e-10); finite
differences are the independent oracle, good to about 1e-7.
"""
import numpy as np
import pytest

import chainrule as cr
from chainrule import transforms

TIGHT = 1e-10  # forward vs reverse mode: the same numbers by two routes
FD_TOL = 1e-6  # analytic vs central differences (h = 1e-6)


def fd_jacobian(f, x, h=1e-6):
    """Central-difference Jacobian of the array function f at the array x: out.shape + x.shape."""
    x = np.array(x, dtype=np.float64)
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    J = np.stack(cols, axis=-1)
    return J.reshape(np.shape(f(x)) + x.shape)


def close(a, b, tol):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    assert err <= tol * scale, f"max error {err:.3g} > {tol:g} (scale {scale:.3g})"


def tree_close(a, b, tol):
    la, da = transforms.flatten(a)
    lb, db = transforms.flatten(b)
    assert da == db, (da, db)
    for x, y in zip(la, lb):
        close(x, y, tol)


rng = np.random.default_rng(0)


# ----- composite programs: every op family, broadcasting, reductions, indexing --------------
def mlp(x):
    W = np.linspace(-1, 1, 12).reshape(4, 3)
    h = cr.tanh(W @ x + 0.1)
    return cr.log_softmax(h * h[::-1] + cr.sigmoid(h))


def mixed(x):
    a = cr.reshape(x, (2, 3))
    b = cr.exp(a[:, [0, 2, 2]] * 0.3) + cr.sqrt(a * a + 1.0)
    c = cr.concatenate([cr.sum(b, axis=0), cr.max(a, axis=1), cr.mean(b * a, axis=1)])
    d = cr.stack([c[:4], cr.sin(c[1:5]) ** 2], axis=1)
    return cr.where(d > 0.5, d * cr.cos(d), cr.logsumexp(d, axis=1, keepdims=True) - d)


def shaped(x):
    M = cr.reshape(x, (3, 2))
    P = cr.transpose(M) @ M + cr.expand_dims(cr.squeeze(M[:1]), 0)
    q = cr.softmax(P, axis=0) * cr.maximum(P, 0.2) + cr.minimum(P, -0.1) / (1.0 + P * P)
    return cr.clip(q, -0.9, 0.9) + cr.abs(P) ** 1.5 - cr.log(cr.square(P) + 2.0)


PROGRAMS = [(mlp, (3,)), (mixed, (6,)), (shaped, (6,))]


@pytest.mark.parametrize("f, shape", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_jacfwd_equals_jacobian_and_finite_differences(f, shape):
    x = rng.standard_normal(shape)
    J = cr.jacobian(f)(x)
    close(cr.jacfwd(f)(x), J, TIGHT)
    close(J, fd_jacobian(f, x), FD_TOL)


@pytest.mark.parametrize("f, shape", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_jvp_and_vjp_are_the_jacobian_times_a_vector(f, shape):
    x = rng.standard_normal(shape)
    J = cr.jacobian(f)(x)
    t = rng.standard_normal(shape)
    out, jt = cr.jvp(f, (x,), (t,))
    close(out, np.asarray(f(x)), 0)
    close(jt, np.tensordot(J, t, axes=t.ndim), TIGHT)
    u = rng.standard_normal(out.shape)
    out2, vjp_fn = cr.vjp(f, x)
    (ut,) = vjp_fn(u)
    close(out2, out, 0)
    close(ut, np.tensordot(u, J, axes=u.ndim), TIGHT)


def params():
    return {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(4),
            "layers": [rng.standard_normal((2, 4)), (rng.standard_normal(2),)]}


def tree_net(p, x):
    h = cr.tanh(p["W"] @ x + p["b"])
    V, (gamma,) = p["layers"]
    return {"logits": V @ h + gamma, "penalty": [cr.sum(p["W"] ** 2), h]}


def test_forward_and_reverse_agree_on_pytrees():
    """<u, J t> computed as u . jvp(t) and as vjp(u) . t: every pytree leaf, both routes."""
    p, x = params(), rng.standard_normal(3)
    t = transforms.unflatten(transforms.flatten(p)[1],
                             [rng.standard_normal(np.shape(l)) for l in transforms.flatten(p)[0]])
    out, jt = cr.jvp(lambda p: tree_net(p, x), (p,), (t,))
    tree_close(out, tree_net(p, x), 0)
    leaves, odef = transforms.flatten(out)
    u = transforms.unflatten(odef, [rng.standard_normal(np.shape(l)) for l in leaves])
    _, vjp_fn = cr.vjp(lambda p: tree_net(p, x), p)
    (ut,) = vjp_fn(u)
    assert set(ut) == {"W", "b", "layers"} and isinstance(ut["layers"][1], tuple)
    lhs = sum(np.vdot(a, b) for a, b in zip(transforms.flatten(u)[0], transforms.flatten(jt)[0]))
    rhs = sum(np.vdot(a, b) for a, b in zip(transforms.flatten(ut)[0], transforms.flatten(t)[0]))
    assert abs(lhs - rhs) <= TIGHT * max(1.0, abs(lhs))


def test_jacobian_and_jacfwd_of_pytree_arguments():
    p, x = params(), rng.standard_normal(3)

    def f(p):
        return tree_net(p, x)["logits"]
    J = cr.jacobian(f)(p)
    tree_close(cr.jacfwd(f)(p), J, TIGHT)
    assert J["W"].shape == (2, 4, 3) and J["layers"][0].shape == (2, 2, 4)
    W = p["W"]
    close(J["W"], fd_jacobian(lambda w: np.asarray(f({**p, "W": w})), W), FD_TOL)


def test_jacobian_argnums_tuple_and_shapes():
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)

    def f(a, b):
        return cr.tanh(a * b)
    Ja, Jb = cr.jacobian(f, argnums=(0, 1))(a, b)
    assert Ja.shape == (2, 3, 2, 3) and Jb.shape == (2, 3, 3)
    close(Ja, fd_jacobian(lambda a: np.asarray(f(a, b)), a), FD_TOL)
    close(Jb, fd_jacobian(lambda b: np.asarray(f(a, b)), b), FD_TOL)
    Fa, Fb = cr.jacfwd(f, argnums=(0, 1))(a, b)
    close(Fa, Ja, TIGHT)
    close(Fb, Jb, TIGHT)


def test_vjp_checks_the_cotangent():
    _, vjp_fn = cr.vjp(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        vjp_fn(np.ones(4))


# ----- the notes' network: o = -log_softmax(V tanh(W x + b) + gamma)[y] -------------------------
D, M, K = 3, 4, 3
SIZES = [("W", (M, D)), ("b", (M,)), ("V", (K, M)), ("gamma", (K,))]
N_THETA = sum(int(np.prod(s)) for _, s in SIZES)
X_I, Y_I = rng.standard_normal(D), 1


def unpack(theta):
    out, k = {}, 0
    for name, s in SIZES:
        n = int(np.prod(s))
        out[name] = cr.reshape(theta[k:k + n], s)
        k += n
    return out


def notes_loss(theta):
    p = unpack(theta)
    z = p["W"] @ X_I + p["b"]
    h = cr.tanh(z)
    l = p["V"] @ h + p["gamma"]
    q = cr.log_softmax(l)
    return -q[Y_I]


def test_hessian_of_the_notes_loss():
    theta = rng.standard_normal(N_THETA)
    H = cr.hessian(notes_loss)(theta)
    assert H.shape == (N_THETA, N_THETA)
    close(H, H.T, TIGHT)  # symmetric to rounding
    close(H, fd_jacobian(cr.grad(notes_loss), theta), FD_TOL)  # d(gradient) by differences
    close(cr.jacobian(cr.grad(notes_loss))(theta), H, TIGHT)  # reverse over reverse agrees
    # the loss is not convex in all parameters at once: a real indefinite Hessian
    eig = np.linalg.eigvalsh(H)
    assert eig.min() < -1e-6 < 1e-6 < eig.max()


def test_hvp_equals_hessian_times_vector():
    theta, v = rng.standard_normal(N_THETA), rng.standard_normal(N_THETA)
    close(cr.hvp(notes_loss)(theta, v), cr.hessian(notes_loss)(theta) @ v, TIGHT)


def test_hvp_never_builds_the_hessian():
    """One evaluation of f whatever the size, and it runs where H could not be stored."""
    calls = []

    def f(x):
        calls.append(1)
        return cr.sum(cr.tanh(x) ** 2)
    n = 200_000  # H would be 4e10 entries (320 GB)
    x, v = np.linspace(-2, 2, n), np.ones(n)
    hv = cr.hvp(f)(x, v)
    assert len(calls) == 1 and hv.shape == (n,)
    t = np.tanh(x)
    close(hv, (2 - 8 * t ** 2 + 6 * t ** 4) * v, 1e-12)  # d2/dx2 tanh(x)^2, diagonal H


# ----- any order ---------------------------------------------------------------------------
def test_third_derivative_of_tanh():
    d3 = cr.grad(cr.grad(cr.grad(cr.tanh)))
    for x in (-1.3, 0.0, 0.3, 2.0):
        t = np.tanh(x)
        close(d3(x), -2 * (1 - t * t) * (1 - 3 * t * t), 1e-12)


def test_fourth_derivative_elementwise_by_mixing_modes():
    x = np.linspace(-1.5, 1.5, 5)
    d2 = cr.grad(cr.grad(cr.tanh))
    d4 = cr.grad(cr.grad(d2))
    t = np.tanh(x)
    expected = 8 * t * (1 - t * t) * (2 - 3 * t * t)
    close([d4(xi) for xi in x], expected, 1e-10)
    # the same diagonal from reverse over reverse over reverse (jacobian of the hessian)
    H3 = cr.jacobian(cr.hessian(lambda x: cr.sum(cr.tanh(x))))(x)
    close(np.einsum("iii->i", H3), -2 * (1 - t * t) * (1 - 3 * t * t), 1e-10)


def test_grad_grad_grad_of_a_composite_against_finite_differences():
    def f(x):
        return cr.sin(x) * cr.exp(-x * x / 3) + cr.log(1 + x * x) / (2 + cr.tanh(x))
    g2 = cr.grad(cr.grad(f))
    g3 = cr.grad(g2)
    for x in (-0.7, 0.2, 1.1):
        close(g3(x), (g2(x + 1e-5) - g2(x - 1e-5)) / 2e-5, 1e-6)


def test_first_order_runs_rules_on_plain_arrays():
    """Only a higher-order transform records the backward pass: a top-level grad's rules
    see NumPy arrays, the inner grad of grad(grad(f)) sees Tensors (recorded vertices)."""
    seen = []

    @cr.primitive
    def cube(x):
        return x ** 3

    def rule(g, ans, x):
        seen.append(type(x))
        return g * 3 * x ** 2
    cube.defvjp(rule)
    cube.defjvp(lambda t, ans, x: t * 3 * x ** 2)
    assert cr.grad(cube)(2.0) == 12.0
    assert seen == [np.ndarray]
    seen.clear()
    assert cr.grad(cr.grad(cube))(2.0) == 12.0  # 6 x at x = 2
    assert seen == [cr.Tensor]


def test_results_are_arrays_the_caller_owns():
    x = np.array([1.0, 2.0])
    g = cr.grad(lambda x: cr.sum(x * x))(x)
    H = cr.hessian(lambda x: cr.sum(x ** 3))(x)
    assert type(g) is np.ndarray and type(H) is np.ndarray
    g += 1  # must not touch x or raise
    assert x.tolist() == [1.0, 2.0]
    close(H, np.diag(6 * x), 0)


# ----- pytree outputs and arguments: the output structure outside, the argument inside -----
def test_jacfwd_of_pytree_output():
    x = rng.standard_normal(3)
    J = cr.jacfwd(lambda x: {"a": x * 2.0, "b": cr.sum(x)})(x)
    close(J["a"], 2 * np.eye(3), 0)
    close(J["b"], np.ones(3), 0)


def test_hessian_of_pytree_argument_is_nested():
    x = rng.standard_normal(3)
    p = {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    H = cr.hessian(lambda p: cr.sum(cr.tanh(p["W"] @ x + p["b"]) ** 2))(p)
    assert H["W"]["b"].shape == (2, 3, 2)
    close(H["W"]["b"], np.transpose(H["b"]["W"], (1, 2, 0)), TIGHT)


def test_jacobian_of_pytree_output():
    x = rng.standard_normal(3)
    J = cr.jacobian(lambda x: [x * 2.0, cr.sum(x)])(x)
    close(J[0], 2 * np.eye(3), 0)
    close(J[1], np.ones(3), 0)


# ----- the documentation's examples run -----------------------------------------------------
def test_docs_examples():
    """Every >>> example of docs/transforms.md, with its printed result."""
    import doctest
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "docs" / "transforms.md"
    result = doctest.testfile(str(path), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 30 and result.failed == 0, result
