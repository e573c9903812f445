"""Custom primitives: @cr.primitive with .defvjp / .defjvp, and the errors that tell a
rule's author exactly what is wrong (primitive, rule, input, expected vs received)."""
import numpy as np
import pytest

import chainrule as cr


def make_softplus():
    @cr.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)
    # Rules written with chainrule ops: differentiable again (any order).
    softplus.defvjp(lambda g, ans, x: g * cr.sigmoid(x))
    softplus.defjvp(lambda t, ans, x: t * cr.sigmoid(x))
    return softplus


def test_custom_primitive_in_every_transform():
    softplus = make_softplus()
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    s = 1 / (1 + np.exp(-x))
    assert isinstance(softplus(x), np.ndarray)  # plain values: plain NumPy
    np.testing.assert_allclose(cr.grad(lambda x: cr.sum(softplus(x)))(x), s, rtol=1e-12)
    np.testing.assert_allclose(cr.jvp(softplus, (x,), (np.ones(4),))[1], s, rtol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(softplus)(x), np.diag(s), rtol=1e-12)
    np.testing.assert_allclose(cr.jacobian(softplus)(x), np.diag(s), rtol=1e-12)
    # second order: the rules are themselves differentiated
    H = cr.hessian(lambda x: cr.sum(softplus(x)))(x)
    np.testing.assert_allclose(H, np.diag(s * (1 - s)), rtol=1e-12, atol=1e-15)
    # object style
    t = cr.tensor(x, requires_grad=True)
    cr.sum(softplus(t) * 2.0).backward()
    np.testing.assert_allclose(t.grad, 2 * s, rtol=1e-12)


def test_several_inputs_none_rule_and_keywords():
    @cr.primitive
    def scaled_sum(x, w, axis=0):
        return np.sum(x * w, axis=axis)
    scaled_sum.defvjp(
        lambda g, ans, x, w, axis=0: cr.broadcast_to(cr.expand_dims(g, axis) * w, x.shape),
        None)  # declared: no gradient through w
    x, w = np.arange(6.0).reshape(2, 3), np.array([[1.0], [2.0]])
    gx = cr.grad(lambda x: cr.sum(scaled_sum(x, w, axis=1)))(x)
    np.testing.assert_array_equal(gx, np.broadcast_to(w, (2, 3)))
    gx, gw = cr.grad(lambda x, w: cr.sum(scaled_sum(x, w, axis=1)), argnums=(0, 1))(x, w)
    np.testing.assert_array_equal(gw, np.zeros((2, 1)))


