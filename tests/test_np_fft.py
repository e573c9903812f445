"""np.fft (ops/fft.py): values equal NumPy's; derivatives against central differences
(tests/npcheck.py: reverse, forward, complex directions, second order through a nonlinear
use), HIPS autograd's VJPs (the complex convention: transpose, not conjugate transpose) and
PyTorch's torch.fft gradients (float64/complex128; torch's complex gradient is the conjugate
of autograd's)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import fft as F
from chainrule.ops.ufuncs import real
from npcheck import check


def _x(shape, complex_=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if complex_ else x


def _same(ours, npfun, *args, **kw):
    np.testing.assert_allclose(np.asarray(ours(*args, **kw)), npfun(*args, **kw), rtol=1e-12,
                               atol=1e-12)


NORMS = [None, "ortho", "forward"]

# (function, input shape, keyword arguments): n/s smaller and larger than the input,
# even and odd lengths, every norm, axes other than the last
C2C = [
    ("fft", (5,), {}), ("fft", (4,), {"n": 7}), ("fft", (6,), {"n": 3}),
    ("fft", (3, 4), {"axis": 0}), ("ifft", (5,), {}), ("ifft", (2, 4), {"n": 6, "axis": -1}),
    ("fft2", (3, 4), {}), ("fft2", (2, 3, 4), {"s": (4, 2), "axes": (0, 2)}),
    ("ifft2", (3, 4), {"s": (2, 5)}), ("fftn", (2, 3, 4), {}),
    ("fftn", (2, 3, 4), {"s": (3, 3), "axes": (2, 0)}), ("ifftn", (3, 4), {"axes": (1,)}),
    ("fftn", (3, 4), {"axes": (1, 1)}), ("fftn", (3, 4), {"s": (5, 2), "axes": (1, 1)}),
]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name, shape, kw", C2C, ids=str)
def test_c2c(name, shape, kw, norm):
    f = getattr(F, name)
    for cplx in (False, True):
        x = _x(shape, cplx)
        _same(f, getattr(np.fft, name), x, norm=norm, **kw)
        check(lambda x: f(x, norm=norm, **kw), x, order=1)


REAL = [
    ("rfft", (6,), {}), ("rfft", (5,), {}), ("rfft", (4,), {"n": 7}), ("rfft", (7,), {"n": 4}),
    ("rfft", (3, 4), {"axis": 0}), ("rfft2", (3, 4), {}), ("rfft2", (3, 5), {"s": (4, 3)}),
    ("rfftn", (2, 3, 5), {}), ("rfftn", (2, 3, 4), {"s": (3, 6), "axes": (2, 0)}),
    ("rfftn", (3, 4), {"axes": (1, 1)}), ("ihfft", (5,), {}), ("ihfft", (6,), {"n": 9}),
]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name, shape, kw", REAL, ids=str)
def test_real_to_complex(name, shape, kw, norm):
    f = getattr(F, name)
    x = _x(shape)
    _same(f, getattr(np.fft, name), x, norm=norm, **kw)
    check(lambda x: f(x, norm=norm, **kw), x, order=1)


# the inputs are half spectra of length m; n (the output length) even, odd, matching
# m (2(m-1) or 2(m-1)+1), or truncating/padding it
HERMITIAN = [
    ("irfft", (4,), {}), ("irfft", (4,), {"n": 7}), ("irfft", (4,), {"n": 5}),
    ("irfft", (4,), {"n": 3}), ("irfft", (4,), {"n": 12}), ("irfft", (3, 4), {"axis": 0}),
    ("irfft2", (3, 4), {}), ("irfft2", (3, 4), {"s": (4, 5)}), ("irfftn", (2, 3, 4), {}),
    ("irfftn", (2, 3, 4), {"s": (3, 7), "axes": (2, 0)}), ("irfftn", (3, 4), {"axes": (1, 1)}),
    ("hfft", (4,), {}), ("hfft", (5,), {"n": 7}), ("hfft", (3, 4), {"axis": 0, "n": 3}),
]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name, shape, kw", HERMITIAN, ids=str)
def test_complex_to_real(name, shape, kw, norm):
    f = getattr(F, name)
    for cplx in (True, False):
        x = _x(shape, cplx)
        _same(f, getattr(np.fft, name), x, norm=norm, **kw)
        check(lambda x: f(x, norm=norm, **kw), x, order=1)


@pytest.mark.parametrize("f", [lambda x: F.fft(x) * F.fft(x),
                               lambda x: F.irfft(F.rfft(x) * F.rfft(x), n=5),
                               lambda x: F.fftshift(F.ifft2(x * x, s=(3, 4))),
                               lambda x: F.rfftn(x) * F.fftn(x, s=(2, 3), axes=(0, 1))[..., :2]])
def test_second_order(f):
    """Nonlinear uses, so that the second derivative is not zero: rules are differentiable."""
    check(f, _x((2, 3)))


@pytest.mark.parametrize("axes", [None, 0, (1,), (0, 1), (-1, 0)])
def test_shifts(axes):
    for shape in [(5,), (4, 5)]:
        if axes not in (None, 0) and len(shape) == 1:
            continue
        for cplx in (False, True):
            x = _x(shape, cplx)
            _same(F.fftshift, np.fft.fftshift, x, axes=axes)
            _same(F.ifftshift, np.fft.ifftshift, x, axes=axes)
            check(lambda x: F.ifftshift(x, axes=axes), x, order=1)
            check(lambda x: F.fftshift(x, axes=axes) * x, x)


def test_fftfreq():
    np.testing.assert_array_equal(F.fftfreq(8, 0.1), np.fft.fftfreq(8, 0.1))
    np.testing.assert_array_equal(F.rfftfreq(7), np.fft.rfftfreq(7))
    np.testing.assert_allclose(np.asarray(F.fftfreq(7, cr.tensor(0.5))), np.fft.fftfreq(7, 0.5))
    g = cr.grad(lambda d: cr.sum(F.fftfreq(6, d) ** 2))(0.5)
    np.testing.assert_allclose(g, -2 * np.sum(np.fft.fftfreq(6, 0.5) ** 2) / 0.5)


def test_real_input_gives_real_gradient():
    x = _x((6,))
    for f in (F.fft, F.ifft, F.rfft, F.fft2, F.hfft):
        xx = x.reshape(2, 3) if f is F.fft2 else x
        g = cr.grad(lambda x: cr.sum(real(f(x) * (1.0 + 2.0j))) if f is not F.hfft
                    else cr.sum(f(x)))(xx)
        assert g.dtype == np.float64, f.__name__


def test_float32_stays_float32():
    x = _x((6,)).astype(np.float32)
    g = cr.grad(lambda x: cr.sum(F.irfft(F.rfft(x) * F.rfft(x))))(x)
    assert g.dtype == np.float32


def test_plain_values_run_numpy():
    x = _x((4,))
    out = np.empty(4, complex)
    F.fft(x, out=out)  # NumPy's own function, out= included
    np.testing.assert_allclose(out, np.fft.fft(x))
    with pytest.raises(TypeError, match="np.fft.fft: out="):
        cr.grad(lambda x: cr.sum(real(F.fft(x, out=out))))(x)


def test_errors():
    x = cr.tensor(_x((4,)), requires_grad=True)
    with pytest.warns(DeprecationWarning, match="np.fft.fftn: `axes` should not be `None`"):
        F.fftn(x, s=(3,))  # as NumPy 2 warns
    with pytest.raises(ValueError, match="np.fft.fft: invalid norm"):
        F.fft(x, norm="bad")
    with pytest.raises(ValueError, match="np.fft.fftn: s .* and axes"):
        F.fftn(x, s=(2, 2), axes=(0,))
    with pytest.raises(ValueError, match="invalid number of FFT data points"):
        F.fft(x, n=0)
    with pytest.raises(np.exceptions.AxisError):
        F.fft(x, axis=1)
    with pytest.raises(TypeError, match="np.fft.rfft: the input must be real"):
        F.rfft(cr.tensor(_x((4,), True), requires_grad=True))


def test_lists_of_tensors():
    g = cr.grad(lambda t: cr.sum(real(F.fft([t, 2 * t, 3.0]))))(1.5)
    # sum over bins of the DFT is n * x[0]: d/dt (3 * t) = 3
    np.testing.assert_allclose(g, 3.0)


def test_numpy_impls_registered():
    for name in ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                 "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift",
                 "fftfreq", "rfftfreq"]:
        assert F.NUMPY_IMPLS[getattr(np.fft, name)] is getattr(F, name)


# ----- oracles ------------------------------------------------------------------------------

AUTOGRAD = [  # autograd 1.9 implements these (its rfft gradients need even lengths)
    ("fft", (5,), {}), ("fft", (4,), {"n": 7}), ("ifft", (2, 4), {"n": 3, "axis": 0}),
    ("fft2", (3, 4), {}), ("ifftn", (2, 3, 4), {"s": (3, 2), "axes": (0, 2)}),
    ("rfft", (6,), {}), ("rfft2", (3, 4), {}), ("rfftn", (2, 3, 4), {}),
    ("irfft", (4,), {}), ("irfft2", (3, 4), {}),
    ("irfftn", (2, 3, 4), {"s": (2, 4, 6), "axes": (0, 1, 2)}),
    ("fftshift", (4, 5), {}), ("ifftshift", (5,), {}),
]


def _with_norms(cases, norms):
    """(name, shape, kw, norm) for each case and norm; the shifts take no norm."""
    return [(n, s, k, norm) for n, s, k in cases
            for norm in ([None] if n.endswith("shift") else norms)]


@pytest.mark.parametrize("name, shape, kw, norm", _with_norms(AUTOGRAD, [None, "ortho"]), ids=str)
def test_autograd_oracle(name, shape, kw, norm):
    import autograd.numpy as anp
    from autograd import make_vjp
    kwn = kw if name.endswith("shift") else dict(kw, norm=norm)
    inputs = [False] if name.startswith("rfft") else [False, True]
    for cplx in inputs:
        x = _x(shape, cplx, seed=3)
        out = getattr(np.fft, name)(x, **kwn)
        g = _x(out.shape, out.dtype.kind == "c", seed=4)
        ours = cr.vjp(lambda x: getattr(F, name)(x, **kwn), x)[1](g)[0]
        theirs = make_vjp(lambda x: getattr(anp.fft, name)(x, **kwn))(x)[0](g)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
        assert np.iscomplexobj(ours) == cplx


TORCH = [("fft", (5,), {"n": 7}), ("ifft", (6,), {}), ("fft2", (3, 4), {"s": (2, 5)}),
         ("ifftn", (2, 3, 4), {}), ("rfft", (5,), {"n": 8}), ("rfft2", (3, 5), {}),
         ("rfftn", (2, 3, 5), {"s": (3, 4, 3), "axes": (0, 1, 2)}), ("irfft", (4,), {"n": 7}),
         ("irfft", (5,), {}), ("irfftn", (2, 3, 4), {"s": (3, 2, 5), "axes": (0, 1, 2)}),
         ("hfft", (4,), {"n": 5}), ("ihfft", (7,), {}), ("fftshift", (4, 5), {})]


@pytest.mark.parametrize("name, shape, kw, norm", _with_norms(TORCH, NORMS), ids=str)
def test_torch_oracle(name, shape, kw, norm):
    torch = pytest.importorskip("torch")
    tkw = {"n": kw["n"]} if "n" in kw else {"s": kw["s"]} if "s" in kw else {}
    if "axes" in kw:
        tkw["dim"] = kw["axes"]
    if not name.endswith("shift"):
        tkw["norm"] = norm or "backward"
        kw = dict(kw, norm=norm)
    cplx = name in ("fft", "ifft", "fft2", "ifftn", "irfft", "irfftn", "hfft", "fftshift")
    x = _x(shape, cplx, seed=5)
    out = getattr(np.fft, name)(x, **kw)
    c = _x(out.shape, out.dtype.kind == "c", seed=6)
    tx = torch.tensor(x, requires_grad=True)
    tout = getattr(torch.fft, name)(tx, **tkw)
    np.testing.assert_allclose(tout.detach().resolve_conj().numpy(), out, rtol=1e-10, atol=1e-12)
    (tg,) = torch.autograd.grad(torch.real(tout * torch.tensor(c)).sum(), tx)
    f = getattr(F, name)
    ours = cr.grad(lambda x: cr.sum(real(f(x, **kw) * c)))(x)
    # torch's gradient of a real loss in a complex input is dL/dRe + i dL/dIm, autograd's
    # (and chainrule's) dL/dRe - i dL/dIm
    np.testing.assert_allclose(ours, np.conj(tg.numpy()), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [lambda x: F.irfft(F.rfft(x) * F.rfft(x), n=7),
                               lambda x: real(F.ifft2(F.fft2(x) ** 2, s=(3, 2)))])
def test_forward_over_forward(f):
    """jvp of jvp: the second directional derivative, against a difference of first ones."""
    x = _x((3, 4))
    t = _x((3, 4), seed=1)

    def d1(x):
        return cr.jvp(f, (x,), (t,))[1]
    second = cr.jvp(d1, (x,), (t,))[1]
    h = 1e-5
    np.testing.assert_allclose(second, (np.asarray(d1(x + h * t)) - np.asarray(d1(x - h * t)))
                               / (2 * h), rtol=1e-6, atol=1e-8)


def test_empty_other_axes_and_complex64():
    for f, shape in [(F.fft, (0, 4)), (F.rfft, (0, 4)), (F.irfft, (0, 3)),
                     (lambda x: F.fft2(x, axes=(0, 2)), (2, 0, 3))]:
        x = np.zeros(shape)
        g = cr.grad(lambda x: cr.sum(real(f(x))))(x)
        assert g.shape == shape and g.dtype == np.float64
    z = (_x((4,), True)).astype(np.complex64)
    g = cr.vjp(F.fft, z)[1](np.ones(4, np.complex64))[0]
    assert g.dtype == np.complex64
    np.testing.assert_allclose(g, np.fft.fft(np.ones(4)), rtol=1e-6)


# ----- random arguments (hypothesis, seeded) -------------------------------------------------

def _fuzz_settings():
    import os

    from hypothesis import HealthCheck, settings
    return settings(max_examples=int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", 20)),
                    derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def test_fuzz_transforms():
    """Random shapes, axes (repeats included), lengths and norms for every transform family:
    values equal NumPy's, VJPs and JVPs agree with central differences."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @st.composite
    def case(draw):
        name = draw(st.sampled_from(["fftn", "ifftn", "rfftn", "irfftn", "fft", "irfft", "hfft"]))
        ndim = draw(st.integers(1, 3))
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
        kw = {"norm": draw(st.sampled_from(NORMS))}
        if name.endswith("n"):
            axes = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim + 1))
            kw["axes"] = tuple(axes)
            if draw(st.booleans()):
                kw["s"] = tuple(draw(st.integers(1, 5)) for _ in axes)
        else:
            kw["axis"] = draw(st.integers(-ndim, ndim - 1))
            if draw(st.booleans()):
                kw["n"] = draw(st.integers(1, 6))
        cplx = name not in ("rfftn",) and draw(st.booleans())
        return name, shape, kw, cplx

    @_fuzz_settings()
    @hypothesis.given(case())
    def run(c):
        name, shape, kw, cplx = c
        x = _x(shape, cplx, seed=len(shape))
        try:
            ref = getattr(np.fft, name)(x, **kw)
        except ValueError:
            hypothesis.reject()  # NumPy refuses it (an irfft of 0 output points, ...)
        f = getattr(F, name)
        np.testing.assert_allclose(np.asarray(f(x, **kw)), ref, rtol=1e-12, atol=1e-12)
        check(lambda x: f(x, **kw), x, order=1)

    run()


@pytest.mark.parametrize("f", [lambda z: F.fft(z) * z, lambda z: F.irfft(z * z, n=5),
                               lambda z: F.ifftn(F.fftshift(z) * F.fft2(z), s=(3, 2), axes=(0, 1))])
def test_nonlinear_complex_input(f):
    """A complex input through a nonlinear program: both real directions by differences."""
    check(f, _x((2, 3), True))
