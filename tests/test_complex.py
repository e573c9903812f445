"""Complex numbers, with HIPS autograd's conventions.

- ``grad`` needs a real scalar output (TypeError otherwise, naming the fix);
- for a real f of complex z = x + iy, ``grad`` gives df/dx - i df/dy (autograd's value;
  PyTorch's ``z.grad`` is its conjugate);
- ``holomorphic_grad`` gives f'(z) for a holomorphic f;
- forward mode gives complex tangents for holomorphic functions, real ones for real-valued
  functions; a real input of a complex computation gets a real gradient.
"""
import numpy as np
import pytest

import chainrule as cr
from fd import numeric_grad


def complex_numeric_grad(F, z, h=1e-6):
    """df/dx - i df/dy by central differences in both real directions."""
    z = np.asarray(z, dtype=complex)
    gx = numeric_grad(lambda x: F(x + 1j * z.imag), [z.real.copy()], 0, h)
    gy = numeric_grad(lambda y: F(z.real + 1j * y), [z.imag.copy()], 0, h)
    return gx - 1j * gy


def test_grad_of_abs_squared_is_autograds_value():
    np.testing.assert_allclose(cr.grad(lambda z: cr.abs(z) ** 2)(1 + 2j), 2 - 4j)


def test_grad_refuses_complex_output():
    with pytest.raises(TypeError, match="real-valued.*holomorphic_grad.*jacobian"):
        cr.grad(lambda x: x * (1 + 0.2j))(1.0)


def test_holomorphic_grad():
    np.testing.assert_allclose(cr.holomorphic_grad(lambda z: z ** 2)(1 + 2j), 2 + 4j)
    np.testing.assert_allclose(cr.holomorphic_grad(cr.exp)(0.5 + 1j), np.exp(0.5 + 1j))
    np.testing.assert_allclose(cr.holomorphic_grad(lambda z: cr.sin(z) * z)(0.3 - 0.2j),
                               np.cos(0.3 - 0.2j) * (0.3 - 0.2j) + np.sin(0.3 - 0.2j))


def test_jvp_of_abs_is_real():
    out, t = cr.jvp(cr.abs, (1.1 + 1.2j,), (1.0,))
    assert t.dtype.kind == "f"
    np.testing.assert_allclose(t, 1.1 / abs(1.1 + 1.2j))
    _, t = cr.jvp(cr.abs, (1.1 + 1.2j,), (1j,))
    np.testing.assert_allclose(t, 1.2 / abs(1.1 + 1.2j))


def test_jvp_of_holomorphic_is_complex():
    _, t = cr.jvp(cr.exp, (1j,), (1.0,))
    np.testing.assert_allclose(t, np.exp(1j))


def test_real_input_of_complex_computation_gets_real_gradients_at_every_order():
    f = lambda x: cr.abs(x * (1 + 0.2j)) ** 2  # noqa: E731
    g = cr.grad(f)(1.5)
    assert g.dtype.kind == "f"
    np.testing.assert_allclose(g, 2 * 1.5 * abs(1 + 0.2j) ** 2)
    h = cr.grad(cr.grad(f))(1.5)
    assert h.dtype.kind == "f"
    np.testing.assert_allclose(h, 2 * abs(1 + 0.2j) ** 2)
    # mixed real/complex product, second derivative with respect to the real argument
    f2 = lambda x, z: cr.real(x * x * z * cr.conj(z))  # noqa: E731
    H = cr.hessian(f2)(0.7, 1 + 1j)
    assert H.dtype.kind == "f"
    np.testing.assert_allclose(H, 2 * 2.0)


