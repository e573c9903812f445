"""chainrule.scipy.signal: convolutions against SciPy's values, central differences (both modes,
second order), PyTorch's conv1d/conv2d and HIPS autograd's convolve."""
import numpy as np
import pytest

import chainrule as cr
from npcheck import check

S = pytest.importorskip("chainrule.scipy.signal")
ss = pytest.importorskip("scipy.signal")

SHAPES = [((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((1,), (3,)), ((1,), (1,)),
          ((4, 3), (2, 2)), ((2, 2), (4, 3)), ((3, 1), (2, 1)), ((3, 4, 2), (2, 1, 2))]


def _pair(s1, s2, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal(s1), r.standard_normal(s2)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("s1,s2", SHAPES)
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolve_correlate(name, mode, s1, s2):
    a, b = _pair(s1, s2)
    ours = getattr(S, name)
    ref = getattr(ss, name)(a, b, mode)
    np.testing.assert_allclose(ours(a, b, mode), ref, atol=1e-12)
    np.testing.assert_allclose(ours(a, b, mode, method="direct"), ref, atol=1e-12)
    check(lambda a, b: ours(a, b, mode), a, b, order=2 if len(s1) == 1 else 1)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("s1,s2", [((4, 3), (2, 2)), ((2, 2), (4, 3)), ((3, 3), (3, 2))])
@pytest.mark.parametrize("name", ["convolve2d", "correlate2d"])
def test_2d(name, mode, s1, s2):
    a, b = _pair(s1, s2, seed=1)
    ours = getattr(S, name)
    ref = getattr(ss, name)(a, b, mode)
    np.testing.assert_allclose(ours(a, b, mode), ref, atol=1e-12)
    check(lambda a, b: ours(a, b, mode), a, b, order=1)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("s1,s2,axes", [
    ((3, 4), (1, 2), 1), ((3, 4), (3, 2), (1,)), ((2, 5, 3), (2, 2, 1), (1,)),
    ((2, 5, 3), (1, 2, 3), (1, 2)), ((4, 3), (2, 3), -2), ((3, 2), (2, 1), None)])
@pytest.mark.parametrize("name", ["fftconvolve", "oaconvolve"])
def test_fftconvolve_axes(name, mode, s1, s2, axes):
    a, b = _pair(s1, s2, seed=2)
    ours = getattr(S, name)
    np.testing.assert_allclose(ours(a, b, mode, axes=axes),
                               getattr(ss, name)(a, b, mode, axes=axes), atol=1e-12)
    check(lambda a, b: ours(a, b, mode, axes=axes), a, b, order=2 if name == "fftconvolve" else 1)


def test_zero_dimensional():
    assert float(S.convolve(np.array(2.0), np.array(3.0))) == 6.0
    check(lambda a, b: S.convolve(a, b), np.array(2.0), np.array(3.0))


@pytest.mark.parametrize("mode", ["full", "valid"])
def test_torch_conv1d(mode):
    torch = pytest.importorskip("torch")
    a, b = _pair((7,), (3,), seed=3)
    c = np.random.default_rng(4).standard_normal(ss.convolve(a, b, mode).shape)
    ta, tb = (torch.tensor(x, requires_grad=True) for x in (a, b))
    pad = 2 if mode == "full" else 0
    # conv1d is a cross-correlation: convolution with the flipped kernel
    y = torch.nn.functional.conv1d(ta[None, None], tb.flip(0)[None, None], padding=pad)[0, 0]
    (y * torch.tensor(c)).sum().backward()
    ga, gb = cr.grad(lambda a, b: cr.sum(S.convolve(a, b, mode) * c), (0, 1))(a, b)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_torch_conv2d_correlate():
    torch = pytest.importorskip("torch")
    a, b = _pair((5, 4), (3, 2), seed=5)
    c = np.random.default_rng(6).standard_normal((3, 3))
    ta, tb = (torch.tensor(x, requires_grad=True) for x in (a, b))
    (torch.nn.functional.conv2d(ta[None, None], tb[None, None])[0, 0]
     * torch.tensor(c)).sum().backward()
    ga, gb = cr.grad(lambda a, b: cr.sum(S.correlate(a, b, "valid") * c), (0, 1))(a, b)
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["full", "valid"])
def test_autograd_convolve(mode):
    ag = pytest.importorskip("autograd")
    asig = pytest.importorskip("autograd.scipy.signal")
    a, b = _pair((5, 4), (2, 3), seed=7)
    c = np.random.default_rng(8).standard_normal(ss.convolve(a, b, mode).shape)
    theirs = ag.grad(lambda a, b: (asig.convolve(a, b, mode=mode) * c).sum(), (0, 1))(a, b)
    ours = cr.grad(lambda a, b: cr.sum(S.convolve(a, b, mode) * c), (0, 1))(a, b)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="same dimensionality"):
        S.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="mode"):
        S.convolve(np.ones(3), np.ones(2), mode="middle")
    with pytest.raises(ValueError, match="at least as large"):
        S.convolve(np.ones((3, 1)), np.ones((1, 3)), mode="valid")
    with pytest.raises(ValueError, match="empty"):
        S.convolve(np.ones(0), np.ones(2))
    with pytest.raises(ValueError, match="out of range"):
        S.fftconvolve(np.ones(3), np.ones(2), axes=1)
    with pytest.raises(ValueError, match="agree"):
        S.fftconvolve(np.ones((2, 3)), np.ones((3, 3)), axes=1)
    with pytest.raises(NotImplementedError, match="boundary='fill'"):
        S.convolve2d(np.ones((2, 2)), np.ones((2, 2)), boundary="wrap")