def test_broadcasting_primitive_rule_may_return_the_output_shape():
    @cr.primitive(broadcasts=True)
    def mul(x, y):
        return x * y
    mul.defvjp(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
    mul.defjvp(lambda t, ans, x, y: t * y, lambda t, ans, x, y: x * t)
    x, y = np.ones((2, 3)), np.array([1.0, 2.0, 3.0])
    gy = cr.grad(lambda y: cr.sum(mul(x, y)))(y)  # (2, 3) summed back to (3,) by the engine
    np.testing.assert_array_equal(gy, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(cr.jacfwd(lambda x: mul(x, y))(np.ones(3)), np.diag(y))


# ----- rules that break the contract ----------------------------------------------------------
def primitive_with(vjp=None, jvp=None, broadcasts=False):
    @cr.primitive(broadcasts=broadcasts)
    def badop(x):
        return x * 2.0
    if vjp is not None:
        badop.defvjp(vjp)
    if jvp is not None:
        badop.defjvp(jvp)
    return badop


def grad_of(op):
    return cr.grad(lambda x: cr.sum(op(x)))


@pytest.mark.parametrize("rule, received", [
    (lambda g, ans, x: 2.0, "float"),
    (lambda g, ans, x: (2 * g, 2 * g), "tuple"),      # JAX style: one tuple for all inputs
    (lambda g, ans, x: [1.0, 2.0, 3.0], "list"),
])
def test_vjp_rule_returning_a_non_array(rule, received):
    with pytest.raises(cr.RuleError) as e:
        grad_of(primitive_with(vjp=rule))(np.ones(3))
    msg = str(e.value)
    assert "VJP rule of 'badop' for input 0" in msg
    assert f"returned {received}" in msg and "shape (3,)" in msg


def test_vjp_rule_returning_a_wrong_shape():
    op = primitive_with(vjp=lambda g, ans, x: g[:2])
    with pytest.raises(cr.RuleError, match=r"VJP rule of 'badop' for input 0 returned shape "
                                           r"\(2,\), expected \(3,\)"):
        grad_of(op)(np.ones(3))
    # a non-broadcasting op does not get its cotangent summed back silently
    op = primitive_with(vjp=lambda g, ans, x: np.ones((2, 3)))
    with pytest.raises(cr.RuleError, match=r"returned shape \(2, 3\), expected \(3,\)"):
        grad_of(op)(np.ones(3))


def test_jvp_rule_returning_a_non_array_or_wrong_shape():
    op = primitive_with(jvp=lambda t, ans, x: 1.0)
    with pytest.raises(cr.RuleError, match=r"JVP rule of 'badop' for input 0 returned float, "
                                           r"expected an array of shape \(3,\)"):
        cr.jvp(op, (np.ones(3),), (np.ones(3),))
    op = primitive_with(jvp=lambda t, ans, x: t[:2])
    with pytest.raises(cr.RuleError, match=r"JVP rule of 'badop' for input 0 returned shape "
                                           r"\(2,\), expected \(3,\)"):
        cr.jacfwd(op)(np.ones(3))
    # a smaller tangent is not broadcast silently unless the op says it broadcasts
    op = primitive_with(jvp=lambda t, ans, x: cr.sum(t))
    with pytest.raises(cr.RuleError, match=r"returned shape \(\), expected \(3,\)"):
        cr.jvp(op, (np.ones(3),), (np.ones(3),))


def test_defvjp_refuses_more_rules_than_inputs():
    @cr.primitive
    def f(x, y):
        return x + y
    with pytest.raises(cr.RuleError, match=r"f\.defvjp: 3 rules given, but f takes 2 positional"):
        f.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
    with pytest.raises(cr.RuleError, match=r"f\.defjvp: 3 rules"):
        f.defjvp(None, None, None)
    with pytest.raises(TypeError, match="rule for input 1 must be callable"):
        f.defvjp(lambda g, ans, x, y: g, "not a rule")
    f.defvjp(lambda g, ans, x, y: g)  # fewer rules is fine until input 1 needs one
    with pytest.raises(cr.RuleError, match=r"'f' has no VJP rule for input 1; add one with "
                                           r"f\.defvjp"):
        cr.grad(lambda x: cr.sum(f(x, x)))(np.ones(2))

    @cr.primitive
    def total(*xs):  # variadic: any number of rules
        return sum(xs)
    total.defvjp(*[lambda g, ans, *xs: g] * 4)


def test_primitive_without_jvp_rule_in_forward_mode():
    """The JVP rule is derived from the VJP rule (its transpose): every forward-mode
    transform works, nested too."""
    op = primitive_with(vjp=lambda g, ans, x: 2 * g)
    np.testing.assert_array_equal(grad_of(op)(np.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(cr.jvp(op, (np.ones(2),), (np.array([1.0, 3.0]),))[1],
                                  [2.0, 6.0])
    np.testing.assert_array_equal(cr.jacfwd(op)(np.ones(2)), 2 * np.eye(2))
    np.testing.assert_allclose(cr.hessian(lambda x: cr.sum(op(x) ** 2))(np.ones(2)),
                               8 * np.eye(2))
    np.testing.assert_allclose(cr.jacfwd(cr.jacfwd(lambda x: op(x) ** 3))(np.ones(2)),
                               np.einsum("ij,jk->ijk", np.eye(2), 48 * np.eye(2)))
    # reverse over reverse needs no JVP rule
    np.testing.assert_allclose(cr.jacobian(cr.grad(lambda x: cr.sum(op(x) ** 2)))(np.ones(2)),
                               8 * np.eye(2))


def test_primitive_with_neither_rule_in_forward_mode():
    op = primitive_with()
    with pytest.raises(cr.MissingRuleError, match=r"'badop' has neither a JVP nor a VJP "
                                                  r"rule for input 0"):
        cr.jvp(op, (np.ones(2),), (np.ones(2),))
