"""A walk over the whole NumPy dispatch table (ops/dispatch.py and ops/catalogue.IMPLS).

Through NumPy's own functions called on Tensors (``numpy.f(t)``: ``__array_ufunc__`` /
``__array_function__``):

- every function declared without a derivative really has none: its output is piecewise
  constant (central differences at random points give 0) and the result carries no gradient;
- every function declared differentiable matches central differences of NumPy's function
  at a random point.

Arguments are found by trying a few generic patterns (a matrix, two matrices, a vector, a
list of matrices...) plus a table of the functions that need more (an index, a count...):
the first pattern NumPy accepts with a float result is used. Functions no pattern fits are
listed in ``UNCHECKED`` with the reason; the test fails if a new one appears unexplained.
"""
import warnings

import numpy
import pytest

import chainrule as cr
from chainrule.ops import catalogue, dispatch, npextra
from chainrule.primitive import ConstantPrimitive
from chainrule.tensor import Tensor
from fd import numeric_grad

RNG = numpy.random.default_rng(7)
_M = RNG.uniform(0.2, 0.8, (3, 3))
A = _M @ _M.T + numpy.eye(3)          # symmetric positive definite, distinct entries
B = RNG.uniform(0.2, 0.8, (3, 3))
V = RNG.uniform(0.2, 0.8, (3,))
I3 = numpy.array([2, 0, 1])

# The functions that need particular arguments: npfun -> list of positional args (the
# first float array among them is the one differentiated).
SPECIAL = {
    numpy.take: [V, I3], numpy.take_along_axis: [A, numpy.argsort(A, 1), 1],
    numpy.repeat: [V, 2], numpy.tile: [V, 2], numpy.pad: [A, 1], numpy.split: [V, 3],
    numpy.array_split: [V, 2], numpy.hsplit: [A, 3], numpy.vsplit: [A, 3],
    numpy.dsplit: [A.reshape(3, 1, 3), 3], numpy.full: [(2, 2), 0.7],
    numpy.full_like: [A, 0.7], numpy.linspace: [0.3, 1.7, 5],
    numpy.einsum: ["ij,jk->ik", A, B], numpy.tensordot: [A, B, 1],
    numpy.moveaxis: [A, 0, 1], numpy.rollaxis: [A, 1], numpy.swapaxes: [A, 0, 1],
    numpy.roll: [V, 1], numpy.quantile: [V, 0.3],
    numpy.percentile: [V, 30.0], numpy.select: [[A > 1], [A]],
    numpy.linalg.matrix_power: [A, 2], numpy.append: [V, V], numpy.expand_dims: [V, 0],
    numpy.reshape: [A, (9,)], numpy.broadcast_to: [V, (2, 3)], numpy.where: [A > 1, A, B],
    numpy.clip: [A, 0.9, 1.5], numpy.linalg.tensorsolve: [A, V], numpy.ldexp: [V, 2],
    numpy.searchsorted: [numpy.sort(V), V], numpy.digitize: [V, numpy.sort(V)],
    numpy.isin: [V, V], numpy.lexsort: [A], numpy.histogram_bin_edges: [V],
    numpy.unravel_index: [I3, (3, 3)], numpy.ravel_multi_index: [[I3, I3], (3, 3)],
    numpy.tril_indices_from: [A], numpy.triu_indices_from: [A], numpy.diag_indices_from: [A],
    numpy.heaviside: [V - 0.5, V], numpy.copysign: [V, V - 0.5],
    numpy.fft.fftfreq: [4, 0.3], numpy.fft.rfftfreq: [4, 0.3],
    # order statistics at distinct values (A is symmetric: ties)
    numpy.median: [V], numpy.nanmedian: [V], numpy.nanpercentile: [V, 30.0],
    numpy.nanquantile: [V, 0.3], numpy.sort: [V], numpy.partition: [V, 1], numpy.argpartition: [V, 1],
    numpy.linalg.multi_dot: [[A, B, A]], numpy.can_cast: [V, numpy.float32],
    numpy.promote_types: [numpy.float32, numpy.float64],
    numpy.busday_count: ["2011-01", "2011-02"], numpy.busday_offset: ["2011-03", 1],
    numpy.datetime_as_string: [numpy.array(["2011-01-01"], dtype="datetime64[D]")],
    numpy.datetime_data: [numpy.dtype("datetime64[D]")], numpy.einsum_path: ["ij,jk", A, B],
    numpy.isdtype: [numpy.float64, "real floating"],
    numpy.issubdtype: [numpy.float64, numpy.floating], numpy.typename: ["d"],
    numpy.unpackbits: [numpy.array([3], dtype=numpy.uint8)],
    numpy.interp: [V, numpy.array([0.0, 0.5, 1.0]), V], numpy.compress: [[True, False, True], A],
    numpy.extract: [A > 1, A], numpy.delete: [V, 1], numpy.polyval: [V, B],

}

