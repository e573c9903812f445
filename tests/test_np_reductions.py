"""Reductions and scans of the NumPy catalogue (chainrule.ops.reductions).

Every function: values against NumPy on Tensors, derivatives by tests/npcheck.py
(reverse and forward, first and second order, vs central differences) over
0-d, vector, matrix, 3-d, size-1 axes, axis None / int / negative / tuple,
keepdims, and empty where NumPy allows; PyTorch as oracle where it has the
function; the numerically careful cases (prod and cumprod with zeros, std of
a constant, NaN entries) pinned down.
"""
import os
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.reductions import NUMPY_IMPLS as R
from cplx import complex_check, forward_over_forward
from npcheck import check

pytestmark = pytest.mark.filterwarnings(
    "ignore:grad.*does not depend on the differentiated:UserWarning")

RNG = np.random.default_rng(12)


def arr(*shape):
    return RNG.standard_normal(shape)


def on_tensors(npf, *args, **kw):
    """R[npf] called with Tensor arguments (the differentiable path), as an array."""
    out = R[npf](*[cr.tensor(a) for a in args], **kw)
    if isinstance(out, tuple):
        return tuple(np.asarray(o) for o in out)
    return np.asarray(out)


SHAPES = {"0d": (), "vec": (4,), "mat": (3, 4), "3d": (2, 3, 2), "size1": (3, 1, 2)}

# (shape name, axis) pairs that NumPy accepts
AXES = [("0d", None), ("vec", None), ("vec", 0), ("vec", -1), ("mat", None), ("mat", 0),
        ("mat", -1), ("mat", (0, 1)), ("3d", (0, 2)), ("3d", -2), ("size1", 1),
        ("size1", (1, 2))]
SCAN_AXES = [("0d", None), ("vec", None), ("vec", -1), ("mat", 0), ("mat", 1), ("3d", None),
             ("3d", -2), ("size1", 1)]

REDUCTIONS = {
    "prod": (np.prod, {}),
    "var": (np.var, {}),
    "var_ddof1": (np.var, {"ddof": 1}),
    "std": (np.std, {}),
    "std_correction": (np.std, {"correction": 1}),
    "average": (np.average, {}),
    "ptp": (np.ptp, {}),
    "nansum": (np.nansum, {}),
    "nanmean": (np.nanmean, {}),
    "nanvar": (np.nanvar, {}),
    "nanstd": (np.nanstd, {"ddof": 0}),
    "nanprod": (np.nanprod, {}),
    "nanmax": (np.nanmax, {}),
    "nanmin": (np.nanmin, {}),
    "median": (np.median, {}),
}


def _usable(name, shape, axis):
    n = int(np.prod(shape if axis is None else [shape[a] for a in np.atleast_1d(axis)]))
    if "ddof" in name or "correction" in name:
        return n > 1
    return True


@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("shape,axis", AXES)
def test_reduction_values(name, shape, axis):
    npf, kw = REDUCTIONS[name]
    s = SHAPES[shape]
    if not _usable(name, s, axis):
        pytest.skip("ddof leaves no degrees of freedom")
    x = arr(*s)
    for keepdims in (False, True):
        if npf is np.average and keepdims and axis is None:
            continue
        np.testing.assert_allclose(on_tensors(npf, x, axis=axis, keepdims=keepdims, **kw),
                                   npf(x, axis=axis, keepdims=keepdims, **kw),
                                   rtol=1e-12, atol=1e-12)


# second order everywhere except where a function has kinks at generic points
# (the selections: ptp, nanmax, nanmin, median are piecewise linear: order 2 is 0)
@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("shape,axis", [a for a in AXES if a[0] != "3d"] + [("3d", (0, 2))])
def test_reduction_derivatives(name, shape, axis):
    npf, kw = REDUCTIONS[name]
    s = SHAPES[shape]
    if not _usable(name, s, axis):
        pytest.skip("ddof leaves no degrees of freedom")
    x = arr(*s)
    # std of one entry is 0 whatever it is: its derivatives are 0 (checked as such)
    check(lambda x: R[npf](x, axis=axis, keepdims=axis == -1, **kw), x)


