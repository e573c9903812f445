"""Properties of the engine itself: depth, memory, errors, dtypes, pytrees, ownership,
NumPy dispatch, the Tensor surface and higher order."""
import gc
import threading
import weakref

import numpy as np
import pytest

import chainrule as cr


# ----- depth: no recursion anywhere ------------------------------------------------------
DEPTH = 10 ** 5


def _chain(x, n=DEPTH):
    """n operations: x <- x + 1e-4 * tanh(x), three ops a step (fan-out: x is used twice)."""
    for _ in range(n // 3):
        x = x + cr.tanh(x) * 1e-4
    return x


def _chain_derivative(x0, n=DEPTH):
    """d/dx of _chain at x0, by the chain rule written out in NumPy."""
    x, d = np.array(x0, dtype=float), np.ones(np.shape(x0))
    for _ in range(n // 3):
        t = np.tanh(x)
        d = d * (1 + 1e-4 * (1 - t * t))
        x = x + t * 1e-4
    return d


def test_deep_chain_grad():
    x0 = np.array([0.3, -1.2])
    g = cr.grad(lambda x: cr.sum(_chain(x)))(x0)
    expected = _chain_derivative(x0)
    assert np.all((expected > 1.1) & (expected < 10))  # neither vanishes nor explodes
    np.testing.assert_allclose(g, expected, rtol=1e-9)


def test_deep_chain_backward_and_drop():
    x = cr.tensor(np.array([0.3, -1.2]), requires_grad=True)
    y = cr.sum(_chain(x))
    y.backward()
    np.testing.assert_allclose(x.grad, _chain_derivative(x.value), rtol=1e-9)
    del y  # freeing a 10^5-deep chain must not recurse either


# ----- memory: a finished computation is freed by reference counting alone ---------------
@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_object_style_graph_freed_when_result_dropped(no_gc):
    x = cr.tensor(np.ones(10), requires_grad=True)
    h = cr.tanh(x)
    z = h * h
    refs = [weakref.ref(h), weakref.ref(h.value), weakref.ref(z), weakref.ref(z.value)]
    y = cr.sum(z)
    del h, z
    y.backward()
    assert all(r() is not None for r in refs), "still part of y's graph"
    del y
    dead = [r() is None for r in refs]
    assert all(dead), f"kept alive after the result was dropped (reference cycle?): {dead}"
    assert x.grad is not None  # the leaf and its gradient stay


def _recording(refs):
    def f(x):
        h = cr.tanh(x) * x
        refs.extend([weakref.ref(h), weakref.ref(h.value)])
        s = cr.softmax(h[1:], axis=0)
        refs.extend([weakref.ref(s), weakref.ref(s.value)])
        return cr.sum(s * h[:-1]) + cr.max(h)
    return f


@pytest.mark.parametrize("transform", [
    "grad", "value_and_grad", "jacobian", "jacfwd", "grad_of_grad",
    "hessian", "jacfwd_of_grad"])
def test_transform_leaves_nothing_alive(no_gc, transform):
    refs = []
    f = _recording(refs)
    x = np.linspace(-1, 1, 5)
    if transform == "grad":
        res = cr.grad(f)(x)
    elif transform == "value_and_grad":
        res = cr.value_and_grad(f)(x)
    elif transform == "hessian":
        res = cr.hessian(f)(x)
    elif transform == "jacobian":
        res = cr.jacobian(lambda a: cr.stack([f(a), f(a)]))(x)
    elif transform == "jacfwd":
        res = cr.jacfwd(f)(x)
    elif transform == "jacfwd_of_grad":
        res = cr.jacfwd(cr.grad(f))(x)
    else:
        res = cr.grad(lambda a: cr.sum(cr.grad(f)(a) ** 2))(x)
    assert refs
    assert res is not None
    alive = sum(r() is not None for r in refs)
    assert alive == 0, f"{alive} of {len(refs)} intermediates survive a finished {transform}"


def test_vjp_keeps_graph_until_vjp_fn_dropped(no_gc):
    refs = []
    out, vjp_fn = cr.vjp(_recording(refs), np.linspace(-1, 1, 5))
    assert all(r() is not None for r in refs)
    vjp_fn(np.array(1.0))
    del vjp_fn
    assert all(r() is None for r in refs)


def test_nothing_survives_a_transform_that_raises(no_gc):
    refs = []

    def f(x):
        h = cr.exp(x)
        refs.append(weakref.ref(h))
        raise RuntimeError("user error")

    with pytest.raises(RuntimeError):
        cr.grad(f)(np.ones(3))
    assert refs[0]() is None
    # and the next transform works normally
    np.testing.assert_allclose(cr.grad(lambda x: cr.sum(x * x))(np.ones(3)), 2 * np.ones(3))


# ----- error messages ---------------------------------------------------------------------
def test_backward_on_non_scalar_says_scalar_and_jacobian():
    x = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError) as e:
        (x * 2).backward()
    msg = str(e.value)
    assert "scalar" in msg and "jacobian" in msg
    assert "(3,)" in msg


def test_backward_with_explicit_cotangent_on_non_scalar():
    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (x * x).backward(gradient=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 12.0])
    with pytest.raises(ValueError) as e:
        (x * x).backward(gradient=np.ones(4))
    assert "(4,)" in str(e.value) and "(3,)" in str(e.value)


