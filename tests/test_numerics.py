"""Numerical edges: infinities, NaN, overflow, empty reductions, and dtypes kept end to end.

The contract these tests hold chainrule to (docs/reliability.md, "Numerical edges"):

- Values follow NumPy: log(0) = -inf, 1/0 = inf, exp(1000) = inf, each with NumPy's own
  RuntimeWarning from the forward, as np.log/np.divide/np.exp give. Composite operations
  (logsumexp, softmax, log_softmax, sigmoid) are stable: -inf entries and large logits
  give their exact values without warnings.
- Gradients are finite wherever the derivative is, including at -inf logits
  (logsumexp([-inf, 0]) has gradient [0, 1]; a slice of only -inf has gradient 0);
  +/-inf where the derivative is infinite (log, 1/x, sqrt, x**0.5 at 0); NaN where there is
  none (d/dy x**y for x < 0, 0 * inf).
- A derivative rule never warns where the forward was silent, unless it makes a NaN
  (which is the only hint a user gets of a NaN gradient). It may repeat the forward's
  own warning (log and divide at 0), at no cost to the common path.
- Nothing crashes: every case runs both through cr.grad and through .backward().
- float32 in -> float32 values, gradients, tangents and every backward message; ints and
  bools given to cr.grad are differentiated as float64; cr.tensor(int, requires_grad=True)
  raises TypeError.
"""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.backward import backward_pass, reverse_topological

inf, nan = np.inf, np.nan


class Edge:
    """One edge input: f(x) must give ``value`` and gradient ``grad``.

    fwd_warns / bwd_warns: True (a RuntimeWarning is expected), False (none may be
    raised), None (either is fine).
    """

    def __init__(self, name, f, x, value, grad, fwd_warns=False, bwd_warns=False):
        self.name, self.f, self.x = name, f, np.asarray(x, dtype=np.float64)
        self.value, self.grad = value, np.asarray(grad, dtype=np.float64)
        self.fwd_warns, self.bwd_warns = fwd_warns, bwd_warns


W12 = np.array([1.0, 2.0])

