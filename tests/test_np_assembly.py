"""Shape and assembly functions of the NumPy catalogue (chainrule.ops.assembly).

Each case is written once against a namespace ``F``: run with NumPy it gives
the expected values; with the catalogue's implementations on Tensors it must
give the same values, and its derivatives are checked by tests/npcheck.py
(reverse and forward, first and second order, vs central differences).
PyTorch is the oracle where it has the function; sort and partition are also
replayed by cr.jit on inputs in another order.
"""
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.assembly import NUMPY_IMPLS as A
from cplx import complex_check, forward_over_forward
from npcheck import check

pytestmark = [
    pytest.mark.filterwarnings("ignore:grad.*does not depend on the differentiated:UserWarning"),
    pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")]

RNG = np.random.default_rng(7)


def arr(*shape):
    return RNG.standard_normal(shape)


class _Catalogue:
    """np.<name> looked up in NUMPY_IMPLS (the differentiable implementations)."""

    def __getattr__(self, name):
        return A[getattr(np, name)]


C = _Catalogue()

# (id, case(F, *arrays), argument shapes); the cases are linear in their inputs
# unless noted, so second order checks that the rules differentiate to zero.
CASES = [
    ("ravel_0d", lambda F, x: F.ravel(x), [()]),
    ("ravel_3d", lambda F, x: F.ravel(x), [(2, 3, 2)]),
    ("ravel_F", lambda F, x: F.ravel(x, order="F"), [(2, 3)]),
    ("swapaxes", lambda F, x: F.swapaxes(x, 0, -1), [(2, 3, 2)]),
    ("moveaxis", lambda F, x: F.moveaxis(x, (0, 1), (-1, 0)), [(2, 3, 1)]),
    ("rollaxis", lambda F, x: F.rollaxis(x, 2, 0), [(2, 3, 2)]),
    ("rollaxis_end", lambda F, x: F.rollaxis(x, 0, 3), [(2, 3, 2)]),
    ("atleast_1d", lambda F, x: F.atleast_1d(x), [()]),
    ("atleast_2d", lambda F, x: F.atleast_2d(x), [(3,)]),
    ("atleast_3d_0d", lambda F, x: F.atleast_3d(x), [()]),
    ("atleast_3d_1d", lambda F, x: F.atleast_3d(x), [(3,)]),
    ("atleast_3d_2d", lambda F, x: F.atleast_3d(x), [(2, 3)]),
    ("hstack_1d", lambda F, x, y: F.hstack([x, y]), [(2,), (3,)]),
    ("hstack_2d", lambda F, x, y: F.hstack((x, y)), [(2, 2), (2, 1)]),
    ("vstack", lambda F, x, y: F.vstack([x, y]), [(3,), (2, 3)]),
    ("row_stack", lambda F, x, y: F.row_stack([x, y]), [(1, 2), (2,)]),
    ("dstack", lambda F, x, y: F.dstack([x, y]), [(2, 2), (2, 2)]),
    ("column_stack", lambda F, x, y: F.column_stack([x, y]), [(3,), (3, 2)]),
    ("append_flat", lambda F, x, y: F.append(x, y), [(2, 3), (2,)]),
    ("append_axis", lambda F, x, y: F.append(x, y, axis=1), [(2, 3), (2, 1)]),
    ("tile_int", lambda F, x: F.tile(x, 2), [(2, 3)]),
    ("tile_more", lambda F, x: F.tile(x, (2, 1, 2)), [(2, 3)]),
    ("tile_0d", lambda F, x: F.tile(x, 3), [()]),
    ("repeat_flat", lambda F, x: F.repeat(x, 2), [(2, 3)]),
    ("repeat_each", lambda F, x: F.repeat(x, [1, 3], axis=0), [(2, 3)]),
    ("repeat_neg", lambda F, x: F.repeat(x, 3, axis=-1), [(2, 2)]),
    ("pad_constant", lambda F, x: F.pad(x, 2), [(3,)]),
    ("pad_values", lambda F, x: F.pad(x, ((1, 0), (2, 1)), constant_values=1.5), [(2, 3)]),
    ("pad_pairs", lambda F, x: F.pad(x, ((1, 2), (0, 1)), constant_values=((1, 2), (3, 4))),
     [(2, 2)]),
    ("pad_edge", lambda F, x: F.pad(x, ((1, 2), (2, 0)), mode="edge"), [(3, 2)]),
    ("pad_reflect", lambda F, x: F.pad(x, ((2, 1), (3, 3)), mode="reflect"), [(3, 3)]),
    ("pad_symmetric", lambda F, x: F.pad(x, 2, mode="symmetric"), [(3,)]),
    ("pad_wrap", lambda F, x: F.pad(x, (4, 1), mode="wrap"), [(2, 3)]),
    ("pad_empty_axis", lambda F, x: F.pad(x, 1), [(0, 2)]),
    ("sort_empty", lambda F, x: F.sort(x, axis=0), [(0, 3)]),
    ("roll_empty", lambda F, x: F.roll(x, 2, axis=0), [(0, 2)]),
    ("flip_empty", lambda F, x: F.flip(x), [(2, 0)]),
    ("tile_zero", lambda F, x: F.tile(x, (0, 2)), [(2, 2)]),
    ("repeat_zero", lambda F, x: F.repeat(x, 0, axis=1), [(2, 2)]),
    ("hstack_empty", lambda F, x, y: F.hstack([x, y]), [(0,), (3,)]),
    ("tril_empty", lambda F, x: F.tril(x), [(0, 3)]),
    ("kron_empty", lambda F, x, y: F.kron(x, y), [(0, 2), (2, 2)]),
    ("roll_flat", lambda F, x: F.roll(x, 3), [(2, 3)]),
    ("roll_axis", lambda F, x: F.roll(x, -1, axis=0), [(3, 2)]),
    ("roll_axes", lambda F, x: F.roll(x, (1, -2), axis=(0, 1)), [(3, 4)]),
    ("roll_same_axis", lambda F, x: F.roll(x, (1, 1), axis=(1, -1)), [(2, 3)]),
    ("flip_all", lambda F, x: F.flip(x), [(2, 3)]),
    ("flip_axes", lambda F, x: F.flip(x, (0, -1)), [(2, 1, 3)]),
    ("flip_0d", lambda F, x: F.flip(x), [()]),
    ("fliplr", lambda F, x: F.fliplr(x), [(2, 3)]),
    ("flipud", lambda F, x: F.flipud(x), [(3,)]),
    ("rot90", lambda F, x: F.rot90(x), [(2, 3)]),
    ("rot90_2", lambda F, x: F.rot90(x, 2), [(2, 3)]),
    ("rot90_3", lambda F, x: F.rot90(x, -1, axes=(1, 2)), [(2, 3, 2)]),
    ("diag_vec", lambda F, x: F.diag(x), [(3,)]),
    ("diag_vec_k", lambda F, x: F.diag(x, -2), [(2,)]),
    ("diag_mat", lambda F, x: F.diag(x, 1), [(3, 4)]),
    ("diag_mat_empty", lambda F, x: F.diag(x, 5), [(3, 4)]),
    ("diagonal", lambda F, x: F.diagonal(x, -1), [(3, 4)]),
    ("diagonal_3d", lambda F, x: F.diagonal(x, 1, axis1=2, axis2=0), [(2, 3, 4)]),
    ("diagflat", lambda F, x: F.diagflat(x, 1), [(2, 2)]),
    ("trace", lambda F, x: F.trace(x), [(3, 4)]),
    ("trace_3d", lambda F, x: F.trace(x, -1, axis1=1, axis2=2), [(2, 3, 3)]),
    ("tril", lambda F, x: F.tril(x), [(3, 4)]),
    ("tril_k", lambda F, x: F.tril(x, -1), [(2, 3, 3)]),
    ("tril_1d", lambda F, x: F.tril(x, 1), [(3,)]),
    ("triu", lambda F, x: F.triu(x, 1), [(3, 4)]),
    ("triu_3d", lambda F, x: F.triu(x), [(2, 2, 3)]),
    ("kron", lambda F, x, y: F.kron(x, y), [(2, 3), (2, 2)]),
    ("kron_vec", lambda F, x, y: F.kron(x, y), [(3,), (2,)]),
    ("kron_ranks", lambda F, x, y: F.kron(x, y), [(2,), (2, 3)]),
    ("kron_0d", lambda F, x, y: F.kron(x, y), [(), (2,)]),
    ("select", lambda F, x, y: F.select([x > 0.5, x < -0.5], [x * y, x ** 2], default=y),
     [(3, 4), (3, 4)]),
    ("select_broadcast", lambda F, x, y: F.select([x > 0], [y], default=1.0), [(3, 2), (2,)]),
    ("take_axis", lambda F, x: F.take(x, [0, 2, 2], axis=1), [(3, 4)]),
    ("take_flat", lambda F, x: F.take(x, [[0, 5], [11, 11]]), [(3, 4)]),
    ("take_scalar", lambda F, x: F.take(x, 1, axis=0), [(3, 4)]),
    ("take_wrap", lambda F, x: F.take(x, [5, -1], axis=0, mode="wrap"), [(3, 2)]),
    ("take_clip", lambda F, x: F.take(x, [5, -1], mode="clip"), [(3, 2)]),
    ("take_along_axis", lambda F, x: F.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]),
                                                       axis=1), [(3, 4)]),
    ("take_along_axis_0", lambda F, x: F.take_along_axis(x, np.array([[2, 0, 1, 1]]), axis=0),
     [(3, 4)]),
    ("take_along_axis_none", lambda F, x: F.take_along_axis(x, np.array([5, 0, 5]), axis=None),
     [(2, 3)]),
    ("sort_vec", lambda F, x: F.sort(x), [(5,)]),
    ("sort_axis0", lambda F, x: F.sort(x, axis=0), [(3, 4)]),
    ("sort_none", lambda F, x: F.sort(x, axis=None), [(2, 3)]),
    ("sort_size1", lambda F, x: F.sort(x, axis=1), [(3, 1)]),
    ("partition", lambda F, x: F.partition(x, 2), [(5,)]),
    ("partition_axis0", lambda F, x: F.partition(x, 1, axis=0), [(3, 4)]),
    ("diff", lambda F, x: F.diff(x), [(3, 4)]),
    ("diff_n2_axis0", lambda F, x: F.diff(x, 2, axis=0), [(4, 3)]),
    ("diff_ends", lambda F, x: F.diff(x, prepend=0.5, append=x[:, :1]), [(3, 4)]),
    ("gradient", lambda F, x: F.gradient(x, 0.5, axis=1), [(3, 5)]),
    ("gradient_all", lambda F, x: F.gradient(x)[1] * 2 + F.gradient(x)[0], [(3, 4)]),
    ("gradient_coords", lambda F, x: F.gradient(x, np.array([0.0, 1.0, 3.0, 4.5, 5.0]),
                                                edge_order=2), [(5,)]),
    ("insert_axis", lambda F, x, v: F.insert(x, 1, v, axis=1), [(3, 4), (3,)]),
    ("insert_flat", lambda F, x, v: F.insert(x, [1, 3, 3], v), [(2, 3), (3,)]),
    ("insert_slice", lambda F, x, v: F.insert(x, slice(0, 2), v, axis=0), [(3, 2), (2, 1)]),
    ("choose", lambda F, x, y: F.choose(np.array([[0, 1, 2, 1]]), [x, y, 2.0]), [(3, 4), (4,)]),
    ("resize", lambda F, x: F.resize(x, (5, 3)), [(3, 2)]),
    ("block", lambda F, x, y: F.block([[x, y], [y, x]]), [(2, 2), (2, 2)]),
    ("block_1d", lambda F, x, y: F.block([x, 1.0, y]), [(2,), (3,)]),
    ("block_depth", lambda F, x, y: F.block([[x], [y]]), [(2,), (2,)]),
    ("unwrap", lambda F, x: F.unwrap(x * 4.0, axis=0), [(5, 2)]),
    ("sort_complex", lambda F, x: F.sort_complex(x), [(4,)]),
    ("vander", lambda F, x: F.vander(x), [(3,)]),
    ("vander_n", lambda F, x: F.vander(x, 4, increasing=True), [(2,)]),
    ("logspace", lambda F, a, b: F.logspace(a, b, 4, base=2.0), [(), ()]),
    ("logspace_arrays", lambda F, a, b: F.logspace(a, b, 3, axis=1), [(2,), (2,)]),
    ("geomspace", lambda F, a, b: F.geomspace(1.5 + a * a, 0.5 + b * b, 4), [(), ()]),
    ("geomspace_neg", lambda F, a, b: F.geomspace(-1 - a * a, -2 - b * b, 3, endpoint=False,
                                                  axis=-1), [(2,), (2,)]),
    ("linspace", lambda F, a, b: F.linspace(a, b, 5), [(), ()]),
    ("linspace_open", lambda F, a, b: F.linspace(a, b, 4, endpoint=False), [(), ()]),
    ("linspace_arrays", lambda F, a, b: F.linspace(a, b, 3, axis=-1), [(2,), (3, 2)]),
    ("linspace_one", lambda F, a, b: F.linspace(a, b, 1), [(), ()]),
    ("linspace_step", lambda F, a, b: F.linspace(a, b, 3, retstep=True)[1], [(), ()]),
    ("full", lambda F, c: F.full((2, 3), c), [()]),
    ("full_row", lambda F, c: F.full((2, 3), c), [(3,)]),
    ("full_like", lambda F, c: F.full_like(np.zeros((2, 2)), c), [()]),
    ("broadcast_arrays", lambda F, x, y: F.broadcast_arrays(x, y)[0] * 2 + F.broadcast_arrays(
        x, y)[1], [(3, 1), (2,)]),
    ("copy", lambda F, x: F.copy(x), [(2, 3)]),
    ("nan_to_num", lambda F, x: F.nan_to_num(x), [(3,)]),
    ("real_if_close", lambda F, x: F.real_if_close(x), [(3,)]),
]