def test_grad_of_non_scalar_says_scalar_and_jacobian():
    with pytest.raises(ValueError) as e:
        cr.grad(lambda x: x * 2)(np.ones(3))
    msg = str(e.value)
    assert isinstance(e.value, cr.NonScalarError)
    assert "scalar" in msg and "jacobian" in msg


SHAPE_ERRORS = [  # (id, call, op, shapes the message must name, an operator?)
    ("add", lambda a, b: cr.add(a, b), "add", ["(2, 3)", "(4,)"], False),
    ("operator*", lambda a, b: a * b, "multiply", ["(2, 3)", "(4,)"], True),
    ("matmul", lambda a, b: cr.matmul(a, b), "matmul", ["(2, 3)", "(4,)"], False),
    ("operator@", lambda a, b: a @ b, "matmul", ["(2, 3)", "(4,)"], True),
    ("where", lambda a, b: cr.where(np.ones((2, 3), bool), a, b), "where", ["(2, 3)", "(4,)"],
     False),
    ("maximum", lambda a, b: cr.maximum(a, b), "maximum", ["(2, 3)", "(4,)"], False),
    ("concatenate", lambda a, b: cr.concatenate([a, cr.reshape(b, (2, 2))], axis=0),
     "concatenate", ["(2, 3)", "(2, 2)"], False),
    ("stack", lambda a, b: cr.stack([a, cr.reshape(b, (2, 2))]), "stack", ["(2, 3)", "(2, 2)"],
     False),
    ("reshape", lambda a, b: cr.reshape(a, (4,)), "reshape", ["(2, 3)", "(4,)"], False),
]


@pytest.mark.parametrize("mode", ["numpy", "tensor", "grad"])
@pytest.mark.parametrize("call, op, shapes, operator", [c[1:] for c in SHAPE_ERRORS],
                         ids=[c[0] for c in SHAPE_ERRORS])
def test_shape_mismatch_names_op_and_both_shapes(call, op, shapes, operator, mode):
    if operator and mode == "numpy":
        pytest.skip("a Python operator on two ndarrays is NumPy's, not chainrule's")
    a, b = np.ones((2, 3)), np.ones(4)
    with pytest.raises(cr.ShapeError) as e:
        if mode == "numpy":
            call(a, b)
        elif mode == "tensor":
            call(cr.tensor(a, requires_grad=True), cr.tensor(b))
        else:
            cr.grad(lambda x, y: cr.sum(call(x, y)), argnums=(0, 1))(a, b)
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert op in msg, msg
    for s in shapes:
        assert s in msg, msg


def test_shape_error_names_the_requested_shape():
    with pytest.raises(cr.ShapeError) as e:
        cr.broadcast_to(cr.tensor(np.ones(4), requires_grad=True), (2, 3))
    msg = str(e.value)
    assert "broadcast_to" in msg and "(4,)" in msg and "(2, 3)" in msg, msg