EDGES = [
    # log, division, overflow: NumPy's values and warnings, the derivative's infinities
    Edge("log of 0", lambda x: cr.sum(cr.log(x)), [0.0, 1.0], -inf, [inf, 1.0],
         fwd_warns=True, bwd_warns=None),
    Edge("1/x at 0", lambda x: cr.sum(1.0 / x), [0.0, 2.0], inf, [-inf, -0.25],
         fwd_warns=True, bwd_warns=None),
    Edge("x/0", lambda x: cr.sum(x / np.array([0.0, 2.0])), [1.0, 1.0], inf, [inf, 0.5],
         fwd_warns=True, bwd_warns=None),
    Edge("exp overflow", lambda x: cr.sum(cr.exp(x)), [1000.0, 0.0], inf, [inf, 1.0],
         fwd_warns=True, bwd_warns=False),
    Edge("exp underflow", lambda x: cr.sum(cr.exp(x)), [-1000.0, 0.0], 1.0, [0.0, 1.0]),
    Edge("sqrt at 0", lambda x: cr.sum(cr.sqrt(x)), [0.0, 4.0], 2.0, [inf, 0.25]),
    Edge("x**0.5 at 0", lambda x: cr.sum(x ** 0.5), [0.0, 4.0], 2.0, [inf, 0.25]),
    Edge("x**0 at 0", lambda x: cr.sum(x ** 0.0), [0.0, 4.0], 2.0, [0.0, 0.0]),
    Edge("0**y, y >= 0", lambda y: cr.sum(np.array([0.0, 2.0]) ** y), [0.0, 1.0], 3.0,
         [0.0, np.log(2.0) * 2.0]),
    # no real derivative: NaN, announced by NumPy's "invalid value" warning
    Edge("(-1)**y, d/dy", lambda y: cr.sum(np.array([-1.0, 2.0]) ** y), [2.0, 1.0], 3.0,
         [nan, 2.0 * np.log(2.0)], bwd_warns=True),
    Edge("where(x > 0, sqrt(x), 0) at 0 (0 * inf)",
         lambda x: cr.sum(cr.where(x > 0, cr.sqrt(x), 0.0)), [0.0, 4.0], 2.0, [nan, 0.25],
         bwd_warns=True),
    Edge("the same, written safely (sqrt of where)",
         lambda x: cr.sum(cr.where(x > 0, cr.sqrt(cr.where(x > 0, x, 1.0)), 0.0)),
         [0.0, 4.0], 2.0, [0.0, 0.25]),
    # -inf logits and large logits: exact values, finite gradients, no warnings
    Edge("logsumexp([-inf, 0])", lambda x: cr.logsumexp(x), [-inf, 0.0], 0.0, [0.0, 1.0]),
    Edge("logsumexp([-inf, -inf])", lambda x: cr.logsumexp(x), [-inf, -inf], -inf, [0.0, 0.0]),
    Edge("logsumexp rows, one all -inf", lambda x: cr.sum(cr.logsumexp(x, axis=1)),
         [[-inf, -inf], [0.0, 0.0]], -inf, [[0.0, 0.0], [0.5, 0.5]]),
    Edge("logsumexp keepdims, all -inf", lambda x: cr.sum(cr.logsumexp(x, 0, keepdims=True)),
         [[-inf], [-inf]], -inf, [[0.0], [0.0]]),
    Edge("logsumexp([1000, 1000])", lambda x: cr.logsumexp(x), [1000.0, 1000.0],
         1000.0 + np.log(2.0), [0.5, 0.5]),
    Edge("logsumexp([-1000, -1000])", lambda x: cr.logsumexp(x), [-1000.0, -1000.0],
         -1000.0 + np.log(2.0), [0.5, 0.5]),
    Edge("log_softmax([-inf, 0])[1]", lambda x: cr.log_softmax(x)[1], [-inf, 0.0], 0.0,
         [0.0, 0.0]),
    Edge("log_softmax([-inf, 0]) . [1, 2]", lambda x: cr.sum(cr.log_softmax(x) * W12),
         [-inf, 0.0], -inf, [1.0, -1.0]),
    Edge("log_softmax([1000, -1000])[0]", lambda x: cr.log_softmax(x)[0], [1000.0, -1000.0],
         0.0, [0.0, 0.0]),
    Edge("softmax([-inf, 0]) . [1, 2]", lambda x: cr.sum(cr.softmax(x) * W12), [-inf, 0.0],
         2.0, [0.0, 0.0]),
    Edge("softmax([1000, 0])[0]", lambda x: cr.softmax(x)[0], [1000.0, 0.0], 1.0, [0.0, 0.0]),
    Edge("sigmoid(+-1000)", lambda x: cr.sum(cr.sigmoid(x) * W12), [1000.0, -1000.0], 1.0,
         [0.0, 0.0]),
    Edge("tanh(+-1000)", lambda x: cr.sum(cr.tanh(x)), [1000.0, -1000.0], 0.0, [0.0, 0.0]),
    # all -inf in (log_)softmax: no value exists, NaN (as NumPy and PyTorch)
    Edge("log_softmax([-inf, -inf])", lambda x: cr.log_softmax(x)[1], [-inf, -inf], nan,
         [nan, nan], fwd_warns=None, bwd_warns=None),
    Edge("softmax([-inf, -inf])", lambda x: cr.softmax(x)[1], [-inf, -inf], nan, [nan, nan],
         fwd_warns=None, bwd_warns=None),
    Edge("logsumexp([inf, 0])", lambda x: cr.logsumexp(x), [inf, 0.0], inf, [nan, 0.0],
         bwd_warns=None),
    # NaN inputs: NaN values; a NaN does not leak into the other entries' gradients
    Edge("tanh([nan, 0])", lambda x: cr.sum(cr.tanh(x)), [nan, 0.0], nan, [nan, 1.0]),
    Edge("sum([nan, 1])", lambda x: cr.sum(x), [nan, 1.0], nan, [1.0, 1.0]),
    Edge("mean([nan, 1])", lambda x: cr.mean(x), [nan, 1.0], nan, [0.5, 0.5]),
    Edge("max([nan, 0])", lambda x: cr.max(x), [nan, 0.0], nan, [1.0, 0.0]),
    Edge("max([nan, nan])", lambda x: cr.max(x), [nan, nan], nan, [0.5, 0.5]),
    Edge("min rows with a nan", lambda x: cr.sum(cr.min(x, axis=1)),
         [[nan, 0.0, 1.0], [2.0, 1.0, 1.0]], nan, [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]),
    Edge("relu([nan, 1])", lambda x: cr.sum(cr.relu(x)), [nan, 1.0], nan, [0.0, 1.0]),
    Edge("maximum([nan, 1], 0)", lambda x: cr.sum(cr.maximum(x, 0.0)), [nan, 1.0], nan,
         [0.0, 1.0]),
    Edge("logsumexp([nan, 0])", lambda x: cr.logsumexp(x), [nan, 0.0], nan, [nan, nan]),
    # empty reductions
    Edge("mean of an empty axis", lambda x: cr.sum(cr.mean(x, axis=1)), np.zeros((2, 0)),
         nan, np.zeros((2, 0)), fwd_warns=True, bwd_warns=False),
    Edge("sum of empty", lambda x: cr.sum(x), np.zeros(0), 0.0, np.zeros(0)),
    Edge("logsumexp of empty", lambda x: cr.logsumexp(x), np.zeros(0), -inf, np.zeros(0)),
]