def test_passthrough_and_all():
    np.testing.assert_allclose(S.windows.hann(4), ss.windows.hann(4))  # a submodule, as is
    with pytest.raises(TypeError, match="scipy.signal.lfilter has no derivative rule"):
        S.lfilter(np.ones(2), np.ones(1), cr.tensor(np.ones(3), requires_grad=True))
    for name in S.__all__:
        assert callable(getattr(S, name)), name


@pytest.mark.parametrize("name,mode", [("convolve", "same"), ("correlate", "valid"),
                                       ("correlate", "full")])
def test_complex_holomorphic(name, mode):
    r = np.random.default_rng(9)
    a = r.standard_normal(5) + 1j * r.standard_normal(5)
    b = r.standard_normal(3) + 1j * r.standard_normal(3)
    np.testing.assert_allclose(getattr(S, name)(a, b, mode), getattr(ss, name)(a, b, mode),
                               atol=1e-12)
    check(lambda a, b: getattr(S, name)(a, b, mode), a, b)


AUTOGRAD_AXES = [((4, 5, 3), (2, 3, 2), ([0], [0]), None),
                 ((2, 6, 3), (3, 4), ([1], [1]), ([2], [0])),
                 ((3, 4), (5, 2, 4), ([0], [0]), None),
                 ((2, 5, 4), (2, 3, 4), ([1], [1]), ([0, 2], [0, 2]))]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("s1,s2,axes,dot_axes", AUTOGRAD_AXES)
def test_autograd_axes_and_dot_axes(s1, s2, axes, dot_axes, mode):
    # autograd.scipy.signal.convolve's extension: values and gradients as autograd's
    ag = pytest.importorskip("autograd")
    asig = pytest.importorskip("autograd.scipy.signal")
    a, b = _pair(s1, s2, seed=10)
    kw = {"axes": axes} if dot_axes is None else {"axes": axes, "dot_axes": dot_axes}
    ref = asig.convolve(a, b, mode=mode, **kw)
    np.testing.assert_allclose(S.convolve(a, b, mode, **kw), ref, atol=1e-12)
    c = np.random.default_rng(11).standard_normal(ref.shape)
    ours = cr.grad(lambda a, b: cr.sum(S.convolve(a, b, mode, **kw) * c), (0, 1))(a, b)
    theirs = ag.grad(lambda a, b: (asig.convolve(a, b, mode=mode, **kw) * c).sum(), (0, 1))(a, b)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)
    if mode == "same":
        check(lambda a, b: S.convolve(a, b, mode, **kw), a, b, order=1)


def test_autograd_axes_errors():
    with pytest.raises(ValueError, match="pair as many"):
        S.convolve(np.ones((2, 3)), np.ones((2, 3)), axes=([0, 1], [0]))
    with pytest.raises(ValueError, match="different lengths"):
        S.convolve(np.ones((2, 3)), np.ones((2, 4)), axes=([0], [0]), dot_axes=([1], [1]))


def test_list_inputs():
    for name, mode in (("convolve", "full"), ("correlate", "same"), ("correlate2d", "same")):
        a, b = [1.0, 2.0, 3.0], [0.0, 1.0]
        if name.endswith("2d"):
            a, b = [a], [b]
        np.testing.assert_allclose(getattr(S, name)(a, b, mode), getattr(ss, name)(a, b, mode))
    g = cr.grad(lambda w: cr.sum(S.convolve([1.0, 2.0, 3.0], [w, 1.0]) ** 2))(0.5)
    num = (np.sum(ss.convolve([1.0, 2.0, 3.0], [0.5 + 1e-6, 1.0]) ** 2)
           - np.sum(ss.convolve([1.0, 2.0, 3.0], [0.5 - 1e-6, 1.0]) ** 2)) / 2e-6
    assert g == pytest.approx(num, rel=1e-6)