@pytest.mark.parametrize("npf", [np.cumsum, np.cumprod, np.nancumsum, np.nancumprod])
@pytest.mark.parametrize("shape,axis", SCAN_AXES)
def test_scans(npf, shape, axis):
    x = arr(*SHAPES[shape])
    if SHAPES[shape] == () and axis is not None:
        return
    np.testing.assert_allclose(on_tensors(npf, x, axis=axis), npf(x, axis=axis), rtol=1e-13)
    check(lambda x: R[npf](x, axis=axis), x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # var of no entries is NaN, as NumPy's
def test_empty_axes():
    """Reductions over a non-empty axis of an array with an empty one; scans of empty arrays."""
    x = np.zeros((0, 3))
    for npf in (np.prod, np.var, np.nansum, np.cumsum, np.cumprod):
        kw = {"axis": 0} if npf not in (np.cumsum, np.cumprod) else {"axis": 1}
        out = on_tensors(npf, x, **kw)
        np.testing.assert_array_equal(out, npf(x, **kw))
        g = cr.grad(lambda x: cr.sum(R[npf](x, **kw)))(x)
        assert g.shape == (0, 3)
    # prod over an empty axis is 1, with an empty gradient
    np.testing.assert_array_equal(on_tensors(np.prod, x, axis=0), np.ones(3))
    check(lambda x: R[np.prod](x, axis=1), np.ones((3, 0)))


# ----- prod and cumprod with zeros ---------------------------------------------------
ZEROS = [[0.0, 2.0, 3.0, 4.0], [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 1.5], [1.5, 2.0, -3.0, 0.0]]


@pytest.mark.parametrize("z", ZEROS)
def test_prod_with_zeros(z):
    """Exact gradient (product of the others) with one and with several zeros, order 2."""
    x = np.array(z)
    g = cr.grad(lambda x: R[np.prod](x))(x)
    expected = [np.prod(np.delete(x, i)) for i in range(x.size)]
    np.testing.assert_array_equal(g, expected)
    check(lambda x: R[np.prod](x), x)
    check(lambda x: R[np.prod](x, axis=1), np.array([z, z[::-1]]))


@pytest.mark.parametrize("z", ZEROS)
def test_cumprod_with_zeros(z):
    x = np.array(z)
    check(lambda x: R[np.cumprod](x), x)
    check(lambda x: R[np.cumprod](x, axis=0), np.array([z, z[::-1]]).T)


def test_prod_with_zeros_third_order_single_zero():
    """Third derivative with one zero in the slice (the rule differentiated twice)."""
    x = np.array([0.0, 2.0, 3.0, 5.0])
    f = lambda x: R[np.prod](x)  # noqa: E731
    h = cr.hessian(f)(x)
    d3 = cr.jacobian(cr.hessian(f))(x)
    assert d3.shape == (4, 4, 4)
    # d^3 prod / dx0 dx1 dx2 = x3
    assert d3[0, 1, 2] == pytest.approx(5.0) and d3[1, 2, 3] == pytest.approx(0.0)
    assert h[0, 1] == pytest.approx(15.0) and h[1, 2] == pytest.approx(0.0)


def test_prod_initial_and_where():
    x = arr(3, 2)
    np.testing.assert_allclose(on_tensors(np.prod, x, axis=0, initial=2.0),
                               np.prod(x, axis=0, initial=2.0))
    mask = np.array([[True, False], [True, True], [False, True]])
    np.testing.assert_allclose(on_tensors(np.prod, x, axis=0, where=mask),
                               np.prod(x, axis=0, where=mask))
    check(lambda x: R[np.prod](x, axis=0, where=mask), x)


# ----- std / var ----------------------------------------------------------------------
def test_std_of_a_constant():
    """std of a constant is 0 (as NumPy); its gradient is 0, the smallest subgradient
    (PyTorch's convention; HIPS autograd gives NaN), without a warning."""
    x = np.full((2, 3), 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = cr.grad(lambda x: cr.sum(R[np.std](x, axis=1)))(x)
        gv = cr.grad(lambda x: cr.sum(R[np.var](x, axis=1)))(x)
        gn = cr.grad(lambda x: cr.sum(R[np.nanstd](x, axis=1, ddof=1)))(x)
        h = cr.hessian(lambda x: R[np.std](x))(x[0])
    np.testing.assert_array_equal(g, 0.0)
    np.testing.assert_array_equal(gv, 0.0)
    np.testing.assert_array_equal(gn, 0.0)
    assert np.isfinite(h).all()
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, requires_grad=True)
    torch.std(t, dim=1, correction=0).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), g)
    # one constant slice does not disturb the others
    y = np.array([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0]])
    check(lambda y: R[np.std](y, axis=1)[1], y)