# ----- integer inputs ---------------------------------------------------------------------
def test_integer_inputs_to_grad_are_float64():
    f = lambda x: cr.sum(x * x * 0.5)  # noqa: E731
    g = cr.grad(f)(np.array([1, 2, 3]))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [1.0, 2.0, 3.0])
    g = cr.grad(lambda x: x ** 3)(2)
    assert g.dtype == np.float64 and g == 12.0
    v, (gx, gy) = cr.value_and_grad(lambda x, y: cr.sum(x * y), argnums=(0, 1))(
        np.array([1, 2]), np.array([0.5, 0.25]))
    assert v == 1.0 and gx.dtype == np.float64
    np.testing.assert_array_equal(gx, [0.5, 0.25])
    np.testing.assert_array_equal(gy, [1.0, 2.0])
    # integer division is true division, as in NumPy
    np.testing.assert_allclose(cr.grad(lambda x: cr.sum(x / 2))(np.array([3, 5])), [0.5, 0.5])


def test_integer_tensor_with_requires_grad_is_refused_clearly():
    with pytest.raises(TypeError) as e:
        cr.tensor(np.array([1, 2]), requires_grad=True)
    assert "int" in str(e.value) and "float" in str(e.value)


# ----- .grad accumulation ------------------------------------------------------------------
def test_grad_accumulates_across_backward_and_zero_grad_resets():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert x.grad is None
    cr.sum(x * x).backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    cr.sum(x * x).backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    x.zero_grad()
    assert x.grad is None
    cr.sum(3.0 * x).backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    x.grad = None
    y = cr.sum(x * x + x)  # fan-out inside one pass: 2x + 1
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 5.0])
    y.backward()  # the same graph again: accumulates again
    np.testing.assert_array_equal(x.grad, [6.0, 10.0])


def test_accumulated_grads_of_two_leaves_are_independent():
    """add passes the same message to both inputs: their .grad must not share memory."""
    a = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = cr.sum(a + b)
    y.backward()
    assert not np.shares_memory(a.grad, b.grad)
    y.backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    np.testing.assert_array_equal(b.grad, [2.0, 2.0])
    a.grad += 10.0
    np.testing.assert_array_equal(b.grad, [2.0, 2.0])


def test_only_leaves_get_grad():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = cr.tensor(np.array([5.0, 6.0]))  # requires_grad=False
    h = cr.tanh(x)
    cr.sum(h * c).backward()
    assert h.grad is None and c.grad is None
    np.testing.assert_allclose(x.grad, (1 - np.tanh([1.0, 2.0]) ** 2) * [5.0, 6.0])


def test_backward_without_requires_grad_is_refused():
    with pytest.raises(ValueError, match="requires_grad"):
        cr.sum(cr.tensor(np.ones(2)) * 2).backward()


# ----- pytrees ------------------------------------------------------------------------------
def _loss(params, x, scale):
    h = cr.tanh(x @ params["W"] + params["b"][0])
    return scale[0] * cr.sum(h * params["b"][1][0]) + scale[1] * cr.sum(params["b"][1][1] * h)