@pytest.mark.parametrize("name,case,shapes", CASES, ids=[c[0] for c in CASES])
def test_values_and_derivatives(name, case, shapes):
    args = [arr(*s) for s in shapes]
    expected = case(np, *args)
    got = case(C, *[cr.tensor(a) for a in args])
    assert type(got) is cr.Tensor
    assert got.shape == np.shape(expected), (got.shape, np.shape(expected))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-14, atol=1e-15)
    check(lambda *a: case(C, *a), *args)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("func1d", [np.sort, np.sum, lambda v: np.stack([v, v * v])],
                         ids=["sort", "sum", "stack"])
def test_apply_along_axis(func1d, axis):
    x = arr(3, 4, 2)
    got = C.apply_along_axis(func1d, axis, cr.tensor(x))
    expected = np.apply_along_axis(func1d, axis, x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-14)
    check(lambda x: C.apply_along_axis(func1d, axis, x), x, order=1)


def test_apply_over_axes():
    x = arr(3, 4, 2)
    got = C.apply_over_axes(np.sum, cr.tensor(x), [0, 2])
    np.testing.assert_allclose(np.asarray(got), np.apply_over_axes(np.sum, x, [0, 2]))
    check(lambda x: C.apply_over_axes(np.sum, x, [0, -1]), x)


