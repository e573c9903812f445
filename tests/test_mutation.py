"""Arrays changed in place after being recorded must not change gradients silently.

The choice (docs/reliability.md, "Mutation"): copy on record, but only on the paths where
a recorded graph outlives the call that recorded it.

- Object style (no transform running): ``Primitive.__call__`` copies the NumPy arrays
  among an operation's inputs, because the graph lives until ``.backward()``.
- ``cr.vjp``: copies its inputs and, once ``f`` has run, the NumPy constants ``f`` used,
  because ``vjp_fn`` may be called at any later time.
- ``cr.grad`` / ``value_and_grad`` / ``jacobian`` / ``hessian`` copy nothing: their
  backward pass runs before they return, so the caller has no chance to change an array
  in between (a function that changes an array *after using it, inside itself* is not
  supported by any of them).
- Leaves made by ``cr.tensor`` are copies; gradients handed out are arrays the caller
  owns (changing them cannot change a later result).
"""
import numpy as np
import pytest

import chainrule as cr


def test_object_style_constant_changed_before_backward():
    x = cr.tensor(np.ones(3), requires_grad=True)
    c = np.array([1.0, 2.0, 3.0])
    y = x * c
    c[:] = 0.0
    cr.sum(y).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])


def test_object_style_matmul_data_batch_changed_before_backward():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    X0 = X.copy()
    W = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    loss = cr.sum(cr.tanh(X @ W.T))
    X[:] = rng.standard_normal((4, 3))  # the next batch, loaded into the same buffer
    loss.backward()
    expected = cr.grad(lambda W: cr.sum(cr.tanh(X0 @ W.T)))(W.value)
    np.testing.assert_allclose(W.grad, expected, rtol=1e-12)


def test_object_style_index_array_changed_before_backward():
    x = cr.tensor(np.zeros(4), requires_grad=True)
    idx = np.array([0, 0, 3])
    y = x[idx]
    idx[:] = 1
    cr.sum(y * np.array([1.0, 2.0, 3.0])).backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 0.0, 3.0])


def test_object_style_labels_changed_before_backward():
    """The notes' loss -q_y with the label array reused for the next batch."""
    logits = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    y = np.array([0, 2])
    loss = cr.nn.cross_entropy(logits, y)
    y[:] = 1
    loss.backward()
    expected = np.full((2, 3), 1 / 3)
    expected[0, 0] -= 1
    expected[1, 2] -= 1
    np.testing.assert_allclose(logits.grad, expected / 2, rtol=1e-12)


def test_object_style_where_condition_and_clip_bound_changed():
    x = cr.tensor(np.array([-2.0, 0.5, 2.0]), requires_grad=True)
    cond = np.array([True, False, True])
    hi = np.array([1.0, 1.0, 1.0])
    y = cr.where(cond, x * 3.0, x) + cr.clip(x, a_max=hi)  # hi by keyword
    cond[:] = False
    hi[:] = 10.0
    cr.sum(y).backward()
    np.testing.assert_array_equal(x.grad, [3.0 + 1.0, 1.0 + 1.0, 3.0 + 0.0])


def test_object_style_custom_primitive_with_array_keyword_changed():
    @cr.primitive
    def scale(x, c=None):
        return x * c
    scale.defvjp(lambda g, ans, x, c=None: g * c)
    c = np.array([1.0, 2.0])
    x = cr.tensor(np.ones(2), requires_grad=True)
    y = scale(x, c=c)
    c[:] = 0.0
    cr.sum(y).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_leaf_is_a_copy():
    a = np.array([1.0, 2.0])
    x = cr.tensor(a, requires_grad=True)
    y = x * x
    a[:] = 100.0
    cr.sum(y).backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_vjp_primal_changed_before_vjp_fn():
    a = np.array([1.0, 2.0, 3.0])
    out, vjp_fn = cr.vjp(lambda x: cr.tanh(x) * x, a)
    a[:] = 0.0
    (g,) = vjp_fn(np.ones(3))
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g, (1 - np.tanh(x) ** 2) * x + np.tanh(x), rtol=1e-12)


