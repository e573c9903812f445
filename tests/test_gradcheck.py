"""cr.gradcheck: passes correct programs, and on a wrong rule names the first faulty vertex
(index, op, input, rule), the two local Jacobians and the user code line."""
import inspect
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.check import gradcheck

rng = np.random.default_rng(0)


def line_of(marker):
    """The line number in this file of the line containing ``marker``."""
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    return next(i for i, l in enumerate(lines, 1) if marker in l and "line_of(" not in l)


def make_softplus(vjp_scale=1.0, jvp_scale=1.0, vjp_plain=False):
    """softplus with rules that are right (scale 1) or deliberately wrong."""
    @cr.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)
    if vjp_plain:  # right values, but computed on plain NumPy: a constant to grad of grad
        softplus.defvjp(lambda g, ans, x: g / (1 + np.exp(-getattr(x, "value", x))))
    else:
        softplus.defvjp(lambda g, ans, x: g * cr.sigmoid(vjp_scale * x))
    softplus.defjvp(lambda t, ans, x: t * cr.sigmoid(jvp_scale * x))
    return softplus


def notes_net(softplus):
    """The notes' network with a custom activation in the middle of a chain of core ops."""
    def loss(W, b, V, gamma, x, y):
        z = W @ x + b
        h = cr.tanh(z)
        s = softplus(h)                 # <- the custom vertex
        l = V @ s + gamma
        q = cr.log_softmax(l)
        return -q[y]
    return loss


def net_args():
    return (rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((2, 4)),
            rng.standard_normal(2), rng.standard_normal(3), 1)  # y: an int, held fixed


# vertices: leaves W b V gamma x (1-5), matmul 6, add 7, tanh 8, softplus 9, ...
SOFTPLUS_VERTEX = 9


def test_correct_programs_pass_at_first_and_second_order():
    args = net_args()
    assert gradcheck(notes_net(make_softplus()), *args) is True
    assert gradcheck(notes_net(make_softplus()), *args, order=2) is True
    # pytrees in and out, several shapes, broadcasting, reductions, indexing
    p = {"W": rng.standard_normal((3, 2)), "bs": [rng.standard_normal(3), 0.5]}

    def f(p, x):
        h = cr.sigmoid(p["W"] @ x + p["bs"][0]) * p["bs"][1]
        return {"max": cr.max(h), "parts": (h[::2], cr.logsumexp(cr.stack([h, h * h])))}
    assert gradcheck(f, p, rng.standard_normal(2), order=2)


def test_a_wrong_vjp_rule_inside_a_chain_is_pinpointed():
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(notes_net(make_softplus(vjp_scale=2.0)), *net_args())
    e = info.value
    assert (e.vertex, e.op, e.input, e.rule, e.order) == (SOFTPLUS_VERTEX, "softplus", 0, "VJP", 1)
    assert e.where.lineno == line_of("<- the custom vertex") and e.where.function == "loss"
    msg = str(e)
    assert f"vertex {SOFTPLUS_VERTEX} of" in msg and "op 'softplus'" in msg
    assert "its VJP rule for input 0" in msg and "s = softplus(h)" in msg
    # the two local Jacobians (d_out x d_in = 4 x 4) are in the report and in the error
    assert e.analytic.shape == e.numerical.shape == (4, 4)
    assert "local Jacobian from the rule (4 x 4)" in msg and "finite differences" in msg
    off_diagonal = ~np.eye(4, dtype=bool)
    assert not e.numerical[off_diagonal].any() and not e.analytic[off_diagonal].any()
    assert np.all(np.abs(np.diag(e.analytic) - np.diag(e.numerical)) > 1e-3)
    assert e.max_error > 1e-2


def test_a_wrong_jvp_rule_is_pinpointed():
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(notes_net(make_softplus(jvp_scale=0.5)), *net_args())
    assert (info.value.vertex, info.value.rule) == (SOFTPLUS_VERTEX, "JVP")


def test_the_first_faulty_vertex_is_named_and_the_input():
    @cr.primitive
    def affine(x, w):
        return x * w + 1.0
    affine.defvjp(lambda g, ans, x, w: g * w, lambda g, ans, x, w: g * w)  # input 1: wrong
    affine.defjvp(lambda t, ans, x, w: t * w, lambda t, ans, x, w: x * t)

    def f(x, w):
        a = cr.exp(x)
        b = affine(a, w)               # first use: vertex 4
        c = affine(cr.sin(b), w)       # second use: also wrong, later
        return cr.sum(c)
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(f, rng.standard_normal(3), rng.standard_normal(3))
    e = info.value
    assert (e.vertex, e.op, e.input, e.rule) == (4, "affine", 1, "VJP")
    assert e.where.lineno == line_of("# first use: vertex 4")


