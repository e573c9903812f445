"""ops/npextra.py: NumPy functions composed from chainrule's operations (ediff1d,
convolve, correlate, interp, trapezoid, polyval, cov, corrcoef, meshgrid, unstack, delete,
compress, extract, vecdot/matvec/vecmat, matrix_transpose): NumPy's
values, and every derivative against central differences (tests/npcheck.py)."""
import numpy
import pytest

import chainrule as cr
import chainrule.numpy as np
from npcheck import check

R = numpy.random.default_rng(3)
V = R.standard_normal(5)
W = R.standard_normal(3)
M = R.standard_normal((3, 4))

CASES = [
    ("ediff1d", lambda a: np.ediff1d(a, to_begin=[1.0], to_end=a[:2]), [M],
     lambda a: numpy.ediff1d(a, to_begin=[1.0], to_end=a[:2])),
    ("trapezoid", lambda a: np.trapezoid(a, dx=0.3), [M], lambda a: numpy.trapezoid(a, dx=0.3)),
    ("trapezoid x", lambda a, x: np.trapezoid(a, x), [V, numpy.sort(V) * 2],
     lambda a, x: numpy.trapezoid(a, x)),
    ("polyval", lambda p, x: np.polyval(p, x), [W, V], lambda p, x: numpy.polyval(p, x)),
    ("cov", lambda a: np.cov(a), [M], lambda a: numpy.cov(a)),
    ("cov rowvar ddof", lambda a: np.cov(a, rowvar=False, ddof=0), [M],
     lambda a: numpy.cov(a, rowvar=False, ddof=0)),
    ("cov x, y", lambda a, b: np.cov(a, b), [V, V[::-1] * 2],
     lambda a, b: numpy.cov(a, b)),
    ("corrcoef", lambda a: np.corrcoef(a), [M], lambda a: numpy.corrcoef(a)),
    ("meshgrid", lambda a, b: np.stack(np.meshgrid(a, b)), [V, W],
     lambda a, b: numpy.stack(numpy.meshgrid(a, b))),
    ("meshgrid ij sparse", lambda a, b: np.meshgrid(a, b, indexing="ij", sparse=True)[1],
     [V, W], lambda a, b: numpy.meshgrid(a, b, indexing="ij", sparse=True)[1]),
    ("unstack", lambda a: np.unstack(a, axis=1)[2], [M], lambda a: numpy.unstack(a, axis=1)[2]),
    ("delete", lambda a: np.delete(a, [0, 2], axis=1), [M],
     lambda a: numpy.delete(a, [0, 2], axis=1)),
    ("compress", lambda a: np.compress([True, False, True], a, axis=0), [M],
     lambda a: numpy.compress([True, False, True], a, axis=0)),
    ("extract", lambda a: np.extract(M > 0, a), [M], lambda a: numpy.extract(M > 0, a)),
    ("matrix_transpose", lambda a: np.matrix_transpose(a), [M],
     lambda a: numpy.matrix_transpose(a)),
    ("vecdot", lambda a, b: numpy.vecdot(a, b), [M, M[::-1]], lambda a, b: numpy.vecdot(a, b)),
    ("matvec", lambda a, b: numpy.matvec(a, b), [M, V[:4]], lambda a, b: numpy.matvec(a, b)),
    ("vecmat", lambda a, b: numpy.vecmat(a, b), [W, M], lambda a, b: numpy.vecmat(a, b)),
]
for mode in ("full", "same", "valid"):
    for la, lv in ((5, 3), (3, 5), (4, 4)):
        CASES.append((f"convolve {mode} {la},{lv}",
                      lambda a, v, m=mode: np.convolve(a, v, m), [V[:la], R.standard_normal(lv)],
                      lambda a, v, m=mode: numpy.convolve(a, v, m)))
        CASES.append((f"correlate {mode} {la},{lv}",
                      lambda a, v, m=mode: np.correlate(a, v, m), [V[:la], R.standard_normal(lv)],
                      lambda a, v, m=mode: numpy.correlate(a, v, m)))


