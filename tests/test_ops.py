"""One systematic derivative test per primitive, over scalar, vector and matrix shapes.

Every operation in ``cr.ops.__all__`` has cases below (``test_every_op_has_cases``
keeps it that way). For each case:

- forward: the value equals NumPy's, on plain arrays, on Tensors and inside a
  transform, with NumPy's shape and dtype;
- first order: ``cr.grad`` of sum(f * random cotangent) against float64
  central differences, for every differentiable input;
- forward mode: ``cr.jacfwd`` equals ``cr.jacobian`` (to 1e-10), and ``cr.jvp``
  with random tangents equals J t;
- second order: reverse over reverse (``cr.grad`` of <grad, w>, ``cr.hessian``) against
  central differences of the gradient, and forward over reverse (``jacfwd`` of ``grad``)
  and forward over forward (``jacfwd`` of ``jacfwd``) equal to it.

Inputs are kept away from kinks (relu/abs at 0, ties in max/maximum, clip's
bounds) so that finite differences are meaningful; the conventions *at* the
kinks are tested in test_conventions.py.
"""
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.primitive import ConstantPrimitive
from fd import assert_close, check_grads, contract, numeric_grad, numeric_jacobian, random_like


# ----- input generators ------------------------------------------------------------
def normal(shape):
    return lambda rng: rng.standard_normal(shape)