SPECIAL.update({
    numpy.apply_along_axis: [lambda r: r * r, 1, A], numpy.apply_over_axes: [numpy.sum, A, [0]],
    numpy.choose: [numpy.array([0, 1, 0]), [V, V[::-1] + 1]], numpy.insert: [V, 1, 0.5],
    numpy.resize: [V, (2, 4)], numpy.piecewise: [V, [V > 0.5], [lambda t: t * t]],
    numpy.poly: [V], numpy.polyadd: [V, B[0, :2]], numpy.polysub: [V, B[0, :2]],
    numpy.polymul: [V, B[0, :2]], numpy.polyder: [V], numpy.polyint: [V],
    numpy.arange: [0.55, 3.0, 0.7],
})


def _dispatched(f):
    """Whether NumPy hands a call of f on a Tensor to __array_function__/__array_ufunc__
    (np.full and np.asarray_chkfinite do not: they are called through chainrule.numpy)."""
    return isinstance(f, numpy.ufunc) or hasattr(f, "_implementation")

# Generic patterns, tried in order.
PATTERNS = [[A], [A, B], [V], [V, V], [[A, B]], [A, B, A]]
# Integer-only patterns for functions without a derivative (indices, bit operations...).
INT_PATTERNS = [[I3], [I3, I3], [3], [(2, 3)], [3, numpy.triu], [V, 1]]

# Ufunc arguments per input count, inside every domain (arccosh needs > 1: a separate one).
UFUNC_ARGS = {1: [V], 2: [V, V[::-1] + 0.1], 3: [V, V, V]}
UFUNC_SPECIAL = {numpy.matvec: [A, V], numpy.vecmat: [V, A], numpy.arccosh: [V + 1.0], numpy.ldexp: [V, I3], numpy.heaviside:
                 [V - 0.5, V], numpy.copysign: [V, V - 0.5]}

# Declared functions no pattern fits (or whose check needs more than this generic walk).
UNCHECKED = {
    "fftfreq": "takes a length and a spacing only (no array)",
    "rfftfreq": "takes a length and a spacing only (no array)",
    "tensorinv": "needs an ind= with a shape that splits in two square halves",
    "isnat": "defined on datetime64 and timedelta64 values only",
}


def _is_float(a):
    return isinstance(a, numpy.ndarray) and a.dtype.kind == "f" or type(a) is float


def _float_index(args):
    """Where the differentiated argument is: k, or (k, j) for entry j of a list argument."""
    for k, a in enumerate(args):
        if _is_float(a):
            return k
    for k, a in enumerate(args):
        if isinstance(a, list):
            for j, e in enumerate(a):
                if _is_float(e):
                    return (k, j)
    return None


def _copied(args):
    return [numpy.array(a) if isinstance(a, numpy.ndarray) else
            [numpy.array(e) if isinstance(e, numpy.ndarray) else e for e in a]
            if isinstance(a, list) else a for a in args]


def _fits(npfun, args, any_output):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = npfun(*_copied(args))  # a copy: some of NumPy's functions write to bad args
    except Exception:
        return False
    if any_output:
        return True
    leaves = out if isinstance(out, (tuple, list)) else [out]
    return all(numpy.asarray(o).dtype.kind in "fcbiu" for o in leaves) and \
        _float_index(args) is not None


def _args_for(npfun, declared):
    if isinstance(npfun, numpy.ufunc):
        cands = [UFUNC_SPECIAL.get(npfun, UFUNC_ARGS.get(npfun.nin))]
    else:
        cands = ([SPECIAL[npfun]] if npfun in SPECIAL else []) + PATTERNS
    if declared == "no derivative":
        cands = cands + INT_PATTERNS
    for args in cands:
        if args is not None and _fits(npfun, args, declared == "no derivative"):
            return _copied(args)
    return None