def test_trim_zeros():
    z = np.array([0.0, 0.0, 1.5, 0.0, 2.0, 0.0])
    for trim in ("fb", "f", "b"):
        np.testing.assert_array_equal(np.asarray(C.trim_zeros(cr.tensor(z), trim)),
                                      np.trim_zeros(z, trim))
    c = np.arange(1.0, 4.0)
    g = cr.grad(lambda z: cr.sum(C.trim_zeros(z) * c))(z)
    np.testing.assert_array_equal(g, [0, 0, 1, 2, 3, 0])
    z2 = np.zeros((3, 4))
    z2[1, 1:3] = [1.0, 2.0]
    for axis in (None, 1):
        np.testing.assert_array_equal(np.asarray(C.trim_zeros(cr.tensor(z2), axis=axis)),
                                      np.trim_zeros(z2, axis=axis))
    with pytest.raises(cr.JitError):
        cr.jit(lambda z: cr.sum(C.trim_zeros(z)))(z)


def test_asarray_chkfinite():
    x = cr.tensor(arr(3))
    assert C.asarray_chkfinite(x) is x
    with pytest.raises(ValueError, match="infs or NaNs"):
        C.asarray_chkfinite(cr.tensor(np.array([1.0, np.nan])))


def test_broadcast_arrays_gives_a_tuple():
    x, y = cr.tensor(arr(3, 1)), cr.tensor(arr(2))
    out = C.broadcast_arrays(x, y)
    assert isinstance(out, tuple) and [o.shape for o in out] == [(3, 2), (3, 2)]