PROGRAMS = {
    "abs": lambda z: cr.sum(cr.abs(z)),
    "abs2": lambda z: cr.sum(cr.abs(z) ** 2),
    "real_of_square": lambda z: cr.sum(cr.real(z * z)),
    "real_of_exp": lambda z: cr.sum(cr.real(cr.exp(z) * z)),
    "conj_product": lambda z: cr.sum(cr.real(z * cr.conj(z) * (1 + 2j))),
    "matmul": lambda z: cr.sum(cr.abs(np.array([[1.0, 2j], [0.5, -1.0]]) @ z)),
    "division": lambda z: cr.sum(cr.real(1.0 / (z + 3.0))),
    "log_sin": lambda z: cr.sum(cr.real(cr.log(z) + cr.sin(z))),
    "sum_mean_reshape": lambda z: cr.real(cr.mean(cr.reshape(z * z, (-1,))) + cr.sum(z)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_real_functions_of_complex_arrays_match_finite_differences(name):
    F = PROGRAMS[name]
    rng = np.random.default_rng(len(name))
    z = rng.standard_normal(2) + 1j * rng.standard_normal(2) + 0.5
    g = cr.grad(F)(z)
    assert g.dtype.kind == "c"
    np.testing.assert_allclose(g, complex_numeric_grad(lambda w: float(np.real(F(w))), z),
                               rtol=1e-6, atol=1e-8)
    # forward mode, both real directions: the directional derivative is Re(conj?) -- for
    # autograd's convention, d/dx F = Re(g) and d/dy F = -Im(g)
    for direction, expect in ((np.ones(2), np.sum(np.real(g))),
                              (1j * np.ones(2), -np.sum(np.imag(g)))):
        _, t = cr.jvp(F, (z,), (direction,))
        assert np.asarray(t).dtype.kind == "f"
        np.testing.assert_allclose(t, expect, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_against_torch_complex_autograd(name):
    """PyTorch's convention for a real loss of complex z gives the conjugate of ours."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(name) + 7)
    z = rng.standard_normal(2) + 1j * rng.standard_normal(2) + 0.5
    ours = cr.grad(PROGRAMS[name])(z)
    zt = torch.tensor(z, dtype=torch.complex128, requires_grad=True)
    torch_fns = {
        "abs": lambda z: z.abs().sum(),
        "abs2": lambda z: (z.abs() ** 2).sum(),
        "real_of_square": lambda z: (z * z).real.sum(),
        "real_of_exp": lambda z: (torch.exp(z) * z).real.sum(),
        "conj_product": lambda z: (z * z.conj() * (1 + 2j)).real.sum(),
        "matmul": lambda z: (torch.tensor([[1.0, 2j], [0.5, -1.0]], dtype=torch.complex128)
                             @ z).abs().sum(),
        "division": lambda z: (1.0 / (z + 3.0)).real.sum(),
        "log_sin": lambda z: (torch.log(z) + torch.sin(z)).real.sum(),
        "sum_mean_reshape": lambda z: ((z * z).reshape(-1).mean() + z.sum()).real,
    }
    torch_fns[name](zt).backward()
    np.testing.assert_allclose(ours, np.conj(zt.grad.numpy()), rtol=1e-10, atol=1e-12)


def test_against_hips_autograd():
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    z = np.array([0.3 + 0.4j, -1.0 + 0.2j])
    ours = cr.grad(lambda z: cr.sum(cr.abs(cr.exp(z) * z)))(z)
    theirs = ag.grad(lambda z: anp.sum(anp.abs(anp.exp(z) * z)))(z)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("f", [
    lambda z: cr.sum(cr.relu(z)), lambda z: cr.sum(cr.maximum(z, 0.5)),
    lambda z: cr.sum(cr.minimum(z, 0.5)), lambda z: cr.max(z), lambda z: cr.min(z),
    lambda z: cr.sum(cr.sigmoid(z)), lambda z: cr.sum(cr.clip(z, 0, 1)),
])
def test_ops_without_a_complex_meaning_say_so(f):
    with pytest.raises(TypeError, match="complex"):
        cr.holomorphic_grad(f)(np.array([1 + 1j, 2 - 1j]))