def _runtime(ws):
    return [str(w.message) for w in ws if issubclass(w.category, RuntimeWarning)]


def _check_warnings(expected, got, where, name):
    if expected is True:
        assert got, f"{name}: expected a RuntimeWarning from the {where}"
    elif expected is False:
        assert not got, f"{name}: unexpected RuntimeWarning(s) from the {where}: {got}"


def _same(actual, expected):
    """Equal, NaN where NaN, infinities of the same sign."""
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(np.asarray(actual)[ok], np.asarray(expected)[ok],
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("e", EDGES, ids=[e.name for e in EDGES])
def test_edge_backward(e):
    """Object style: value, gradient and warnings, forward and backward separately."""
    with warnings.catch_warnings(record=True) as fw:
        warnings.simplefilter("always")
        x = cr.tensor(e.x, requires_grad=True)
        y = e.f(x)
    with warnings.catch_warnings(record=True) as bw:
        warnings.simplefilter("always")
        y.backward()
    _same(y.value, e.value)
    _same(x.grad, e.grad)
    _check_warnings(e.fwd_warns, _runtime(fw), "forward", e.name)
    _check_warnings(e.bwd_warns, _runtime(bw), "backward pass", e.name)


@pytest.mark.parametrize("e", EDGES, ids=[e.name for e in EDGES])
def test_edge_grad(e):
    """Functional style gives the same value and gradient (its own code path)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v, g = cr.value_and_grad(e.f)(e.x.copy())
    _same(v, e.value)
    _same(g, e.grad)


def test_empty_max_is_a_shape_error_like_numpy():
    with pytest.raises(ValueError, match="zero-size"):
        cr.max(cr.tensor(np.zeros(0), requires_grad=True))


def test_logsumexp_all_minus_inf_forward_mode_and_hessian_are_finite():
    _, t = cr.jvp(cr.logsumexp, (np.array([-inf, -inf]),), (np.array([2.0, 3.0]),))
    assert t == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = cr.hessian(lambda x: cr.logsumexp(x))(np.array([1.0, -2.0]))
    s = np.exp([1.0, -2.0]) / np.exp([1.0, -2.0]).sum()
    np.testing.assert_allclose(h, np.diag(s) - np.outer(s, s), rtol=1e-12)


def test_nan_input_trains_nothing_else():
    """A NaN in one example of a batch leaves the other examples' input gradients finite."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4))
    X = rng.standard_normal((5, 3))
    X[2, 1] = nan
    g = cr.grad(lambda X: cr.sum(cr.log_softmax(cr.tanh(X @ W), axis=1)[:, 0]))(X)
    assert np.isnan(g[2]).all()
    assert np.isfinite(np.delete(g, 2, axis=0)).all()


# ----- dtypes ----------------------------------------------------------------------------
F32 = np.float32
_M = np.random.default_rng(1).uniform(0.5, 1.5, (3, 2)).astype(F32)

# Every differentiable op of cr.ops.__all__, on a float32 (2, 3) input in (0.5, 1.5).
FLOAT32_CASES = {
    "abs": cr.abs, "add": lambda x: x + 2.0, "clip": lambda x: cr.clip(x, 0.7, 1.2),
    "cos": cr.cos, "divide": lambda x: 1.0 / x, "exp": cr.exp, "log": cr.log,
    "maximum": lambda x: cr.maximum(x, 1.0), "minimum": lambda x: cr.minimum(x, 1.0),
    "multiply": lambda x: x * 3.0, "negative": cr.negative, "power": lambda x: x ** 1.5,
    "power (x ** 0.5)": lambda x: x ** 0.5, "power (2 ** x)": lambda x: 2.0 ** x,
    "power (x ** x)": lambda x: x ** x, "relu": cr.relu, "sigmoid": cr.sigmoid,
    "sin": cr.sin, "sqrt": cr.sqrt, "square": cr.square, "subtract": lambda x: 1.0 - x,
    "tanh": cr.tanh, "where": lambda x: cr.where(x > 1.0, x, 0.0),
    "dot": lambda x: cr.dot(x, _M), "matmul": lambda x: x @ _M,
    "log_softmax": cr.log_softmax, "softmax": cr.softmax,
    "logsumexp": lambda x: cr.logsumexp(x, axis=1), "max": lambda x: cr.max(x, 0),
    "mean": lambda x: cr.mean(x, 1), "min": cr.min,
    "sum": lambda x: cr.sum(x, 0, keepdims=True),
    "broadcast_to": lambda x: cr.broadcast_to(x, (2, 2, 3)),
    "concatenate": lambda x: cr.concatenate([x, x], 1),
    "expand_dims": lambda x: cr.expand_dims(x, 0),
    "getitem": lambda x: x[[0, 0, 1]], "getitem (mask)": lambda x: x[x > 1.0],
    "index_add": lambda x: cr.index_add(x, (np.array([0, 0]),), (3, 3)),
    "reshape": lambda x: cr.reshape(x, (3, 2)),
    "squeeze": lambda x: cr.squeeze(cr.expand_dims(x, 0)), "stack": lambda x: cr.stack([x, x]),
    "transpose": lambda x: x.T, "sign": lambda x: x * cr.sign(x - 1.0),
}


def test_float32_cases_cover_every_op():
    covered = {name.split(" ")[0] for name in FLOAT32_CASES}
    no_derivative = {"equal", "greater", "greater_equal", "isfinite", "isnan", "less",
                     "less_equal", "logical_and", "logical_not", "logical_or", "not_equal"}
    assert set(cr.ops.__all__) - covered <= no_derivative


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_float32_stays_float32(name):
    """Values, cr.grad, .backward(), every backward message, and jvp tangents."""
    f = FLOAT32_CASES[name]
    A = np.random.default_rng(0).uniform(0.5, 1.5, (2, 3)).astype(F32)
    x = cr.tensor(A, requires_grad=True)
    y = f(x)
    assert y.dtype == F32, f"{name}: value is {y.dtype}"
    loss = cr.sum(y * y)
    loss.backward()
    assert x.grad.dtype == F32
    # internal messages: a float64 message would double the memory and time of the pass
    p = backward_pass(reverse_topological(loss), {loss: np.ones_like(loss.value)}, keep=True)
    bad = [(v.op.name if v.op else "leaf", np.asarray(g).dtype) for v, g in p.items()
           if np.asarray(g).dtype != F32]
    assert not bad, f"{name}: float64 backward messages at {bad}"
    g = cr.grad(lambda a: cr.sum(f(a) * f(a)))(A)
    assert g.dtype == F32
    np.testing.assert_allclose(g, x.grad, rtol=1e-5)
    _, t = cr.jvp(f, (A,), (np.ones_like(A),))
    assert t.dtype == F32, f"{name}: tangent is {t.dtype}"


def test_float32_backward_with_float64_cotangent_stays_float32():
    x = cr.tensor(np.ones(3, F32), requires_grad=True)
    y = cr.tanh(x)
    y.backward(np.ones(3))  # float64 cotangent
    assert x.grad.dtype == F32


def test_float32_mixed_with_float64_constant():
    """NumPy promotes the value to float64; the gradient keeps the input's dtype."""
    c = np.array([1.0, 2.0])
    v, g = cr.value_and_grad(lambda x: cr.sum(x * c))(np.ones(2, F32))
    assert v.dtype == np.float64 and g.dtype == F32


@pytest.mark.parametrize("x", [np.arange(3), np.array([True, False, True]), 3, True],
                         ids=["int array", "bool array", "int", "bool"])
def test_grad_of_int_and_bool_inputs_is_float64(x):
    v, g = cr.value_and_grad(lambda x: cr.sum(x * x * 1.5))(x)
    xf = np.asarray(x, dtype=np.float64)
    assert g.dtype == np.float64 and v.dtype == np.float64
    np.testing.assert_allclose(g, 3.0 * xf)
    np.testing.assert_allclose(v, np.sum(1.5 * xf * xf))


def test_vjp_and_jacobian_of_int_input_are_float64():
    _, f = cr.vjp(lambda x: x * 2.0, np.arange(3))
    (g,) = f(np.ones(3))
    assert g.dtype == np.float64
    assert cr.jacobian(lambda x: x * x)(np.arange(2)).dtype == np.float64


@pytest.mark.parametrize("x", [3, np.arange(3), np.array([True])], ids=["int", "ints", "bool"])
def test_tensor_of_ints_with_requires_grad_raises(x):
    with pytest.raises(TypeError, match="floating-point"):
        cr.tensor(x, requires_grad=True)


def test_tensor_of_ints_without_grad_follows_numpy():
    t = cr.tensor(np.arange(3))
    assert (t * 2).dtype == np.arange(3).dtype
    assert (t / 2).dtype == np.float64


@pytest.mark.parametrize("x", [np.array(["a"]), np.array([object()], dtype=object)],
                         ids=["str", "object"])
def test_grad_refuses_non_numeric(x):
    with pytest.raises(TypeError, match="dtype"):
        cr.grad(lambda a: cr.sum(a))(x)
