"""NumPy code as it is written: no silent zeros, arguments keep their type, the small
conveniences users reach for (has_aux, hvp argnums, Tensor methods, ravel_pytree)."""
import warnings

import numpy as np
import pytest

import chainrule as cr


# ----- never a silent zero ---------------------------------------------------------------
@pytest.mark.parametrize("f", [
    lambda x: np.mean([x, x + 2]),
    lambda x: np.linalg.norm([x, x + 2]),
    lambda x: np.sum(np.array([x, 2 * x])),
    lambda x: np.asarray(x) * x,
])
def test_a_tensor_turned_into_an_array_is_refused_with_the_fix(f):
    with pytest.raises(TypeError, match=r"would drop its gradient.*chainrule\.numpy.*cr\.stack"
                                        r".*t\.detach\(\)"):
        cr.grad(f)(0.5)


def test_lists_of_tensors_through_chainrule_numpy_are_differentiated():
    cnp = pytest.importorskip("chainrule.numpy")
    assert float(cr.grad(lambda x: cnp.mean(cnp.array([x, x + 2])))(0.0)) == 1.0
    assert float(cr.grad(lambda x: cnp.sum(cnp.array([x, 2 * x])))(0.0)) == 3.0


def test_np_copy_is_differentiable():
    g = cr.grad(lambda x: cr.sum(np.copy(x) * x))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 4.0])


def test_float_int_bool_item_keep_working_and_leave_the_graph():
    seen = []

    def f(x):
        seen.append((float(x[0]), int(x[1]), bool(x[0] > 0), x[0].item()))
        return cr.sum(x * x)
    np.testing.assert_array_equal(cr.grad(f)(np.array([1.5, 2.0])), [3.0, 4.0])
    assert seen == [(1.5, 2, True, 1.5)]