@pytest.mark.parametrize("npf,kw,shape", [
    (np.split, {"indices_or_sections": 3}, (6,)),
    (np.split, {"indices_or_sections": [1, 3], "axis": -1}, (2, 4)),
    (np.split, {"indices_or_sections": [3, 1]}, (4, 2)),
    (np.array_split, {"indices_or_sections": 3}, (5, 2)),
    (np.array_split, {"indices_or_sections": 4, "axis": 1}, (2, 3)),
    (np.hsplit, {"indices_or_sections": 2}, (2, 4)),
    (np.hsplit, {"indices_or_sections": 2}, (4,)),
    (np.vsplit, {"indices_or_sections": [1]}, (3, 2)),
    (np.dsplit, {"indices_or_sections": 2}, (1, 2, 4)),
])
def test_splits(npf, kw, shape):
    x = arr(*shape)
    expected = npf(x, **kw)
    got = A[npf](cr.tensor(x), **kw)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_array_equal(np.asarray(g), e)
    w = [RNG.standard_normal(e.shape) for e in expected]
    check(lambda x: cr.stack([cr.sum(p * wk) for p, wk in zip(A[npf](x, **kw), w)]), x)


def test_split_errors():
    with pytest.raises(ValueError, match="equal division"):
        C.split(cr.tensor(arr(5)), 2)
    with pytest.raises(ValueError, match="vsplit only works on arrays of 2"):
        C.vsplit(cr.tensor(arr(4)), 2)