def test_grad_over_pytrees():
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((3, 2)),
              "b": [rng.standard_normal(2), (rng.standard_normal(2), 0.7)]}
    x = rng.standard_normal((4, 3))
    scale = (2.0, np.array(-1.5))
    v, (gp, gx, gs) = cr.value_and_grad(_loss, argnums=(0, 1, 2))(params, x, scale)
    assert isinstance(gp, dict) and set(gp) == {"W", "b"}
    assert isinstance(gp["b"], list) and isinstance(gp["b"][1], tuple)
    assert isinstance(gs, tuple)
    for leaf in [gp["W"], gp["b"][0], gp["b"][1][0], gp["b"][1][1], gx, gs[0], gs[1]]:
        assert isinstance(leaf, np.ndarray) and leaf.dtype == np.float64
    assert gp["b"][1][1].shape == () and gs[0].shape == ()
    # against the same derivative written by hand
    W, b0, b10, b11 = params["W"], *params["b"][0:1], *params["b"][1]
    h = np.tanh(x @ W + b0)
    np.testing.assert_allclose(v, 2.0 * np.sum(h * b10) - 1.5 * np.sum(b11 * h))
    dh = 2.0 * b10 - 1.5 * b11
    dz = dh * (1 - h * h)
    np.testing.assert_allclose(gp["W"], x.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(gp["b"][0], dz.sum(0), rtol=1e-12)
    np.testing.assert_allclose(gp["b"][1][0], 2.0 * h.sum(0), rtol=1e-12)
    np.testing.assert_allclose(gp["b"][1][1], -1.5 * h.sum(), rtol=1e-12)
    np.testing.assert_allclose(gx, dz @ W.T, rtol=1e-12)
    np.testing.assert_allclose(gs[0], np.sum(h * b10), rtol=1e-12)
    # argnums as an int gives the tree itself; negative argnums count from the end
    g0 = cr.grad(_loss)(params, x, scale)
    np.testing.assert_array_equal(g0["W"], gp["W"])
    g2 = cr.grad(_loss, argnums=-1)(params, x, scale)
    np.testing.assert_array_equal(g2[1], gs[1])


# ----- ownership: gradients are the caller's, and in-place updates are safe --------------
def test_returned_gradients_are_owned_copies():
    rng = np.random.default_rng(1)
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    x = rng.standard_normal((4, 3))

    def loss(p):
        return cr.sum(cr.tanh(x @ p["W"] + p["b"]) ** 2)

    g1 = cr.grad(loss)(params)
    keep = {k: v.copy() for k, v in g1.items()}
    for v in g1.values():
        v += 100.0  # scribble on them: they must be writeable and not the engine's
    g2 = cr.grad(loss)(params)
    for k in keep:
        np.testing.assert_array_equal(g2[k], keep[k])
    # a gradient never aliases an input or a cotangent
    ct = np.array([1.0, 2.0])
    x0 = np.array([3.0, 4.0])
    (g,) = cr.vjp(lambda a: a, x0)[1](ct)
    assert not np.shares_memory(g, ct) and not np.shares_memory(g, x0)
    g = cr.grad(lambda a: cr.sum(a))(x0)
    g += 1.0  # writeable
    ga, gb = cr.grad(lambda a, b: cr.sum(a + b), argnums=(0, 1))(x0, x0)
    assert not np.shares_memory(ga, gb)


def test_in_place_sgd_updates_between_steps():
    rng = np.random.default_rng(2)
    params = {"W": rng.standard_normal((3, 1)), "b": np.zeros(1)}
    x = rng.standard_normal((20, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3

    def loss(p):
        return cr.mean((x @ p["W"] + p["b"] - y) ** 2)

    losses = []
    for _ in range(50):
        v, g = cr.value_and_grad(loss)(params)
        losses.append(float(v))
        params["W"] -= 0.1 * g["W"]
        params["b"] -= 0.1 * g["b"]
    assert losses[-1] < 0.05 * losses[0]
    np.testing.assert_allclose(float(cr.value_and_grad(loss)(params)[0]),
                               np.mean((x @ params["W"] + params["b"] - y) ** 2), rtol=1e-12)


def test_in_place_update_of_input_does_not_corrupt_live_vjp():
    x = np.array([1.0, 2.0])
    out, vjp_fn = cr.vjp(lambda a: cr.sum(a * a), x)
    x *= 10.0  # e.g. params -= lr * grad, between the forward and the backward pass
    (g,) = vjp_fn(np.array(1.0))
    np.testing.assert_array_equal(g, [2.0, 4.0])


def test_tensor_copies_its_value():
    v = np.array([1.0, 2.0])
    x = cr.tensor(v, requires_grad=True)
    y = cr.sum(x * x)
    v *= 10.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


# ----- NumPy's dispatch protocols -----------------------------------------------------------
@pytest.mark.parametrize("np_call, cr_call", [
    (lambda t: np.tanh(t), lambda t: cr.tanh(t)),
    (lambda t: np.exp(t), lambda t: cr.exp(t)),
    (lambda t: np.sin(t), lambda t: cr.sin(t)),
    (lambda t: np.abs(t), lambda t: cr.abs(t)),
    (lambda t: np.square(t), lambda t: cr.square(t)),
    (lambda t: np.negative(t), lambda t: cr.negative(t)),
    (lambda t: np.maximum(t, 0.5), lambda t: cr.maximum(t, 0.5)),
    (lambda t: np.add(t, 1.0), lambda t: cr.add(t, 1.0)),
    (lambda t: np.multiply(2.0, t), lambda t: cr.multiply(2.0, t)),
    (lambda t: np.power(t, 2), lambda t: cr.power(t, 2)),
    (lambda t: np.sum(t), lambda t: cr.sum(t)),
    (lambda t: np.sum(t, axis=0, keepdims=True), lambda t: cr.sum(t, 0, keepdims=True)),
    (lambda t: np.mean(t, axis=1), lambda t: cr.mean(t, 1)),
    (lambda t: np.max(t, axis=1), lambda t: cr.max(t, 1)),
    (lambda t: np.min(t), lambda t: cr.min(t)),
    (lambda t: np.reshape(t, (3, 2)), lambda t: cr.reshape(t, (3, 2))),
    (lambda t: np.transpose(t), lambda t: cr.transpose(t)),
    (lambda t: np.expand_dims(t, 0), lambda t: cr.expand_dims(t, 0)),
    (lambda t: np.concatenate([t, t], axis=1), lambda t: cr.concatenate([t, t], axis=1)),
    (lambda t: np.stack([t, t]), lambda t: cr.stack([t, t])),
    (lambda t: np.where(np.eye(2, 3, dtype=bool), t, 0.0),
     lambda t: cr.where(np.eye(2, 3, dtype=bool), t, 0.0)),
    (lambda t: np.clip(t, -0.5, 0.5), lambda t: cr.clip(t, -0.5, 0.5)),
    (lambda t: np.matmul(t, t.T), lambda t: cr.matmul(t, cr.transpose(t))),
    (lambda t: np.dot(t, t.T), lambda t: cr.dot(t, cr.transpose(t))),
    (lambda t: np.ones((3, 2)) @ t, lambda t: cr.matmul(np.ones((3, 2)), t)),
    (lambda t: np.ones(3) + t, lambda t: cr.add(np.ones(3), t)),
    (lambda t: np.ones(3) * t, lambda t: cr.multiply(np.ones(3), t)),
])
def test_numpy_functions_on_tensors_record_the_same_op(np_call, cr_call):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((2, 3))
    t = cr.tensor(x0, requires_grad=True)
    a = np_call(t)  # ndarray-on-the-left cases go through __array_ufunc__ too
    b = cr_call(t)
    assert isinstance(a, cr.Tensor), type(a)
    assert a.op is b.op, (a.op, b.op)
    assert a.op.name == b.op.name
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    ga = cr.grad(lambda x: cr.sum(np_call(x) * np.arange(np.size(a)).reshape(a.shape)))(t.value)
    gb = cr.grad(lambda x: cr.sum(cr_call(x) * np.arange(np.size(a)).reshape(a.shape)))(t.value)
    np.testing.assert_array_equal(ga, gb)


def test_numpy_dispatch_names():
    t = cr.tensor(np.array([[0.5, -1.0], [2.0, 0.1]]), requires_grad=True)
    assert np.tanh(t).op.name == "tanh" and np.tanh(t).op is cr.tanh(t).op
    assert np.sum(t).op.name == "sum" and np.sum(t).op is cr.sum(t).op
    # piecewise-constant functions (sign, comparisons) give their value and pass no gradient
    np.testing.assert_array_equal(np.asarray(np.sign(t)), np.sign(t.value))
    np.testing.assert_array_equal(np.asarray(t > 0), t.value > 0)
    g = cr.grad(lambda x: cr.sum(np.sign(x) * x + cr.where(x > 0, x, 0.0)))(t.value)
    np.testing.assert_array_equal(g, np.sign(t.value) + (t.value > 0))
    # unknown functions are refused by name rather than silently losing the gradient
    with pytest.raises(TypeError, match="polyfit"):
        np.polyfit(t, t, 1)


# ----- the Tensor surface --------------------------------------------------------------------
def test_tensor_attributes():
    v = np.arange(6.0).reshape(2, 3)
    t = cr.tensor(v, requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float64 and t.size == 6
    assert len(t) == 2
    tt = t.T
    assert isinstance(tt, cr.Tensor) and tt.shape == (3, 2) and tt.op.name == "transpose"
    np.testing.assert_array_equal(np.asarray(tt), v.T)
    a = np.asarray(t)
    assert type(a) is np.ndarray
    np.testing.assert_array_equal(a, v)
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert t.is_leaf and not tt.is_leaf
    assert tt.parents == (t,)
    f32 = cr.tensor(v, dtype=np.float32)
    assert f32.dtype == np.float32 and (f32 * 2).dtype == np.float32
    s = t[1]
    assert s.op.name == "getitem" and s.shape == (3,)
    assert float(cr.sum(t)) == 15.0
    assert "tensor(" in repr(t)


def test_tensor_indexing_gradients():
    x = cr.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = (cr.sum(x[1:, ::2]) + cr.sum(x[np.array([0, 0, 2]), 1])
         + cr.sum(x[x.value > 8]) + cr.sum(x[[True, False, True]]))
    y.backward()
    expected = np.zeros((3, 4))
    expected[1:, ::2] += 1
    np.add.at(expected, (np.array([0, 0, 2]), 1), 1)
    expected[x.value > 8] += 1
    expected[[0, 2]] += 1
    np.testing.assert_array_equal(x.grad, expected)


# ----- higher order -----------------------------------------------------------------------------
def test_third_derivative_of_tanh():
    xs = np.linspace(-2.5, 2.5, 11)
    d3 = cr.grad(cr.grad(cr.grad(cr.tanh)))
    t = np.tanh(xs)
    expected = -2 * (1 - t ** 2) * (1 - 3 * t ** 2)
    got = np.array([d3(x) for x in xs])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # forward over reverse over reverse agrees
    d3f = cr.jacfwd(cr.grad(cr.grad(cr.tanh)))
    np.testing.assert_allclose(np.array([d3f(x) for x in xs]), expected, rtol=1e-12, atol=1e-14)


def test_third_derivative_object_style_with_create_graph():
    x = cr.tensor(0.7, requires_grad=True)
    cr.tanh(x).backward(create_graph=True)
    g1 = x.grad
    assert isinstance(g1, cr.Tensor)
    x.zero_grad()
    g1.backward(create_graph=True)
    g2 = x.grad
    x.zero_grad()
    g2.backward()
    t = np.tanh(0.7)
    np.testing.assert_allclose(float(g1), 1 - t ** 2, rtol=1e-14)
    np.testing.assert_allclose(float(g2), -2 * t * (1 - t ** 2), rtol=1e-14)
    np.testing.assert_allclose(float(x.grad), -2 * (1 - t ** 2) * (1 - 3 * t ** 2), rtol=1e-12)


def test_fourth_derivative_of_a_product():
    # f(x) = x^2 sin(x): f'''' = (x^2 - 12) sin x - 8 x cos x
    f = lambda x: x * x * cr.sin(x)  # noqa: E731
    d4 = cr.grad(cr.grad(cr.grad(cr.grad(f))))
    for x in [-1.3, 0.0, 0.4, 2.2]:
        np.testing.assert_allclose(d4(x), (x * x - 12) * np.sin(x) - 8 * x * np.cos(x),
                                   rtol=1e-12, atol=1e-12)


# ----- threads -----------------------------------------------------------------------------------
def test_recording_is_per_thread():
    results, errors = {}, []

    def work(k):
        try:
            x = np.full(50, 0.1 * k)
            for _ in range(20):
                g = cr.grad(lambda a: cr.sum(cr.tanh(a * k) ** 2))(x)
            results[k] = g
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k, g in results.items():
        th = np.tanh(0.1 * k * k)
        np.testing.assert_allclose(g, 2 * th * (1 - th ** 2) * k * np.ones(50), rtol=1e-12)