@pytest.mark.parametrize("name,f,args,ref", CASES, ids=[c[0] for c in CASES])
def test_values_and_derivatives(name, f, args, ref):
    numpy.testing.assert_allclose(numpy.asarray(f(*args)), ref(*args), rtol=1e-12, atol=1e-12)
    check(f, *args)


def test_interp():
    xp = numpy.array([0.0, 1.0, 2.5, 4.0])
    fp = numpy.array([1.0, -1.0, 2.0, 0.5])
    x = numpy.array([-0.5, 0.3, 1.7, 3.1, 4.5])
    numpy.testing.assert_allclose(np.interp(cr.tensor(x), xp, fp), numpy.interp(x, xp, fp))
    check(lambda a, b: np.interp(a, xp, b), x, fp)
    # the slope of the segment; 0 outside [xp[0], xp[-1]]
    g = cr.grad(lambda a: np.sum(np.interp(a, xp, fp)))(x)
    numpy.testing.assert_allclose(g, [0.0, -2.0, 2.0, -1.0, 0.0])
    numpy.testing.assert_allclose(np.interp(cr.tensor(x), xp, fp, left=9.0, right=-9.0),
                                  numpy.interp(x, xp, fp, left=9.0, right=-9.0))
    with pytest.raises(TypeError, match="no derivative in xp"):
        cr.grad(lambda q: np.sum(np.interp(x, q, fp)))(xp)


def test_through_numpy_dispatch():
    g = cr.grad(lambda a: numpy.sum(numpy.ediff1d(a) ** 2))(V)
    d = numpy.diff(V)
    numpy.testing.assert_allclose(g, numpy.concatenate([[0], 2 * d]) - numpy.concatenate(
        [2 * d, [0]]))
    assert numpy.convolve(cr.tensor(V, requires_grad=True), W).shape == (7,)


POLY = [
    ("polyadd", lambda a, b: np.polyadd(a, b), [V, W], numpy.polyadd),
    ("polysub", lambda a, b: np.polysub(W, a) + np.polysub(a, b)[:3].sum(), [V, W],
     lambda a, b: numpy.polysub(W, a) + numpy.polysub(a, b)[:3].sum()),
    ("polymul", lambda a, b: np.polymul(a, b), [V, W], numpy.polymul),
    ("polyder", lambda a: np.polyder(a, 2), [V], lambda a: numpy.polyder(a, 2)),
    ("polyint", lambda a, k: np.polyint(a, 2, k), [V, W[:2]], lambda a, k: numpy.polyint(a, 2, k)),
    ("poly", lambda r: np.poly(r), [W], numpy.poly),
    ("ix_", lambda a, b: np.ix_(a, b)[0] * np.ix_(a, b)[1], [V, W],
     lambda a, b: numpy.ix_(a, b)[0] * numpy.ix_(a, b)[1]),
    ("piecewise", lambda a: np.piecewise(a, [a < 0, a > 0.5], [np.sin, lambda t: t ** 2, 7.0]),
     [M], lambda a: numpy.piecewise(a, [a < 0, a > 0.5], [numpy.sin, lambda t: t ** 2, 7.0])),
    ("piecewise no otherwise", lambda a: np.piecewise(a, [a < 0], [np.exp]), [V],
     lambda a: numpy.piecewise(a, [a < 0], [numpy.exp])),
]


@pytest.mark.parametrize("name,f,args,ref", POLY, ids=[c[0] for c in POLY])
def test_polynomials_and_pieces(name, f, args, ref):
    numpy.testing.assert_allclose(numpy.asarray(f(*args)), ref(*args), rtol=1e-12, atol=1e-12)
    check(f, *args)


def test_piecewise_keeps_other_pieces_out_of_the_gradient():
    # log is only evaluated where x > 0: no nan from the other entries
    x = numpy.array([-1.0, 0.5, 2.0])
    g = cr.grad(lambda a: np.sum(np.piecewise(a, [a > 0], [np.log, lambda t: t])))(x)
    numpy.testing.assert_allclose(g, [1.0, 2.0, 0.5])