def test_atleast_many():
    x, y = cr.tensor(arr()), cr.tensor(arr(2, 3))
    out = C.atleast_2d(x, y)
    assert isinstance(out, tuple) and out[0].shape == (1, 1) and out[1] is y


# ----- sort and partition ------------------------------------------------------------
def test_sort_gradient_follows_the_permutation():
    x = np.array([3.0, -1.0, 2.0, 2.0])
    c = np.array([1.0, 10.0, 100.0, 1000.0])
    g = cr.grad(lambda x: cr.sum(C.sort(x) * c))(x)
    # sorted: -1 (x1), 2 (x2), 2 (x3: stable order), 3 (x0)
    np.testing.assert_array_equal(g, [1000.0, 1.0, 10.0, 100.0])


def test_sort_under_jit_replays_the_argsort():
    """The permutation is recomputed from each call's input, not frozen at trace time."""
    c = np.arange(1.0, 5.0)
    f = cr.jit(cr.value_and_grad(lambda x: cr.sum(C.sort(x) * c)))
    f(np.array([1.0, 2.0, 3.0, 4.0]))
    x = np.array([4.0, 1.0, 3.0, 2.0])
    v, g = f(x)
    assert float(v) == pytest.approx(np.sum(np.sort(x) * c))
    np.testing.assert_array_equal(g, [4.0, 1.0, 3.0, 2.0])
    p = cr.jit(cr.grad(lambda x: cr.sum(C.partition(x, 0) * c)))
    p(np.array([1.0, 2.0, 3.0, 4.0]))
    assert p(x)[1] == 1.0  # the minimum, now at position 1, lands in slot 0


# ----- numerically careful cases ------------------------------------------------------
def test_nan_to_num_gradient_is_zero_where_replaced():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    out = C.nan_to_num(cr.tensor(x), nan=5.0, posinf=7.0)
    np.testing.assert_array_equal(np.asarray(out), np.nan_to_num(x, nan=5.0, posinf=7.0))
    g = cr.grad(lambda x: cr.sum(C.nan_to_num(x, posinf=7.0, neginf=-7.0) * 3.0))(x)
    np.testing.assert_array_equal(g,
                                  [3.0, 0.0, 0.0, 0.0, 3.0])


def test_tril_does_not_spread_inf():
    """The masked entries are replaced (where), not multiplied by 0: no NaN from an inf."""
    x = np.array([[1.0, np.inf], [2.0, 3.0]])
    np.testing.assert_array_equal(np.asarray(C.tril(cr.tensor(x))), np.tril(x))


def test_linspace_endpoint_is_exact():
    a, b = 0.1, 0.7
    y = np.asarray(C.linspace(cr.tensor(a), cr.tensor(b), 7))
    assert y[-1] == b and y[0] == a
    np.testing.assert_allclose(y, np.linspace(a, b, 7), rtol=1e-15)
    ga, gb = cr.grad(lambda a, b: cr.sum(C.linspace(a, b, 5)), argnums=(0, 1))(a, b)
    assert (ga, gb) == (pytest.approx(2.5), pytest.approx(2.5))


def test_pad_differentiable_constant():
    check(lambda x, c: C.pad(x, ((1, 0), (0, 2)), constant_values=c), arr(2, 2), arr())


