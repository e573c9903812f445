"""chainrule.extend: autograd's primitive/defvjp/defjvp forms on chainrule's engine."""
import numpy
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.extend import (def_linear, defjvp, defjvp_argnum, defvjp, defvjp_argnum,
                              primitive)
from chainrule.errors import RuleError


def _safe_exp():
    @primitive
    def safe_exp(x):
        return np.exp(np.minimum(x, 50.0))
    return safe_exp


def test_autograd_curried_vjp_under_grad_and_grad_of_grad():
    safe_exp = _safe_exp()
    defvjp(safe_exp, lambda ans, x: lambda g: g * ans)  # only a VJP, as in autograd's docs
    assert numpy.isclose(cr.grad(safe_exp)(1.0), numpy.e)
    assert numpy.isclose(cr.grad(cr.grad(safe_exp))(1.0), numpy.e)
    assert numpy.isclose(cr.grad(cr.grad(cr.grad(safe_exp)))(0.5), numpy.exp(0.5))
    x = numpy.array([0.1, 0.7])
    numpy.testing.assert_allclose(cr.grad(lambda a: np.sum(safe_exp(a) * a))(x),
                                  numpy.exp(x) * (1 + x))
    # the rule gives the clipped exp's derivative as written (ans), beyond the clip too
    assert cr.grad(safe_exp)(60.0) == numpy.exp(50.0)
    # forward mode: from the VJP where the engine derives it, else a clear error
    try:
        t = cr.jvp(safe_exp, (1.0,), (1.0,))[1]
    except RuleError as e:
        assert "JVP rule" in str(e)
    else:
        assert numpy.isclose(t, numpy.e)


def test_chainrule_form_still_works_and_forms_are_told_apart():
    safe_exp = _safe_exp()
    defvjp(safe_exp, lambda g, ans, x: g * ans)
    defjvp(safe_exp, lambda g, ans, x: g * ans)
    assert numpy.isclose(cr.grad(safe_exp)(1.0), numpy.e)
    assert numpy.isclose(cr.jvp(safe_exp, (1.0,), (2.0,))[1], 2 * numpy.e)
    assert numpy.isclose(cr.hessian(safe_exp)(1.0), numpy.e)  # forward over reverse


def test_two_inputs_argnums_and_curried_jvp():
    @primitive
    def mul_add(x, y, scale=1.0):
        return scale * x * y + x

    defvjp(mul_add, lambda ans, x, y, scale=1.0: lambda g: g * (scale * y + 1),
           lambda ans, x, y, scale=1.0: lambda g: g * scale * x)
    defjvp(mul_add, lambda ans, x, y, scale=1.0: lambda g: g * (scale * y + 1),
           lambda g, ans, x, y, scale=1.0: g * scale * x)
    gx, gy = cr.grad(mul_add, argnums=(0, 1))(2.0, 3.0, scale=2.0)
    assert (gx, gy) == (7.0, 4.0)
    _, t = cr.jvp(lambda a, b: mul_add(a, b, scale=2.0), (2.0, 3.0), (1.0, 1.0))
    assert t == 11.0

    @primitive
    def only_y(x, y):
        return x * 0 + y ** 2
    defvjp(only_y, lambda ans, x, y: lambda g: 2 * g * y, argnums=(1,))
    assert cr.grad(only_y, argnums=1)(5.0, 3.0) == 6.0


def test_argnum_forms_and_linear():
    @primitive
    def weighted(x, y):
        return 2 * x + 3 * y

    defvjp_argnum(weighted, lambda k, ans, args, kw: lambda g: g * (2.0, 3.0)[k])
    defjvp_argnum(weighted, lambda k, g, ans, args, kw: g * (2.0, 3.0)[k])
    assert cr.grad(weighted, argnums=(0, 1))(1.0, 1.0) == (2.0, 3.0)
    assert cr.jvp(weighted, (1.0, 1.0), (1.0, 1.0))[1] == 5.0

    @primitive
    def double(x):
        return 2 * x
    def_linear(double)
    defvjp(double, lambda ans, x: lambda g: 2 * g)
    assert cr.jvp(double, (1.0,), (3.0,))[1] == 6.0
    assert cr.jacfwd(double)(numpy.array([1.0, 2.0])).tolist() == [[2, 0], [0, 2]]


def test_same_jvp():
    @primitive
    def flip(x):
        return x[::-1]
    defjvp(flip, "same")
    numpy.testing.assert_array_equal(cr.jvp(flip, (numpy.array([1.0, 2.0]),),
                                            (numpy.array([3.0, 4.0]),))[1], [4.0, 3.0])


def test_errors_name_the_fix():
    with pytest.raises(TypeError, match="not a primitive"):
        defvjp(lambda x: x, lambda ans, x: lambda g: g)
    f = _safe_exp()
    with pytest.raises(RuleError, match="positional parameters"):
        defvjp(f, lambda a, b, c, d: a)
    with pytest.raises(RuleError, match="form="):
        defvjp(f, lambda *a: a)
    defvjp(f, lambda *a: (lambda g: g * a[0]), form="autograd")
    assert numpy.isclose(cr.grad(f)(1.0), numpy.e)