def test_second_order_finds_a_rule_that_is_not_differentiable():
    """A rule that computes on plain values has the right value (order 1 passes) but is a
    constant to grad of grad: order 2 names it."""
    f, args = notes_net(make_softplus(vjp_plain=True)), net_args()
    assert gradcheck(f, *args)
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(f, *args, order=2)
    e = info.value
    assert (e.vertex, e.op, e.input, e.rule, e.order) == (SOFTPLUS_VERTEX, "softplus", 0, "VJP", 2)
    assert "derivative" in str(e) and "plain values" in str(e)


def test_second_order_finds_a_wrong_rule_inside_a_rule():
    """softplus's VJP rule is written with a custom sigmoid whose own VJP rule is wrong:
    first derivatives are right, second derivatives are not."""
    @cr.primitive
    def sig(x):
        return 1 / (1 + np.exp(-x))
    sig.defvjp(lambda g, ans, x: g * ans)  # wrong: ans * (1 - ans)
    sig.defjvp(lambda t, ans, x: t * ans * (1 - ans))

    @cr.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)
    softplus.defvjp(lambda g, ans, x: g * sig(x))
    softplus.defjvp(lambda t, ans, x: t * sig(x))
    args = net_args()
    assert gradcheck(notes_net(softplus), *args)
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(notes_net(softplus), *args, order=2)
    assert (info.value.vertex, info.value.op, info.value.order) == (SOFTPLUS_VERTEX, "softplus", 2)


def test_rule_returning_a_wrong_shape_names_the_vertex_and_line():
    @cr.primitive
    def half(x):
        return x / 2
    half.defvjp(lambda g, ans, x: g[:1])
    half.defjvp(lambda t, ans, x: t / 2)

    def f(x):
        return cr.sum(half(cr.exp(x)))  # the half vertex
    with pytest.raises(cr.RuleError) as info:
        gradcheck(f, np.ones(3))
    msg = str(info.value)
    assert "VJP rule of 'half' for input 0 returned shape (1,), expected (3,)" in msg
    assert "vertex 3 'half'" in msg and f":{line_of('# the half vertex')} in f" in msg


def test_mismatch_outside_the_rules_is_explained():
    def f(x):
        c = getattr(x, "value", x) ** 2  # a plain-value side computation: invisible to the rules
        return cr.sum(cr.sin(x) * c)
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(f, rng.standard_normal(3))
    assert info.value.vertex is None
    assert "Every vertex's local rule agrees" in str(info.value)
    assert "t.value" in str(info.value)


def test_np_asarray_of_a_differentiated_tensor_is_refused_not_a_silent_zero():
    def f(x):
        return cr.sum(cr.sin(x) * np.asarray(x) ** 2)
    with pytest.raises(TypeError, match=r"would drop its gradient.*t\.detach\(\)"):
        cr.grad(f)(rng.standard_normal(3))


def test_float32_inputs_warn_and_are_checked_in_float64():
    with pytest.warns(UserWarning, match=r"argument 0 has dtype float32.*float64"):
        assert gradcheck(lambda x: cr.tanh(x) * x, np.ones(3, dtype=np.float32))


def test_missing_jvp_rule_is_derived_and_checked():
    """A primitive with only a VJP rule gets a derived JVP rule (forward.py), which
    gradcheck checks like a written one: no warning, both modes checked."""
    @cr.primitive
    def double(x):
        return 2 * x
    double.defvjp(lambda g, ans, x: 2 * g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda x: cr.sin(double(x)), np.ones(2), order=2)
    double.defvjp(lambda g, ans, x: 3 * g)
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(lambda x: cr.sin(double(x)), np.ones(2))
    assert (info.value.vertex, info.value.op, info.value.rule) == (2, "double", "VJP")


def test_large_local_jacobians_are_truncated():
    @cr.primitive
    def scale(x):
        return 3 * x
    scale.defvjp(lambda g, ans, x: 2 * g)
    scale.defjvp(lambda t, ans, x: 3 * t)
    with pytest.raises(cr.GradcheckError) as info:
        gradcheck(lambda x: scale(x), np.ones(40))
    e = info.value
    assert e.analytic.shape == (40, 40)  # the full matrices are on the error...
    assert "..." in str(e) and len(str(e).splitlines()) < 30  # ...the message is short


def test_bad_order_is_refused():
    with pytest.raises(ValueError, match="order"):
        gradcheck(cr.sin, 1.0, order=3)