def test_full_like_no_gradient_to_a():
    a, c = arr(2, 2), np.array(0.5)
    ga, gc = cr.grad(lambda a, c: cr.sum(C.full_like(a, c) * a), argnums=(0, 1))(a, c)
    np.testing.assert_allclose(ga, 0.5)  # only through the product
    assert gc == pytest.approx(np.sum(a))


def test_constant_likes_return_plain_arrays():
    x = cr.tensor(arr(2, 3), requires_grad=True)
    for npf, v in ((np.zeros_like, 0.0), (np.ones_like, 1.0)):
        out = A[npf](x)
        assert type(out) is np.ndarray and out.shape == (2, 3) and (out == v).all()
    assert A[np.empty_like](x).shape == (2, 3)


# ----- NumPy's conventions ---------------------------------------------------------------
def test_out_is_refused_and_plain_inputs_run_numpy():
    with pytest.raises(TypeError, match="np.take: out= is not supported"):
        C.take(cr.tensor(arr(3)), [0], out=np.empty(1))
    assert type(C.flip(np.arange(3))) is np.ndarray
    np.testing.assert_array_equal(C.pad(np.arange(3), 1, mode="linear_ramp"),
                                  np.pad(np.arange(3), 1, mode="linear_ramp"))


def test_unsupported_pad_modes_say_so():
    with pytest.raises(NotImplementedError, match="np.pad: mode 'median'"):
        C.pad(cr.tensor(arr(3)), 1, mode="median")
    with pytest.raises(NotImplementedError, match="reflect_type='odd'"):
        C.pad(cr.tensor(arr(3)), 1, mode="reflect", reflect_type="odd")


def test_axis_errors_are_numpys():
    with pytest.raises(np.exceptions.AxisError):
        C.swapaxes(cr.tensor(arr(2, 3)), 0, 2)
    with pytest.raises(ValueError, match="Input must be >= 2-d"):
        C.fliplr(cr.tensor(arr(3)))
    with pytest.raises(ValueError, match="same number of dimensions"):
        C.take_along_axis(cr.tensor(arr(2, 3)), np.array([0]), axis=1)


def test_lists_of_tensors_are_packed():
    f = lambda x: C.kron([[x, 2 * x], [1.0, x]], [1.0, x])  # noqa: E731
    x = np.array(0.3)
    np.testing.assert_allclose(f(x), np.kron([[0.3, 0.6], [1.0, 0.3]], [1.0, 0.3]))
    check(f, x)
    check(lambda x: C.hstack([[x, x * x], x]), x)


def test_float32_stays_float32():
    x = arr(3, 3).astype(np.float32)
    for f in (C.tril, C.sort, C.diagonal, C.trace, lambda x: C.pad(x, 1, mode="wrap"),
              lambda x: C.linspace(x[0, 0], x[1, 1], 3)):
        assert np.asarray(f(cr.tensor(x))).dtype == np.float32
        assert cr.grad(lambda x: cr.sum(f(x)))(x).dtype == np.float32