def positive(shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def away(shape, lo=0.3):
    """Entries with |x| >= lo: away from the kink of relu/abs at 0."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, 1.5, shape)


def distinct(shape):
    """Entries at least 0.1 apart: no ties in max/min."""
    def gen(rng):
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(0, 0.01)).reshape(shape)
    return gen


def apart(shape_x, shape_y, gap=0.05):
    """Two normal arrays whose broadcast entries differ by at least ``gap`` (no ties)."""
    def gen(rng):
        while True:
            x, y = rng.standard_normal(shape_x), rng.standard_normal(shape_y)
            if np.min(np.abs(x - y)) >= gap:
                return [x, y]
    return gen


def off_bounds(shape, bounds, gap=0.05):
    """Normal entries at least ``gap`` away from each clip bound."""
    def gen(rng):
        x = rng.standard_normal(shape)
        for b in bounds:
            x = np.where(np.abs(x - b) < gap, x + 3 * gap, x)
        return x
    return gen


# ----- the case table ------------------------------------------------------------
class Case:
    """One op applied to one set of input shapes.

    Args:
        op: the name in cr.ops.__all__ this case tests.
        desc: what is special about it (shapes, axis...).
        fn: chainrule function of the differentiable inputs (constants in the closure).
        ref: the NumPy function it must agree with.
        gens: one generator per input (or one generator returning the list of inputs).
        recorded: the op name the output vertex must carry (None: don't check).
    """

    def __init__(self, op, desc, fn, ref, gens, recorded="op"):
        self.op, self.desc, self.fn, self.ref = op, desc, fn, ref
        self.gens = gens
        self.recorded = op if recorded == "op" else recorded
        self.id = f"{op}-{desc}"

    def inputs(self):
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        if callable(self.gens):
            return [np.asarray(a, dtype=np.float64) for a in self.gens(rng)]
        return [np.asarray(g(rng), dtype=np.float64) for g in self.gens]

    def rng(self):
        return np.random.default_rng(zlib.crc32(self.id.encode()) + 1)


CASES = []


def case(*a, **k):
    CASES.append(Case(*a, **k))


UNARY_SHAPES = [(), (3,), (2, 3), (2, 1, 3)]
BINARY_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((3, 1), (4,)), ((), (2, 3)),
                 ((2, 3), ()), ((2, 1, 4), (3, 1)), ((1, 3), (2, 1))]


def sid(shape):
    return "x".join(map(str, shape)) or "scalar"


# elementwise, two inputs, broadcasting
for sx, sy in BINARY_SHAPES:
    d = f"{sid(sx)}_{sid(sy)}"
    case("add", d, cr.add, np.add, [normal(sx), normal(sy)])
    case("subtract", d, cr.subtract, np.subtract, [normal(sx), normal(sy)])
    case("multiply", d, cr.multiply, np.multiply, [normal(sx), normal(sy)])
    case("divide", d, cr.divide, np.divide, [normal(sx), away(sy)])
    case("power", d, cr.power, np.power, [positive(sx), normal(sy)])
    case("maximum", d, cr.maximum, np.maximum, apart(sx, sy))
    case("minimum", d, cr.minimum, np.minimum, apart(sx, sy))

# elementwise, one input
UNARY = [
    ("negative", cr.negative, np.negative, normal),
    ("exp", cr.exp, np.exp, normal),
    ("log", cr.log, np.log, positive),
    ("sqrt", cr.sqrt, np.sqrt, positive),
    ("square", cr.square, np.square, normal),
    ("abs", cr.abs, np.abs, away),
    ("sin", cr.sin, np.sin, normal),
    ("cos", cr.cos, np.cos, normal),
    ("tanh", cr.tanh, np.tanh, normal),
    ("sigmoid", cr.sigmoid, lambda x: 1 / (1 + np.exp(-x)), normal),
    ("relu", cr.relu, lambda x: np.maximum(x, 0), away),
]
for name, fn, ref, gen in UNARY:
    for s in UNARY_SHAPES:
        case(name, sid(s), fn, ref, [gen(s)])
case("sigmoid", "large", cr.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
     [lambda rng: np.array([-30.0, -8.0, 8.0, 30.0])])
case("tanh", "large", cr.tanh, np.tanh, [lambda rng: np.array([-4.0, 4.0, 9.0])])

# power with a constant exponent (the exponent is not an input)
for d, e, gen in [("int3", 3, normal((2, 3))), ("float2.5", 2.5, positive((3,))),
                  ("zero", 0.0, normal((3,))), ("minus1", -1, away((2, 2))),
                  ("half", 0.5, positive(())),
                  ("array_exponent", np.array([0.0, 1.0, 2.0]), normal((2, 3)))]:
    case("power", "const_" + d, lambda x, e=e: cr.power(x, e), lambda x, e=e: np.power(x, e),
         [gen])
case("power", "const_base", lambda y: cr.power(2.5, y), lambda y: np.power(2.5, y),
     [normal((2, 3))])

# where: the condition is a constant
C23 = np.array([[True, False, True], [False, False, True]])
C31 = np.array([[True], [False], [True]])
for d, cond, sx, sy in [("2x3_2x3_2x3", C23, (2, 3), (2, 3)), ("2x3_3_scalar", C23, (3,), ()),
                        ("3x1_4_3x4", C31, (4,), (3, 4)), ("2x3_scalar_2x1", C23, (), (2, 1))]:
    case("where", d, lambda x, y, c=cond: cr.where(c, x, y),
         lambda x, y, c=cond: np.where(c, x, y), [normal(sx), normal(sy)])

# clip, with constant bounds and with bounds as inputs
case("clip", "both", lambda x: cr.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
     [off_bounds((3, 4), (-0.5, 0.5))])
case("clip", "upper_only", lambda x: cr.clip(x, None, 0.3), lambda x: np.clip(x, None, 0.3),
     [off_bounds((5,), (0.3,))])
case("clip", "lower_only", lambda x: cr.clip(x, -0.2, None), lambda x: np.clip(x, -0.2, None),
     [off_bounds((5,), (-0.2,))])
case("clip", "scalar", lambda x: cr.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
     [lambda rng: np.array(0.1)])


def _clip_inputs(rng):
    lo = rng.uniform(-1.0, -0.2, (3,))
    hi = np.array(0.4)
    x = rng.uniform(-2, 2, (4, 3))
    x = np.where(np.abs(x - lo) < 0.05, x + 0.15, x)
    x = np.where(np.abs(x - hi) < 0.05, x + 0.15, x)
    return [x, lo, hi]


case("clip", "array_bounds_as_inputs", cr.clip, np.clip, _clip_inputs)

# matmul: 1-D, 2-D, batched, broadcast batch
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)),
                 ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((1, 2, 3), (3, 2))]
for sa, sb in MATMUL_SHAPES:
    case("matmul", f"{sid(sa)}_{sid(sb)}", cr.matmul, np.matmul, [normal(sa), normal(sb)])
for sa, sb in [((), (3,)), ((2, 3), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
               ((2, 3), (3, 4))]:
    case("dot", f"{sid(sa)}_{sid(sb)}", cr.dot, np.dot, [normal(sa), normal(sb)],
         recorded=None)

# reductions with axis / keepdims
REDUCTIONS = [((), None, False), ((4,), None, False), ((4,), 0, True), ((2, 3), None, True),
              ((2, 3), 0, False), ((2, 3), 1, True), ((2, 3), -1, False),
              ((2, 3, 4), (0, 2), False), ((2, 3, 4), (0, 2), True), ((2, 3, 4), 1, False),
              ((2, 3, 4), (-1, -2), True)]


def _np_logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


for s, ax, kd in REDUCTIONS:
    d = f"{sid(s)}_axis{ax}_keepdims{kd}".replace(" ", "")
    for name, fn, ref, gen in [("sum", cr.sum, np.sum, normal), ("mean", cr.mean, np.mean, normal),
                               ("max", cr.max, np.max, distinct),
                               ("min", cr.min, np.min, distinct),
                               ("logsumexp", cr.logsumexp, _np_logsumexp, normal)]:
        case(name, d, lambda x, fn=fn, ax=ax, kd=kd: fn(x, ax, keepdims=kd),
             lambda x, ref=ref, ax=ax, kd=kd: ref(x, axis=ax, keepdims=kd), [gen(s)])


# softmax, log_softmax along an axis
def _np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


for s, ax in [((3,), -1), ((2, 3), -1), ((2, 3), 0), ((2, 3, 4), 1), ((1, 4), -1)]:
    d = f"{sid(s)}_axis{ax}"
    case("softmax", d, lambda x, ax=ax: cr.softmax(x, axis=ax),
         lambda x, ax=ax: _np_softmax(x, ax), [normal(s)])
    case("log_softmax", d, lambda x, ax=ax: cr.log_softmax(x, axis=ax),
         lambda x, ax=ax: np.log(_np_softmax(x, ax)), [normal(s)])

# shape operations
for s, new in [((2, 3), (3, 2)), ((6,), (2, -1)), ((), (1, 1)), ((2, 3, 4), (4, 6)),
               ((1, 4), (4,))]:
    case("reshape", f"{sid(s)}_to_{new}".replace(" ", ""),
         lambda x, new=new: cr.reshape(x, new), lambda x, new=new: np.reshape(x, new),
         [normal(s)])
for s, axes in [((2, 3), None), ((2, 3, 4), (1, 0, 2)), ((2, 3, 4), (2, 0, 1)), ((3,), None),
                ((2, 3, 4), None)]:
    case("transpose", f"{sid(s)}_{axes}".replace(" ", ""),
         lambda x, axes=axes: cr.transpose(x, axes), lambda x, axes=axes: np.transpose(x, axes),
         [normal(s)])
for s, ax in [((3,), 0), ((2, 3), -1), ((), 0), ((2, 3), 1)]:
    case("expand_dims", f"{sid(s)}_axis{ax}", lambda x, ax=ax: cr.expand_dims(x, ax),
         lambda x, ax=ax: np.expand_dims(x, ax), [normal(s)])
for s, ax in [((1, 3, 1), None), ((1, 3, 1), 0), ((2, 1), -1), ((1, 1), None)]:
    case("squeeze", f"{sid(s)}_axis{ax}", lambda x, ax=ax: cr.squeeze(x, ax),
         lambda x, ax=ax: np.squeeze(x, ax), [normal(s)])
for s, new in [((3,), (2, 3)), ((3, 1), (3, 4)), ((), (2, 2)), ((1, 3), (2, 2, 3)),
               ((2, 3), (2, 3))]:
    case("broadcast_to", f"{sid(s)}_to_{sid(new)}",
         lambda x, new=new: cr.broadcast_to(x, new),
         lambda x, new=new: np.broadcast_to(x, new), [normal(s)])
for shapes, ax in [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1)], 1),
                   ([(2, 1), (2, 2), (2, 3)], -1), ([(3,), (2,)], 0),
                   ([(2, 2, 1), (2, 2, 3)], 2)]:
    case("concatenate", "_".join(map(sid, shapes)) + f"_axis{ax}",
         lambda *xs, ax=ax: cr.concatenate(list(xs), axis=ax),
         lambda *xs, ax=ax: np.concatenate(xs, axis=ax), [normal(s) for s in shapes])
for shapes, ax in [([(3,), (3,)], 0), ([(2, 3)] * 3, 1), ([(2, 3)] * 2, -1),
                   ([(), ()], 0), ([(2, 3)] * 2, 0)]:
    case("stack", f"{len(shapes)}x{sid(shapes[0])}_axis{ax}",
         lambda *xs, ax=ax: cr.stack(list(xs), axis=ax),
         lambda *xs, ax=ax: np.stack(xs, axis=ax), [normal(s) for s in shapes])

# indexing: slices, integers, integer arrays (with repeats), boolean masks
MASK34 = np.array([[True, False, True, True], [False, False, False, True],
                   [True, True, False, False]])
GETITEM = [
    ("slice", (4,), np.s_[1:]),
    ("reverse", (5,), np.s_[::-1]),
    ("step_and_int", (4, 3), np.s_[::2, 1]),
    ("int", (3, 4), 1),
    ("two_ints_negative", (3, 4), (-1, -2)),
    ("ellipsis_newaxis", (2, 3), np.s_[..., None]),
    ("newaxis_slice", (3, 4), np.s_[None, :, 1:]),
    ("int_array_repeats", (4,), np.array([0, 2, 0, 0])),
    ("int_array_negative", (4,), np.array([-1, 0, -1])),
    ("int_array_2d", (3,), np.array([[0, 1], [1, 1]])),
    ("int_array_pairs_repeats", (3, 4), (np.array([0, 2, 0]), np.array([1, 1, 1]))),
    ("int_array_then_slice", (3, 4), (np.array([0, 0, 2]), np.s_[1:])),
    ("slice_then_list", (3, 4), (slice(None), [2, 0, 2])),
    ("bool_mask_full", (3, 4), MASK34),
    ("bool_mask_rows", (3, 4), np.array([True, False, True])),
    ("slice_then_bool_mask", (3, 4), (slice(1, None), np.array([True, False, False, True]))),
    ("bool_mask_3d_leading", (2, 3, 2), np.array([[True, False, True], [False, True, True]])),
    ("zero_d_int_array", (3, 4), np.array(2)),
]
for d, s, idx in GETITEM:
    case("getitem", d, lambda x, idx=idx: cr.getitem(x, idx), lambda x, idx=idx: x[idx],
         [normal(s)])

# index_add (the scatter that indexing's VJP uses): linear in its first input
for d, shape, idx, gshape in [("int_array_repeats", (4,), (np.array([0, 2, 0]),), (3,)),
                              ("slice", (4, 3), (slice(1, 3),), (2, 3)),
                              ("pairs", (3, 4), (np.array([0, 0, 2]), np.array([1, 1, 3])),
                               (3,))]:
    def _np_index_add(g, idx=idx, shape=shape):
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, idx, g)
        return out
    case("index_add", d, lambda g, idx=idx, shape=shape: cr.index_add(g, idx, shape),
         _np_index_add, [normal(gshape)])

# Python operators and methods on Tensors (numpy arrays take the same syntax, so the
# finite differences and the NumPy reference use the very same function).
OPERATORS = [
    ("add", "operator+", lambda x, y: x + y, [normal((2, 3)), normal((3,))]),
    ("add", "operator_radd_const", lambda x: 1.5 + x, [normal((3,))]),
    ("subtract", "operator-", lambda x, y: x - y, [normal((3, 1)), normal((4,))]),
    ("subtract", "operator_rsub_const", lambda x: 2.0 - x, [normal((3,))]),
    ("multiply", "operator*", lambda x, y: x * y, [normal(()), normal((2, 3))]),
    ("multiply", "operator_rmul_array", lambda x: np.arange(3.0) * x, [normal((2, 3))]),
    ("divide", "operator/", lambda x, y: x / y, [normal((2, 3)), away((3,))]),
    ("divide", "operator_rtruediv_const", lambda x: 1.0 / x, [away((3,))]),
    ("negative", "operator_neg", lambda x: -x, [normal((2, 3))]),
    ("power", "operator**2", lambda x: x ** 2, [normal((3,))]),
    ("power", "operator**tensor", lambda x, y: x ** y, [positive((3,)), normal((3,))]),
    ("power", "operator_rpow", lambda y: 2.0 ** y, [normal((3,))]),
    ("matmul", "operator@", lambda a, b: a @ b, [normal((2, 3)), normal((3, 2))]),
    ("abs", "operator_abs", lambda x: abs(x), [away((4,))]),
    ("transpose", "property_T", lambda x: x.T, [normal((2, 3))]),
    ("getitem", "operator[]_mixed", lambda x: x[np.array([1, 1, 0]), ::-1], [normal((2, 3))]),
    ("getitem", "operator[]_mask", lambda x: x[np.array([True, False, True])], [normal((3,))]),
    ("sum", "method_sum_axis", lambda x: x.sum(axis=0, keepdims=True), [normal((2, 3))]),
    ("mean", "method_mean", lambda x: x.mean(axis=1), [normal((2, 3))]),
    ("max", "method_max", lambda x: x.max(axis=1), [distinct((2, 3))]),
    ("min", "method_min", lambda x: x.min(), [distinct((2, 3))]),
    ("reshape", "method_reshape", lambda x: x.reshape(3, 2), [normal((2, 3))]),
    ("transpose", "method_transpose", lambda x: x.transpose(1, 0, 2), [normal((2, 3, 2))]),
]
for op, d, fn, gens in OPERATORS:
    case(op, d, fn, fn, gens)

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case ids"


@pytest.fixture(params=CASES, ids=CASE_IDS)
def c(request):
    return request.param


# ----- the tests ------------------------------------------------------------------
def test_every_op_has_cases():
    covered = {c.op for c in CASES}
    # comparisons and masks have no derivative (ConstantPrimitive): tests/test_jit.py
    differentiable = {n for n in cr.ops.__all__
                      if not isinstance(getattr(cr.ops, n), ConstantPrimitive)}
    missing = differentiable - covered
    assert not missing, f"ops without a derivative test: {sorted(missing)}"
    assert covered <= differentiable


def test_forward_matches_numpy(c):
    args = c.inputs()
    expected = np.asarray(c.ref(*args))
    # plain NumPy in: the op just computes
    plain = np.asarray(c.fn(*args))
    # Tensors in: a recorded vertex with the same value
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    out = c.fn(*ts)
    assert isinstance(out, cr.Tensor)
    if c.recorded is not None:
        assert out.op.name == c.recorded
    # inside a transform
    traced, _ = cr.vjp(c.fn, *args)
    for got, where in [(plain, "plain"), (np.asarray(out), "tensor"), (traced, "transform")]:
        assert got.shape == expected.shape, where
        assert got.dtype == expected.dtype, where
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=where)


def test_grad_matches_finite_differences(c):
    args = c.inputs()
    check_grads(c.fn, args, range(len(args)), c.rng())


def test_jacfwd_matches_jacobian(c):
    args = c.inputs()
    for i in range(len(args)):
        J_rev = cr.jacobian(c.fn, argnums=i)(*args)
        J_fwd = cr.jacfwd(c.fn, argnums=i)(*args)
        out_shape = np.shape(c.ref(*args))
        assert J_rev.shape == out_shape + args[i].shape
        assert J_fwd.shape == J_rev.shape
        np.testing.assert_allclose(J_fwd, J_rev, rtol=1e-10, atol=1e-10)
        assert_close(J_rev, numeric_jacobian(c.fn, args, i), what=f"jacobian of input {i}")


def test_jvp_matches_vjp(c):
    """<cotangent, J t> computed forward (jvp) equals <J^T cotangent, t> computed backward."""
    args = c.inputs()
    rng = c.rng()
    tangents = [random_like(rng, a.shape) for a in args]
    out, t_out = cr.jvp(c.fn, args, tangents)
    np.testing.assert_allclose(out, c.ref(*args), rtol=1e-12, atol=1e-15)
    assert t_out.shape == out.shape
    ct = random_like(rng, out.shape)
    out2, vjp_fn = cr.vjp(c.fn, *args)
    grads = vjp_fn(ct)
    assert len(grads) == len(args)
    forward = np.sum(ct * t_out)
    backward = sum(np.sum(g * t) for g, t in zip(grads, tangents))
    np.testing.assert_allclose(forward, backward, rtol=1e-10, atol=1e-10)
    # and J t against a finite-difference directional derivative
    h = 1e-6
    plus = np.asarray(c.fn(*[a + h * t for a, t in zip(args, tangents)]))
    minus = np.asarray(c.fn(*[a - h * t for a, t in zip(args, tangents)]))
    assert_close(t_out, (plus - minus) / (2 * h), what="jvp")


# a linear op's gradient does not depend on its input: grad of <grad, w> warns so
@pytest.mark.filterwarnings("ignore:grad. the output")
def test_second_derivatives(c):
    """Hessian blocks H_ji w (reverse over reverse), H_ii (cr.hessian), and H_ii again
    forward over reverse and forward over forward."""
    args = c.inputs()
    rng = c.rng()
    F = contract(c.fn, random_like(rng, np.shape(c.ref(*args))))
    n = len(args)
    for i in range(n):
        w = random_like(rng, args[i].shape)
        grad_i = cr.grad(F, argnums=i)

        def G(*a, grad_i=grad_i, w=w):
            return cr.sum(cr.multiply(grad_i(*a), w))

        rr = cr.grad(G, argnums=tuple(range(n)))(*args)
        for j in range(n):
            num = numeric_grad(lambda *a: np.sum(grad_i(*a) * w), args, j)
            assert_close(rr[j], num, what=f"d/d input {j} of <d/d input {i}, w>")
        H = cr.hessian(F, argnums=i)(*args)
        assert H.shape == args[i].shape * 2
        assert_close(H, numeric_jacobian(grad_i, args, i), what=f"hessian of input {i}")
        # forward over reverse, and forward over forward: every JVP rule differentiated
        # again, by reverse mode and by forward mode
        Hfr = cr.jacfwd(grad_i, argnums=i)(*args)
        np.testing.assert_allclose(Hfr, H, rtol=1e-9, atol=1e-9,
                                   err_msg=f"forward-over-reverse hessian of input {i}")
        Hff = cr.jacfwd(cr.jacfwd(F, argnums=i), argnums=i)(*args)
        np.testing.assert_allclose(Hff, H, rtol=1e-9, atol=1e-9,
                                   err_msg=f"forward-over-forward hessian of input {i}")