def test_vjp_pytree_primal_updated_in_place_like_an_optimizer():
    p = {"W": np.array([[1.0, 2.0]]), "b": np.array([0.5])}
    x = np.array([3.0, -1.0])
    out, vjp_fn = cr.vjp(lambda p: cr.tanh(p["W"] @ x + p["b"]) * p["b"], p)
    p["W"] -= 0.1 * np.ones((1, 2))  # an SGD step on the caller's arrays
    p["b"] -= 0.1
    (g,) = vjp_fn(np.ones(1))
    z = 1.0 * 3.0 + 2.0 * -1.0 + 0.5
    dz = (1 - np.tanh(z) ** 2) * 0.5
    np.testing.assert_allclose(g["W"], dz * x[None, :], rtol=1e-12)
    np.testing.assert_allclose(g["b"], [dz + np.tanh(z)], rtol=1e-12)


def test_vjp_closed_over_constant_and_index_changed_before_vjp_fn():
    c = np.array([1.0, 2.0, 3.0])
    idx = np.array([0, 0, 2])
    out, vjp_fn = cr.vjp(lambda x: x * c + x[idx], np.ones(3))
    c[:] = 0.0
    idx[:] = 1
    (g,) = vjp_fn(np.ones(3))
    np.testing.assert_array_equal(g, [1.0 + 2.0, 2.0, 3.0 + 1.0])


def test_vjp_fn_called_twice_with_caller_changing_the_first_result():
    out, vjp_fn = cr.vjp(lambda x: x * 2.0, np.ones(2))
    ct = np.array([1.0, 1.0])
    (g1,) = vjp_fn(ct)
    g1[:] = -5.0   # the caller owns it
    ct[:] = 7.0    # and its cotangent
    (g2,) = vjp_fn(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(g2, [2.0, 2.0])


def test_backward_cotangent_and_grad_are_not_shared():
    x = cr.tensor(np.ones(3), requires_grad=True)
    ct = np.array([1.0, 2.0, 3.0])
    y = x + 0.0           # its gradient is the cotangent itself
    y.backward(ct)
    ct[:] = 0.0
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])
    y2 = x * 1.0
    y2.backward(np.ones(3))  # accumulates into x.grad in place...
    np.testing.assert_array_equal(x.grad, [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(ct, [0.0, 0.0, 0.0])  # ...never into the caller's array


def test_grad_results_owned_across_steps():
    """params -= lr * grads in place between cr.grad steps (the DESIGN constraint)."""
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    params = {"W": W.copy()}
    f = cr.grad(lambda p: cr.sum(cr.tanh(X @ p["W"].T) ** 2))
    for _ in range(3):
        g = f(params)
        assert not np.shares_memory(g["W"], params["W"])
        ref = f({"W": params["W"].copy()})
        params["W"] -= 0.1 * g["W"]
        np.testing.assert_array_equal(g["W"], ref["W"])


def test_traced_graph_backward_after_constant_changed():
    """cr.trace's Graph outlives the call too: its backward pass later is unaffected."""
    c = np.array([1.0, 2.0])
    g = cr.trace(lambda x: cr.sum(x * c), np.ones(2))
    c[:] = 0.0
    np.testing.assert_array_equal(g.backward()[1], [1.0, 2.0])


def test_jit_constants_are_fixed_at_trace_time():
    """cr.jit (documented): NumPy arrays closed over are constants of the traced program."""
    c = np.array([1.0, 2.0, 3.0])
    f = cr.jit(cr.grad(lambda x: cr.sum(x * c)))
    np.testing.assert_array_equal(f(np.ones(3)), [1.0, 2.0, 3.0])
    c[:] = 0.0
    np.testing.assert_array_equal(f(np.ones(3)), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("kind", ["grad", "value_and_grad", "jacobian"])
def test_transforms_that_return_their_results_do_not_copy_constants(kind):
    """No cost where none is needed: cr.grad records the caller's array itself."""
    seen = []

    @cr.primitive
    def scale(x, c):
        return x * c
    scale.defvjp(lambda g, ans, x, c: g * c, None)

    def f(x):
        y = scale(x, c)
        seen.append(y.args[1])
        return cr.sum(y)
    c = np.array([1.0, 2.0])
    transform = {"grad": cr.grad, "value_and_grad": cr.value_and_grad,
                 "jacobian": cr.jacobian}[kind]
    transform(f)(np.ones(2))
    assert seen[0] is c


def test_object_style_copies_the_constant():
    c = np.array([1.0, 2.0])
    y = cr.tensor(np.ones(2), requires_grad=True) * c
    assert y.args[1] is not c and np.array_equal(y.args[1], c)