# ----- PyTorch as oracle -------------------------------------------------------------------
TORCH_CASES = [
    ("roll", lambda x: C.roll(x, (1, -2), axis=(0, 1)), lambda t, x: t.roll(x, (1, -2), (0, 1))),
    ("flip", lambda x: C.flip(x, 1), lambda t, x: t.flip(x, (1,))),
    ("rot90", lambda x: C.rot90(x, 3), lambda t, x: t.rot90(x, 3, (0, 1))),
    ("tril", lambda x: C.tril(x, -1), lambda t, x: t.tril(x, -1)),
    ("triu", lambda x: C.triu(x, 1), lambda t, x: t.triu(x, 1)),
    ("kron", lambda x: C.kron(x, x[:2, :2]), lambda t, x: t.kron(x, x[:2, :2])),
    ("sort", lambda x: C.sort(x, axis=0), lambda t, x: t.sort(x, dim=0, stable=True).values),
    ("take_along", lambda x: C.take_along_axis(x, np.array([[3, 0], [1, 1], [2, 2]]), 1),
     lambda t, x: t.take_along_dim(x, t.tensor([[3, 0], [1, 1], [2, 2]]), 1)),
    ("diagonal", lambda x: C.diagonal(x, 1), lambda t, x: t.diagonal(x, 1)),
    ("trace", lambda x: C.trace(x), lambda t, x: t.trace(x)),
    ("diag", lambda x: C.diag(x[0], 1), lambda t, x: t.diag(x[0], 1)),
    ("tile", lambda x: C.tile(x, (2, 1)), lambda t, x: t.tile(x, (2, 1))),
    ("repeat", lambda x: C.repeat(x, 2, axis=1), lambda t, x: t.repeat_interleave(x, 2, 1)),
    ("pad_constant", lambda x: C.pad(x, ((1, 2), (0, 1)), constant_values=0.5),
     lambda t, x: t.nn.functional.pad(x, (0, 1, 1, 2), value=0.5)),
    ("pad_reflect", lambda x: C.pad(x, ((0, 0), (2, 1)), mode="reflect"),
     lambda t, x: t.nn.functional.pad(x[None], (2, 1), mode="reflect")[0]),
    ("pad_edge", lambda x: C.pad(x, ((0, 0), (2, 3)), mode="edge"),
     lambda t, x: t.nn.functional.pad(x[None], (2, 3), mode="replicate")[0]),
    ("pad_wrap", lambda x: C.pad(x, ((0, 0), (2, 1)), mode="wrap"),
     lambda t, x: t.nn.functional.pad(x[None], (2, 1), mode="circular")[0]),
    ("hstack", lambda x: C.hstack([x, x[:, :1]]), lambda t, x: t.hstack([x, x[:, :1]])),
    ("column_stack", lambda x: C.column_stack([x[0], x[1]]),
     lambda t, x: t.column_stack([x[0], x[1]])),
]