def test_ddof_and_correction_conflict():
    with pytest.raises(ValueError, match="ddof and correction"):
        R[np.std](cr.tensor(arr(3)), ddof=1, correction=1)


@pytest.mark.parametrize("npf", [np.nansum, np.nanmean, np.nanvar, np.nanstd, np.nanprod,
                                 np.nanmax, np.nanmin, np.nancumsum, np.nancumprod])
def test_nan_functions_skip_nans(npf):
    x = arr(3, 4)
    x[0, 1] = x[2, 3] = x[1, 0] = np.nan
    for axis in (None, 0, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            np.testing.assert_allclose(on_tensors(npf, x, axis=axis), npf(x, axis=axis),
                                       rtol=1e-12)
        g = cr.grad(lambda x: cr.sum(R[npf](x, axis=axis)))(x)
        assert g[0, 1] == g[2, 3] == g[1, 0] == 0.0
        assert np.isfinite(g).all()
    # away from the NaNs, the derivatives are those of the plain function
    finite = ~np.isnan(x)
    check(lambda v: R[npf](cr.index_add(v, np.nonzero(finite), x.shape)
                           + np.where(finite, 0.0, np.nan), axis=0), x[finite])


def test_nanmax_all_nan_slice():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(on_tensors(np.nanmax, x, axis=1), np.nanmax(x, axis=1))


# ----- average -------------------------------------------------------------------------
def test_average_weights():
    a, w = arr(3, 4), np.abs(arr(3, 4)) + 0.5
    w1 = np.abs(arr(4)) + 0.5
    for axis in (None, 0, 1, -1):
        np.testing.assert_allclose(on_tensors(np.average, a, axis=axis, weights=w),
                                   np.average(a, axis=axis, weights=w), rtol=1e-13)
        check(lambda a, w: R[np.average](a, axis=axis, weights=w), a, w)
    np.testing.assert_allclose(on_tensors(np.average, a, axis=1, weights=w1),
                               np.average(a, axis=1, weights=w1), rtol=1e-13)
    check(lambda a, w: R[np.average](a, axis=-1, weights=w), a, w1)
    avg, scl = on_tensors(np.average, a, axis=0, weights=w, returned=True)
    eavg, escl = np.average(a, axis=0, weights=w, returned=True)
    np.testing.assert_allclose(avg, eavg)
    np.testing.assert_allclose(scl, escl)
    _, scl = on_tensors(np.average, a, axis=0, returned=True)
    np.testing.assert_allclose(scl, np.average(a, axis=0, returned=True)[1])
    check(lambda a, w: R[np.average](a, axis=0, weights=w, returned=True)[1], a, w)
    with pytest.raises(ZeroDivisionError):
        R[np.average](cr.tensor(a), weights=np.zeros((3, 4)))
    with pytest.raises(TypeError, match="Axis must be specified"):
        R[np.average](cr.tensor(a), weights=w1)


# ----- quantiles ------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_methods(method):
    x = arr(5, 4)
    for q in (0.3, [0.0, 0.5, 1.0], np.array([[0.25], [0.9]])):
        for axis in (None, 0, -1):
            for keepdims in (False, True):
                np.testing.assert_allclose(
                    on_tensors(np.quantile, x, q=q, axis=axis, method=method, keepdims=keepdims),
                    np.quantile(x, q, axis=axis, method=method, keepdims=keepdims), rtol=1e-13)
        check(lambda x: R[np.quantile](x, q, axis=0, method=method), x)
    np.testing.assert_allclose(on_tensors(np.percentile, x, q=[10, 50], axis=(0, 1)),
                               np.percentile(x, [10, 50], axis=(0, 1)), rtol=1e-13)


def test_quantile_differentiable_in_q():
    x = arr(6)
    check(lambda x, q: R[np.quantile](x, q), x, np.array([0.33, 0.71]), order=1)


def test_median_gradient_goes_to_the_middle():
    x = np.array([3.0, 1.0, 2.0, 10.0])
    g = cr.grad(lambda x: R[np.median](x))(x)
    np.testing.assert_array_equal(g, [0.5, 0.0, 0.5, 0.0])
    g = cr.grad(lambda x: R[np.median](x))(x[:3])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


# ----- PyTorch as oracle ------------------------------------------------------------------
TORCH_CASES = [
    ("prod", lambda np_, x: R[np.prod](x, axis=1), lambda t, x: t.prod(x, dim=1)),
    ("prod_zero", lambda np_, x: R[np.prod](x * np.array([1, 0, 1, 1.0]), axis=1),
     lambda t, x: t.prod(x * t.tensor([1, 0, 1, 1.0], dtype=t.float64), dim=1)),
    ("cumsum", lambda np_, x: R[np.cumsum](x, axis=0), lambda t, x: t.cumsum(x, dim=0)),
    ("cumprod", lambda np_, x: R[np.cumprod](x, axis=-1), lambda t, x: t.cumprod(x, dim=-1)),
    ("cumprod_zero", lambda np_, x: R[np.cumprod](x * np.array([1, 0, 1, 1.0]), axis=-1),
     lambda t, x: t.cumprod(x * t.tensor([1, 0, 1, 1.0], dtype=t.float64), dim=-1)),
    ("std", lambda np_, x: R[np.std](x, axis=0, ddof=1),
     lambda t, x: t.std(x, dim=0, correction=1)),
    ("var", lambda np_, x: R[np.var](x, axis=(0, 1), keepdims=True),
     lambda t, x: t.var(x, dim=(0, 1), correction=0, keepdim=True)),
    ("nansum", lambda np_, x: R[np.nansum](x, axis=1), lambda t, x: t.nansum(x, dim=1)),
    ("nanmean", lambda np_, x: R[np.nanmean](x, axis=0), lambda t, x: t.nanmean(x, dim=0)),
    ("quantile", lambda np_, x: R[np.quantile](x, [0.2, 0.5, 0.9], axis=1),
     lambda t, x: t.quantile(x, t.tensor([0.2, 0.5, 0.9], dtype=t.float64), dim=1)),
    ("mean_avg", lambda np_, x: R[np.average](x, axis=1), lambda t, x: t.mean(x, dim=1)),
]


@pytest.mark.parametrize("name,ours,theirs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_against_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    x = arr(3, 4)
    if name.startswith("nan"):
        x[1, 2] = np.nan
    out = ours(np, cr.tensor(x))
    c = RNG.standard_normal(np.shape(out))
    g = cr.grad(lambda x: cr.sum(ours(np, x) * c))(x)
    t = torch.tensor(x, requires_grad=True)
    tout = theirs(torch, t)
    (tout * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(np.asarray(out), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----- NumPy's conventions ------------------------------------------------------------------
def test_out_is_refused_on_tensors():
    with pytest.raises(TypeError, match="np.prod: out= is not supported"):
        R[np.prod](cr.tensor(arr(3)), out=np.empty(()))
    # plain inputs are NumPy's own function, out= included
    out = np.empty(())
    R[np.prod](np.arange(1.0, 4.0), out=out)
    assert out == 6.0


def test_lists_of_tensors_are_packed():
    f = lambda x: R[np.var]([x, 2 * x, x + 1.0])  # noqa: E731
    x = np.array(0.7)
    np.testing.assert_allclose(f(x), np.var([0.7, 1.4, 1.7]))
    check(f, x)


def test_dtype_argument():
    """dtype= is a differentiable cast of the input (float or complex targets)."""
    x = arr(3, 2)
    np.testing.assert_allclose(on_tensors(np.cumsum, x, dtype=np.float64), np.cumsum(x))
    x32 = x.astype(np.float32)
    for npf in (np.prod, np.cumsum, np.var, np.nansum, np.nanmean):
        out = R[npf](cr.tensor(x32), axis=0, dtype=np.float64)
        assert out.dtype == np.float64
        np.testing.assert_allclose(np.asarray(out), npf(x32, axis=0, dtype=np.float64))
        g = cr.grad(lambda x: cr.sum(R[npf](x, axis=0, dtype=np.float64)))(x32)
        assert g.dtype == np.float32
        check(lambda x: R[npf](x, axis=0, dtype=np.complex128), x)
    with pytest.raises(TypeError, match="non-float dtype"):
        R[np.cumsum](cr.tensor(x), dtype=np.int64)


def test_float32_stays_float32():
    x = arr(3, 4).astype(np.float32)
    for npf in (np.prod, np.std, np.cumprod, np.median):
        assert np.asarray(R[npf](cr.tensor(x), axis=0)).dtype == np.float32
        assert cr.grad(lambda x: cr.sum(R[npf](x, axis=0)))(x).dtype == np.float32


# ----- complex input, forward over forward ---------------------------------------------
COMPLEX = {
    "prod": lambda x: R[np.prod](x, axis=1),
    "prod_zero": lambda x: R[np.prod](x * np.array([1, 0, 1, 1.0]), axis=1),
    "cumsum": lambda x: R[np.cumsum](x, axis=1),
    "cumprod": lambda x: R[np.cumprod](x, axis=0),
    "var": lambda x: R[np.var](x, axis=1),
    "std": lambda x: R[np.std](x, axis=0, ddof=1),
    "nanstd": lambda x: R[np.nanstd](x),
    "nanvar": lambda x: R[np.nanvar](x, axis=0, keepdims=True),
    "average": lambda x: R[np.average](x, axis=0, weights=[1.0, 2.0, 3.0]),
    "nansum": lambda x: R[np.nansum](x, axis=-1),
}


@pytest.mark.parametrize("name", list(COMPLEX))
def test_complex_input(name):
    """Holomorphic ones (prod, scans) without conjugation; var/std real: df/dRe - i df/dIm."""
    z = arr(3, 4) + 1j * arr(3, 4)
    f = COMPLEX[name]
    np.testing.assert_allclose(np.asarray(f(cr.tensor(z))), f(z), rtol=1e-13)
    complex_check(f, z)


FOF = {
    "prod": lambda x: R[np.prod](x, axis=1),
    "prod_one_zero": lambda x: R[np.prod](x, axis=0),
    "cumsum": lambda x: R[np.cumsum](x, axis=1),
    "cumprod": lambda x: R[np.cumprod](x),
    "cumprod_zero": lambda x: R[np.cumprod](x, axis=0),
    "std": lambda x: R[np.std](x, axis=1, ddof=1),
    "nanvar": lambda x: R[np.nanvar](x, axis=0),
    "quantile": lambda x: R[np.quantile](x, [0.3, 0.8], axis=1),
}


@pytest.mark.parametrize("name", list(FOF))
def test_forward_over_forward(name):
    x = arr(3, 4)
    if "zero" in name:
        x[1, 2] = 0.0
    forward_over_forward(FOF[name], x)


@pytest.mark.skipif(not hasattr(np, "cumulative_sum"), reason="NumPy < 2.1")
@pytest.mark.parametrize("shape,kw", [((), {}), ((4,), {}), ((2, 3), {"axis": 1}),
                                      ((2, 3), {"axis": -2, "include_initial": True})])
def test_cumulative_sum_and_prod(shape, kw):
    x = arr(*shape)
    for npf in (np.cumulative_sum, np.cumulative_prod):
        np.testing.assert_allclose(on_tensors(npf, x, **kw), npf(x, **kw), rtol=1e-13)
        check(lambda x: R[npf](x, **kw), x)
    with pytest.raises(ValueError, match="axis must be specified"):
        R[np.cumulative_sum](cr.tensor(arr(2, 2)))


def test_quantile_of_a_slice_with_nan_is_nan():
    x = arr(3, 4)
    x[1, 2] = np.nan
    for npf, kw in ((np.median, {}), (np.quantile, {"q": [0.1, 0.5]}), (np.percentile, {"q": 30})):
        np.testing.assert_array_equal(on_tensors(npf, x, axis=1, **kw), npf(x, axis=1, **kw))
        g = cr.grad(lambda x: cr.sum(R[npf](x, axis=1, **kw)))(x)
        assert np.all(g[1] == 0) and np.isfinite(g).all() and np.any(g[0] != 0)


@pytest.mark.parametrize("npf", [np.prod, np.cumprod, np.std, np.median, np.nanmax])
def test_jit_replays_zeros_constants_and_nans(npf):
    """Traced without zeros/ties/NaN, replayed with them: the masked rules are recorded."""
    c = np.array([1.0, 2.0, 3.0, 4.0])
    f = lambda x: cr.sum(R[npf](x) * c) if npf is np.cumprod else R[npf](x)  # noqa: E731
    j = cr.jit(cr.value_and_grad(f))
    j(np.array([1.0, 2.0, 3.0, 4.0]))
    for x in ([0.0, 2.0, 3.0, 4.0], [2.0, 0.0, 3.0, 0.0], [1.5] * 4, [1.0, np.nan, 3.0, 2.0]):
        x = np.array(x)
        v, g = j(x)
        v2, g2 = cr.value_and_grad(f)(x)
        np.testing.assert_allclose(v, v2, equal_nan=True)
        np.testing.assert_allclose(g, g2, equal_nan=True)


def test_names_are_numpys():
    assert R[np.prod].__name__ == "prod" and R[np.nanstd].__name__ == "nanstd"
    assert R[np.cumsum].__qualname__ == "cumsum"


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nan_quantiles(method):
    x = arr(4, 5)
    x[0, 1] = x[2, 1] = x[3, 3] = np.nan
    x[:, 4] = np.nan  # an all-NaN column
    finite = ~np.isnan(x)
    for npf, q in ((np.nanquantile, [0.2, 0.5]), (np.nanpercentile, 70.0)):
        for axis in (None, 0, 1):
            for keepdims in (False, True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    expected = npf(x, q, axis=axis, method=method, keepdims=keepdims)
                np.testing.assert_allclose(
                    on_tensors(npf, x, q=q, axis=axis, method=method, keepdims=keepdims),
                    expected, rtol=1e-13)
        g = cr.grad(lambda x: cr.sum(R[npf](x[:, :4], q, axis=0, method=method)))(x)
        assert np.all(g[~finite] == 0) and np.isfinite(g).all()
        # away from the NaNs, the derivatives of the plain selection
        check(lambda v: R[npf](cr.index_add(v, np.nonzero(finite[:, :4]), (4, 4))
                               + np.where(finite[:, :4], 0.0, np.nan), q, axis=0,
                               method=method), x[:, :4][finite[:, :4]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy: "All-NaN slice encountered"
        np.testing.assert_allclose(on_tensors(np.nanmedian, x, axis=0), np.nanmedian(x, axis=0))


# ----- property-based: random shapes, axes and keepdims --------------------------------
hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

FUZZED = [np.prod, np.var, np.std, np.nansum, np.nanmean, np.nanvar, np.ptp, np.median,
          np.average, np.nanprod, np.cumsum, np.cumprod]


@st.composite
def _reduction_call(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    npf = draw(st.sampled_from(FUZZED))
    nd = len(shape)
    if npf in (np.cumsum, np.cumprod):
        axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
        return npf, shape, {"axis": axis}
    axes = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd)) if nd else []
    axis = draw(st.sampled_from([None, tuple(axes)] + ([axes[0] - nd] if axes else [])))
    kw = {"axis": axis, "keepdims": draw(st.booleans())}
    if npf in (np.var, np.std) and draw(st.booleans()):
        kw["ddof"] = 1
    return npf, shape, kw


@hypothesis.settings(max_examples=int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", 40)),
                     deadline=None, derandomize=True)
@hypothesis.given(_reduction_call(), st.integers(0, 2 ** 31 - 1))
def test_fuzz_against_numpy_and_differences(call, seed):
    """Values equal NumPy's; grad and jvp agree with central differences (first order)."""
    npf, shape, kw = call
    x = np.random.default_rng(seed).standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ddof >= n: NumPy warns, gives inf
        expected = npf(x, **kw)
        got = on_tensors(npf, x, **kw)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    if not np.isfinite(expected).all():
        return
    check(lambda x: R[npf](x, **kw), x, order=1, seed=seed)


def test_numpy_dispatch_and_namespace_reach_these():
    """np.f(t) (NumPy's own function on a Tensor) and chainrule.numpy.f are these rules."""
    cnp = pytest.importorskip("chainrule.numpy")
    x = arr(3, 4)
    x[0, 0] = 0.0
    for F in (np, cnp):
        g = cr.grad(lambda x: F.prod(x) + F.sum(F.cumprod(x, axis=1)) + F.std(x, ddof=1)
                    + F.median(x) + F.nanvar(x))(x)
        check(lambda x: F.prod(x, axis=0) + F.std(x, axis=0) + F.cumsum(x, axis=0)[-1], x)
        assert np.isfinite(g).all() and g[0, 0] != 0.0