def _with(args, k, x):
    """args with the differentiated argument (position k) replaced by x."""
    args = list(args)
    if isinstance(k, tuple):
        k, j = k
        args[k] = [x if i == j else e for i, e in enumerate(args[k])]
    else:
        args[k] = x
    return args


def _at(args, k):
    return args[k[0]][k[1]] if isinstance(k, tuple) else args[k]


def _weights(out, seed=0):
    rng = numpy.random.default_rng(seed)
    leaves = out if isinstance(out, (tuple, list)) else [out]
    return [rng.standard_normal(numpy.shape(o)) if isinstance(o, (numpy.ndarray, numpy.generic,
                                                                  float)) else None
            for o in leaves]


def _scalar(out, ws):
    """sum_k <real(out_k), w_k>, for plain values or Tensors (through NumPy's dispatch)."""
    leaves = out if isinstance(out, (tuple, list)) else [out]
    total = 0.0
    for o, w in zip(leaves, ws):
        if w is None or type(o) is not Tensor and numpy.asarray(o).dtype.kind not in "fc":
            continue
        if numpy.iscomplexobj(o.value if type(o) is Tensor else o):
            o = numpy.real(o)
        total = total + numpy.sum(o * w)
    return total


def _entries():
    table = {}
    for f in list(dispatch.UFUNCS) + list(dispatch.FUNCTIONS) + list(catalogue.IMPLS) + \
            list(npextra.NUMPY_IMPLS):
        table[f] = "differentiable"
    for f in dispatch.NO_DERIVATIVE:
        table[f] = "no derivative"
    for f, impl in list(dispatch.UFUNCS.items()) + list(catalogue.IMPLS.items()):
        if isinstance(impl, ConstantPrimitive):
            table[f] = "no derivative"
    return sorted(table.items(), key=lambda kv: (kv[0].__module__ or "", kv[0].__name__))


ENTRIES = _entries()


def _name(f):
    mod = (getattr(f, "__module__", None) or "numpy").replace("numpy", "np", 1)
    sub = next((s for s in ("linalg", "fft") if s in mod), None)
    return f"np.{sub + '.' if sub else ''}{f.__name__}"


@pytest.mark.parametrize("npfun,declared", ENTRIES, ids=[_name(f) for f, _ in ENTRIES])
def test_declared_derivative_matches_numpy(npfun, declared):
    args = _args_for(npfun, declared)
    if args is None:
        assert npfun.__name__ in UNCHECKED, (
            f"{_name(npfun)}: no argument pattern fits; add one to SPECIAL or explain it in "
            f"UNCHECKED")
        pytest.skip(UNCHECKED[npfun.__name__])
    k = _float_index(args)
    if k is None:
        assert declared == "no derivative"
        return  # integers, shapes or dtypes only: nothing to differentiate
    ws = _weights(npfun(*_copied(args)))

    def F_values(x):
        return float(_scalar(npfun(*_with(args, k, x)), ws))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's own warnings at the probe points
        num = numeric_grad(F_values, [numpy.array(_at(args, k), dtype=float)], 0)
    if declared == "no derivative":
        # piecewise constant: no change under a small move at this random point
        numpy.testing.assert_array_equal(num, 0.0, err_msg=_name(npfun))
        t = cr.tensor(_at(args, k), requires_grad=True)
        out = npfun(*_with(args, k, t))
        leaves = out if isinstance(out, (tuple, list)) else [out]
        assert not any(type(o) is Tensor and o.requires_grad for o in leaves), _name(npfun)
        return
    fun = npfun if _dispatched(npfun) else _ours(npfun)

    def F(x):
        return _scalar(fun(*_with(args, k, x)), ws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "does not depend on the input"
        g = cr.grad(F)(numpy.asarray(_at(args, k), dtype=float))
    numpy.testing.assert_allclose(numpy.real(g), num.reshape(numpy.shape(g)), rtol=1e-5,
                                  atol=1e-6, err_msg=_name(npfun))


def _ours(npfun):
    import chainrule.numpy as cnp
    obj = cnp
    for part in _name(npfun).split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def test_the_walk_covers_the_table():
    assert len(ENTRIES) > 150
    declared = {f for f, _ in ENTRIES}
    assert numpy.copy in declared and numpy.tan in declared and numpy.argmax in declared
    assert dict(ENTRIES)[numpy.copy] == "differentiable"