@pytest.mark.parametrize("name,ours,theirs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_against_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    x = arr(3, 4)
    out = ours(cr.tensor(x))
    c = RNG.standard_normal(out.shape)
    g = cr.grad(lambda x: cr.sum(ours(x) * c))(x)
    t = torch.tensor(x, requires_grad=True)
    tout = theirs(torch, t)
    (tout * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(np.asarray(out), tout.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-14)


# ----- complex input, forward over forward ---------------------------------------------
COMPLEX = [c for c in CASES if len(c[2]) == 1 and c[0].split("_")[0] in (
    "ravel", "moveaxis", "tile", "repeat", "pad", "roll", "rot90", "diag", "diagonal", "trace",
    "tril", "triu", "take", "sort", "partition", "full", "copy") and c[0] != "full_like"]


@pytest.mark.parametrize("name,case,shapes", COMPLEX, ids=[c[0] for c in COMPLEX])
def test_complex_input(name, case, shapes):
    z = arr(*shapes[0]) + 1j * arr(*shapes[0])
    np.testing.assert_allclose(np.asarray(case(C, cr.tensor(z))), case(np, z), rtol=1e-14)
    complex_check(lambda z: case(C, z), z)


def test_complex_kron_and_linspace():
    z = arr(2, 2) + 1j * arr(2, 2)
    complex_check(lambda z: C.kron(z, z * z), z)
    complex_check(lambda z: C.linspace(z[0], z[1], 4, axis=1), z)


@pytest.mark.parametrize("name", ["sort_axis0", "pad_reflect", "kron", "linspace_arrays",
                                  "select", "diagonal_3d", "roll_axes", "tile_more"])
def test_forward_over_forward(name):
    case, shapes = next((c[1], c[2]) for c in CASES if c[0] == name)
    args = [arr(*s) for s in shapes]
    # differentiate in the first argument; the others are held fixed
    forward_over_forward(lambda x: case(C, x, *args[1:]) * case(C, x, *args[1:]), args[0])


def test_arange_in_start_and_step():
    for args in ((5.5,), (0.5, 3.0), (0.5, 3.0, 0.25), (3.0, 0.0, -0.5)):
        t = [cr.tensor(a) for a in args]
        np.testing.assert_array_equal(np.asarray(C.arange(*t)), np.arange(*args))
    check(lambda s, st: C.arange(s, 3.0, st), np.array(0.5), np.array(0.3))
    assert cr.grad(lambda e: cr.sum(C.arange(0.0, e, 1.0)))(3.5) == 0.0  # stop: the length
    with pytest.raises(cr.JitError):
        cr.jit(lambda s: cr.sum(C.arange(s, 3.0)))(0.5)


def test_dtype_argument_casts():
    a, b = cr.tensor(np.float32(0.5)), cr.tensor(np.float32(2.0))
    for out in (C.linspace(a, b, 3, dtype=np.float64), C.full((2,), a, dtype=np.float64),
                C.trace(cr.tensor(arr(2, 2).astype(np.float32)), dtype=np.float64)):
        assert out.dtype == np.float64
    with pytest.raises(TypeError, match="non-float dtype"):
        C.linspace(a, b, 3, dtype=int)


def test_out_by_position_is_refused():
    with pytest.raises(TypeError, match="np.take: out= is not supported"):
        C.take(cr.tensor(arr(3)), [0], 0, np.empty(1))


# ----- property-based: random shapes and arguments ----------------------------------------
hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@st.composite
def _assembly_call(draw):
    """(name, shape, fn(F, x)) for a random function, shape and argument pattern."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    nd = len(shape)
    ax = draw(st.integers(-nd, nd - 1))
    ax2 = draw(st.integers(-nd, nd - 1))
    k = draw(st.integers(0, 3))
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    widths = [tuple(draw(st.lists(st.integers(0, 2), min_size=2, max_size=2)))
              for _ in range(nd)]
    idx = np.asarray(draw(st.lists(st.integers(0, shape[ax] - 1), min_size=1, max_size=4)))
    cases = {
        "flip": lambda F, x: F.flip(x, ax),
        "roll": lambda F, x: F.roll(x, k - 1, axis=ax),
        "sort": lambda F, x: F.sort(x, axis=ax),
        "partition": lambda F, x: F.partition(x, min(k, shape[ax] - 1), axis=ax),
        "tile": lambda F, x: F.tile(x, (k % 2 + 1,) * (k % 3 + 1)),
        "repeat": lambda F, x: F.repeat(x, k, axis=ax),
        "pad": lambda F, x: F.pad(x, widths, mode=mode),
        "moveaxis": lambda F, x: F.moveaxis(x, ax, ax2),
        "swapaxes": lambda F, x: F.swapaxes(x, ax, ax2),
        "take": lambda F, x: F.take(x, idx, axis=ax),
        "diff": lambda F, x: F.diff(x, k % 2 + 1, axis=ax),
        "rot90": lambda F, x: F.rot90(x, k, axes=(0, -1)) if nd > 1 else F.flip(x),
        "diagonal": lambda F, x: F.diagonal(x, k - 1, 0, -1) if nd > 1 else F.ravel(x),
        "tril": lambda F, x: F.tril(x, k - 2),
        "kron": lambda F, x: F.kron(x, np.arange(1.0, k + 2.0)),
        "split": lambda F, x: F.array_split(x, k + 1, axis=ax)[0],
    }
    name = draw(st.sampled_from(sorted(cases)))
    return name, shape, cases[name]


@hypothesis.settings(max_examples=int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", 40)),
                     deadline=None, derandomize=True)
@hypothesis.given(_assembly_call(), st.integers(0, 2 ** 31 - 1))
def test_fuzz_against_numpy_and_differences(call, seed):
    """Values equal NumPy's; grad and jvp agree with central differences (first order)."""
    name, shape, case = call
    x = np.random.default_rng(seed).standard_normal(shape)
    try:
        expected = case(np, x)
    except ValueError:  # an argument pattern NumPy refuses (reflect of a length-1 axis...)
        with pytest.raises(ValueError):
            case(C, cr.tensor(x))
        return
    got = case(C, cr.tensor(x))
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.asarray(got), expected)
    if expected.size:
        check(lambda x: case(C, x), x, order=1, seed=seed)


def test_numpy_dispatch_and_namespace_reach_these():
    """np.f(t) (NumPy's own function on a Tensor) and chainrule.numpy.f are these rules."""
    cnp = pytest.importorskip("chainrule.numpy")
    x = arr(3, 3)
    for f in (lambda F, x: F.sum(F.sort(x, axis=0) * F.tril(x)),
              lambda F, x: F.sum(F.pad(x, 1, mode="reflect") ** 2),
              lambda F, x: F.sum(F.kron(x, F.flip(x)) * F.linspace(x[0, 0], x[1, 1], 9))):
        expected = cr.grad(lambda x: f(cnp, x))(x)
        np.testing.assert_allclose(cr.grad(lambda x: f(np, x))(x), expected, rtol=1e-13)
        check(lambda x: f(np, x), x, order=1)