def test_grad_warns_when_the_output_does_not_depend_on_the_input():
    with pytest.warns(UserWarning, match="does not depend on the differentiated input"):
        assert float(cr.grad(lambda x: 3.0)(1.0)) == 0.0
    with pytest.warns(UserWarning, match="does not depend"):
        cr.grad(lambda x, y: cr.sum(y * y))(1.0, np.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.grad(lambda x: x * x)(1.0)


# ----- arguments keep their type -----------------------------------------------------------
def test_trace_keeps_an_integer_label():
    def loss(W, x, y):
        return -cr.log_softmax(W @ x)[y]
    W, x = np.arange(6.0).reshape(3, 2) / 6, np.array([1.0, -1.0])
    g = cr.trace(loss, W, x, 2)
    y = g.vertices[2]
    assert y.value.dtype.kind == "i" and int(y.value) == 2
    assert y.is_leaf and g.l == 3
    p = g.backward()
    np.testing.assert_allclose(p[1], cr.grad(loss)(W, x, 2))
    assert np.all(p[3] == 0)  # no derivative through a label
    assert float(g.forward(W, x, 0)) == pytest.approx(float(loss(W, x, 0)))


def test_integer_arguments_not_differentiated_stay_integers():
    seen = []

    def f(x, n, mask):
        seen.append((np.asarray(n).dtype.kind, np.asarray(mask).dtype.kind))
        return cr.sum(x[mask] ** n)
    g = cr.grad(f)(np.array([1.0, 2.0, 3.0]), 2, np.array([True, False, True]))
    np.testing.assert_array_equal(g, [2.0, 0.0, 6.0])
    assert seen == [("i", "b")]


def test_differentiating_an_integer_argument_is_as_a_float():
    """argnums keeps the documented float cast: d/dn n**2 at n = 3 is 6."""
    assert float(cr.grad(lambda n: n ** 2)(3)) == 6.0


# ----- small conveniences ------------------------------------------------------------------
def test_has_aux():
    g, aux = cr.grad(lambda x: (cr.sum(x ** 2), {"mean": cr.mean(x)}), has_aux=True)(
        np.array([1.0, 3.0]))
    np.testing.assert_array_equal(g, [2.0, 6.0])
    assert float(aux["mean"]) == 2.0 and isinstance(aux["mean"], np.ndarray)
    (v, aux), g = cr.value_and_grad(lambda x: (x ** 3, "label"), has_aux=True)(2.0)
    assert (float(v), aux, float(g)) == (8.0, "label", 12.0)
    with pytest.raises(TypeError, match="has_aux=True.*pair"):
        cr.grad(lambda x: x ** 2, has_aux=True)(1.0)


def test_hvp_with_argnums():
    f = lambda x, y: cr.sum(x * y ** 3)  # noqa: E731
    x, y, v = np.array([1.0, 2.0]), np.array([1.0, -1.0]), np.array([1.0, 0.5])
    np.testing.assert_allclose(cr.hvp(f, argnums=1)(x, y, v), 6 * x * y * v)
    np.testing.assert_allclose(cr.hvp(f, argnums=1)(x, y, v), cr.hessian(f, argnums=1)(x, y) @ v)
    np.testing.assert_allclose(cr.hvp(f)(x, y, v), np.zeros(2))


def test_backward_never_writes_into_an_array_the_user_assigned():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    mine = np.zeros(2)
    t.grad = mine  # stored as a copy
    cr.sum(t * t).backward()
    np.testing.assert_array_equal(mine, [0.0, 0.0])
    np.testing.assert_array_equal(t.grad, [2.0, 4.0])
    own = t.grad
    cr.sum(t * t).backward()  # its own buffer: accumulated in place
    assert t.grad is own
    np.testing.assert_array_equal(own, [4.0, 8.0])


def test_one_argument_where_is_nonzero():
    idx = np.where(cr.tensor(np.array([0.0, 1.0, 2.0]), requires_grad=True) > 0.5)
    assert len(idx) == 1
    np.testing.assert_array_equal(np.asarray(idx[0]), [1, 2])


def test_only_shape_mismatches_become_shape_errors():
    with pytest.raises(cr.ShapeError, match="add"):
        cr.grad(lambda x: cr.sum(x + np.ones(3)))(np.ones(2))

    @cr.primitive
    def picky(x):
        raise ValueError("x must be sorted")
    picky.defvjp(lambda g, ans, x: g)
    with pytest.raises(ValueError, match=r"picky\(array of shape \(2,\).*x must be sorted") as e:
        cr.grad(lambda x: cr.sum(picky(x)))(np.ones(2))
    assert not isinstance(e.value, cr.ShapeError)


def test_tensor_methods_numpy_users_reach_for():
    x0 = np.array([[1.2, -2.1, 2.7], [0.4, 1.3, -0.6]])  # away from kinks (clip, %, ties)

    def f(x):
        parts = [x.ravel(), x.flatten(), x.copy().reshape(3, 2).T.reshape(-1),
                 x.astype(np.float64).transpose(1, 0).reshape(6),
                 (x % 1.5).reshape(-1), x.sum(axis=0).repeat(2) if False else
                 cr.reshape(x.sum(axis=0), (3,)), x.mean(axis=1), x.max(axis=1), x.min(axis=0),
                 x.squeeze().reshape(-1), x.clip(-1.0, 1.0).reshape(-1), x.dot(x.T).reshape(-1)]
        return sum(cr.sum(p * (k + 1)) for k, p in enumerate(parts))
    g = cr.grad(f)(x0)
    num = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        e = np.zeros_like(x0)
        e[i] = 1e-6
        num[i] = (float(f(x0 + e)) - float(f(x0 - e))) / 2e-6
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
    t = cr.tensor(x0, requires_grad=True)
    q, r = divmod(t, 1.5)
    np.testing.assert_array_equal(np.asarray(q), x0 // 1.5)
    np.testing.assert_array_equal(np.asarray(r), x0 % 1.5)
    np.testing.assert_array_equal(np.asarray(t.astype(np.int64)), x0.astype(np.int64))


def test_tensor_methods_from_the_catalogue():
    x0 = np.array([[1.0, 2.0, 3.0], [0.5, 1.5, 2.5]])
    for name, ref in [("prod", np.prod), ("std", np.std), ("var", np.var), ("cumsum", np.cumsum)]:
        g = cr.grad(lambda x: cr.sum(getattr(x, name)(axis=1)))(x0)
        num = np.zeros_like(x0)
        for i in np.ndindex(x0.shape):
            e = np.zeros_like(x0)
            e[i] = 1e-6
            num[i] = (np.sum(ref(x0 + e, axis=1)) - np.sum(ref(x0 - e, axis=1))) / 2e-6
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8, err_msg=name)
    z = cr.tensor(np.array([1 + 2j, 3 - 1j]), requires_grad=True)
    np.testing.assert_array_equal(np.asarray(z.real), [1.0, 3.0])
    np.testing.assert_array_equal(np.asarray(z.imag), [2.0, -1.0])
    np.testing.assert_array_equal(np.asarray(z.conj()), [1 - 2j, 3 + 1j])


# ----- ravel_pytree --------------------------------------------------------------------------
def test_ravel_pytree_round_trip_and_order():
    tree = {"b": np.array([1.0, 2.0]), "W": np.arange(4.0).reshape(2, 2), "s": 5.0}
    flat, unravel = cr.ravel_pytree(tree)
    np.testing.assert_array_equal(flat, [0, 1, 2, 3, 1, 2, 5])  # keys sorted: W, b, s
    back = unravel(flat)
    for k in tree:
        np.testing.assert_array_equal(back[k], tree[k])
        assert np.shape(back[k]) == np.shape(tree[k])
    with pytest.raises(ValueError, match="expected a 1-d vector of 7 entries"):
        unravel(np.zeros(6))


def test_ravel_pytree_is_differentiable_both_ways():
    tree = {"a": np.array([1.0, 2.0]), "B": np.array([[1.0, -1.0]])}
    _, unravel = cr.ravel_pytree(tree)

    def loss_flat(v):
        p = unravel(v)
        return cr.sum(p["a"] ** 2) + cr.sum(p["B"] ** 3)
    v0 = cr.ravel_pytree(tree)[0]
    np.testing.assert_allclose(cr.grad(loss_flat)(v0), [3.0, 3.0, 2.0, 4.0])
    np.testing.assert_allclose(cr.hessian(loss_flat)(v0), np.diag([6.0, -6.0, 2.0, 2.0]))

    def loss_tree(t):
        flat, _ = cr.ravel_pytree(t)
        return cr.sum(flat * np.arange(4.0))
    g = cr.grad(loss_tree)(tree)
    np.testing.assert_array_equal(g["B"], [[0.0, 1.0]])
    np.testing.assert_array_equal(g["a"], [2.0, 3.0])
    _, t = cr.jvp(loss_tree, (tree,), ({"a": np.ones(2), "B": np.ones((1, 2))},))
    assert float(t) == 6.0


def test_scipy_ufuncs_on_tensors_dispatch_once_chainrule_scipy_is_imported():
    import subprocess
    import sys
    code = ("import chainrule as cr, scipy.special as ss\n"
            "try:\n    cr.grad(lambda x: ss.gammaln(x))(3.0)\n"
            "except TypeError as e:\n    print('refused:', 'chainrule.scipy.special' in str(e))\n"
            "import chainrule.scipy.special\n"
            "print(float(cr.grad(lambda x: ss.gammaln(x))(3.0)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    assert lines[0] == "refused: True"
    assert abs(float(lines[1]) - (1.5 - 0.5772156649015329)) < 1e-12  # digamma(3)
