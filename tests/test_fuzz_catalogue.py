"""Hypothesis fuzzing of the whole catalogue: chainrule.numpy and chainrule.scipy.special.

The functions are discovered at run time: every differentiable entry of
``chainrule.ops.catalogue.IMPLS`` (NumPy callable -> implementation), of
``chainrule.ops.npextra.NUMPY_IMPLS`` (compositions NumPy dispatches: convolve, interp,
cov, poly*...), of ``chainrule.scipy.special.__all__``, ``.linalg``, ``.signal`` and
``.integrate``, and every method (pdf, logcdf, ...) of each ``chainrule.scipy.stats``
distribution. Each has an argument generator in
tests/catalogue_cases.py (random shapes: 0-d, size-1 axes, broadcasting, axis and
keepdims variants, empty arrays where NumPy allows, complex where the function is
defined on it; values inside the domain and away from kinks and ties).
``test_every_function_has_a_case`` fails when a differentiable function has none (a new
function must join the fuzzer), unless ``EXCLUDED`` lists it with the reason.

For each drawn call, ``test_function``:

(a) the value equals NumPy's / SciPy's own function on the same arguments;
(b) ``cr.grad`` of a random contraction of the outputs equals central differences of
    the reference function (float64; complex inputs along both real directions,
    autograd's convention dF/dx - i dF/dy);
(c) ``cr.jvp`` equals the central directional difference;
(d) where PyTorch has the function (torch, torch.linalg, torch.fft, torch.special;
    float64/complex128), values and gradients equal torch's (its complex gradients are
    the conjugate of ours: chainrule follows HIPS autograd's convention);
(e) second order (real inputs, up to 10 entries): ``cr.hessian`` equals central
    differences of ``cr.grad``, and forward over reverse (``cr.jacfwd`` of ``cr.grad``)
    equals it.

``test_program`` chains 2-3 catalogue calls of one family (elementwise, reductions and
scans, linear algebra, fft) into a small random program, checked by (a)-(c) against the
same program run by NumPy.

Seeded and bounded: derandomize=True, no example database; CHAINRULE_FUZZ_EXAMPLES
examples per function (default 15: 25-60 s for the file on two cores, with load;
CHAINRULE_FUZZ_EXAMPLES=100 is the long run).
"""
import importlib
import os
import warnings

import numpy as np
import pytest
import scipy.special as ss
import scipy.stats
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.special as crs
import chainrule.scipy.stats as crst
from chainrule.numpy._namespace import kind
from chainrule.ops import npextra
from chainrule.ops.catalogue import IMPLS
from catalogue_cases import CASES, EXCLUDED, Case, Draw, binary, unary
from fd import numeric_grad, numeric_jacobian
from npcheck import _complex_grad

EXAMPLES = int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), print_blob=False,
                # no shrinking: a tracked (xfail) bug would be shrunk again on every run
                phases=(Phase.explicit, Phase.reuse, Phase.generate), report_multiple_bugs=False)
H = 1e-6
pytestmark = [pytest.mark.filterwarnings("ignore:.*does not depend on the differentiated"),
              pytest.mark.filterwarnings("ignore:.*row_stack. alias is deprecated"),
              pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors are deprecated")]


# ----- discovery --------------------------------------------------------------------------------

def label(key):
    if isinstance(key, str):
        return "scipy." + key if not key.startswith("mutant") else key
    m = "numpy" if isinstance(key, np.ufunc) else getattr(key, "__module__", None) or "numpy"
    mod = {"numpy": "np", "numpy.linalg": "np.linalg", "numpy.fft": "np.fft"}.get(m, m)
    return f"{mod}.{key.__name__}"


def discover():
    """{key: (chainrule implementation, reference)} of every differentiable catalogue function."""
    found = {}
    for npfun, impl in list(IMPLS.items()) + list(getattr(npextra, "NUMPY_IMPLS", {}).items()):
        if kind(impl) != "differentiable":
            continue
        name = getattr(npfun, "__name__", "")
        if isinstance(npfun, np.ufunc) and getattr(ss, name, None) is npfun:
            # SciPy's ufunc called on a Tensor dispatches here: fuzzed as special.<name>
            found.setdefault("special." + name, (impl, npfun))
        else:
            found[npfun] = (impl, npfun)
    for name in crs.__all__:
        obj = getattr(crs, name)
        if kind(obj) == "differentiable":
            found["special." + name] = (obj, getattr(ss, name))
    for sub in ("linalg", "signal", "integrate"):
        ours, theirs = importlib.import_module("chainrule.scipy." + sub), \
            importlib.import_module("scipy." + sub)
        for name in ours.__all__:
            if kind(getattr(ours, name)) == "differentiable":
                found[f"{sub}.{name}"] = (getattr(ours, name), getattr(theirs, name))
    for name in crst.__all__:  # each method of each distribution
        ours, theirs = getattr(crst, name), getattr(scipy.stats, name)
        for method in getattr(ours, "methods", ()):
            found[f"stats.{name}.{method}"] = (getattr(ours, method), getattr(theirs, method))
    return found


FOUND = discover()
KEYS = sorted(set(FOUND) | (set(CASES) - set(EXCLUDED)), key=label)


def fallback(key):
    """A generic case for a discovered function without a generator (its test still runs)."""
    ref = FOUND[key][1]
    if isinstance(ref, np.ufunc) and ref.nin == 1 or isinstance(key, str):
        return Case(unary((0.3, 0.9)))
    if isinstance(ref, np.ufunc) and ref.nin == 2:
        return Case(binary((0.3, 0.9), (1.2, 1.8)))
    return None


def test_every_function_has_a_case():
    missing = sorted(label(k) for k in FOUND if k not in CASES and k not in EXCLUDED)
    assert not missing, (
        "differentiable catalogue functions without a fuzz case: add a generator to "
        f"tests/catalogue_cases.py (or list them in EXCLUDED with the reason): {missing}")
    both = sorted(label(k) for k in set(CASES) & set(EXCLUDED))
    assert not both, f"both fuzzed and excluded: {both}"


def test_discovery_finds_the_catalogue():
    # the discovery is what the coverage test relies on: it must see the known families
    for f in (np.tan, np.cumsum, np.einsum, np.linalg.eigh, np.fft.rfft, np.pad):
        assert f in FOUND, label(f)
    assert "special.gammaln" in FOUND and "special.gammasgn" not in FOUND  # no derivative
    assert np.floor not in FOUND


# ----- helpers ------------------------------------------------------------------------------------

def leaves(out):
    """The array leaves of a result (tuples, lists and namedtuples flattened)."""
    todo, got = [out], []
    while todo:
        x = todo.pop(0)
        if isinstance(x, (tuple, list)):
            todo[:0] = list(x)
        else:
            got.append(x)
    return got


def _np(x):
    return np.asarray(x.detach().resolve_conj().numpy() if hasattr(x, "detach") else x)


def _inexact(a):
    return np.asarray(a).dtype.kind in "fc"


def assert_close(actual, expected, rtol, atol, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    finite = expected[np.isfinite(expected)] if expected.size else expected
    scale = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what,
                               equal_nan=True)


class Subject:
    """One drawn call of one function: ours, the reference, the contraction F and its pieces."""

    def __init__(self, key, data):
        self.key = key
        self.impl, self.ref = FOUND[key] if key in FOUND else (None, None)
        self.case = CASES.get(key) or fallback(key)
        if self.impl is None:
            pytest.skip(f"{label(key)} is not in this chainrule (the table covers it)")
        if self.case is None:
            pytest.skip(f"{label(key)} has no generator (test_every_function_has_a_case fails)")
        self.call = self.case.gen(Draw(data))
        self.arrays = self.call.arrays
        post = self.case.post or (lambda r: r)
        self.ours = lambda *a: post(self.call.apply(self.impl, *a))
        self.theirs = lambda *a: post(self.call.apply(self.ref, *a))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.expected = [np.asarray(v) for v in leaves(self.theirs(*self.arrays))]
        rng = np.random.default_rng(7)
        self.cot = [self._random(rng, v.shape, v.dtype) for v in self.expected]
        self.tangents = [self._random(rng, a.shape, a.dtype) for a in self.arrays]
        if self.case.nan_inputs:
            for a, t in zip(self.arrays, self.tangents):
                t[~np.isfinite(a)] = 0

    @staticmethod
    def _random(rng, shape, dtype):
        x = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        return x

    def F(self, *a):
        """The scalar chainrule differentiates: sum of Re(output * cotangent) over the outputs."""
        total = 0.0
        for v, c, e in zip(leaves(self.ours(*a)), self.cot, self.expected):
            if e.dtype.kind not in "fc":
                continue
            term = cr.sum(v * c)
            total = total + (cr.real(term) if np.iscomplexobj(c) or np.iscomplexobj(e) else term)
        return total

    def F_ref(self, *a):
        total = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for v, c in zip(leaves(self.theirs(*a)), self.cot):
                v = np.asarray(v)
                if v.dtype.kind in "fc":
                    total += float(np.real(np.sum(v * c)))
        return total

    def what(self, text):
        return f"{label(self.key)}: {text}\ncall: {self.call!r}"


# ----- the per-function checks 

def check_value(s):
    """(a) chainrule's value (Tensors in, recorded) equals the reference's."""
    tensors = [cr.tensor(a.copy(), requires_grad=True) for a in s.arrays]
    got = leaves(s.ours(*tensors))
    assert len(got) == len(s.expected), s.what(f"{len(got)} outputs, expected {len(s.expected)}")
    for k, (v, e) in enumerate(zip(got, s.expected)):
        v = np.asarray(v)
        assert v.dtype.kind == e.dtype.kind or e.dtype.kind not in "fc", \
            s.what(f"output {k} dtype {v.dtype} vs {e.dtype}")
        assert_close(v, e, 1e-9, 1e-10, s.what(f"value of output {k}"))


def check_grad(s):
    """(b) cr.grad of F against central differences of the reference function."""
    nums = tuple(range(len(s.arrays)))
    value, grads = cr.value_and_grad(s.F, argnums=nums)(*[a.copy() for a in s.arrays])
    assert_close(np.real(value), s.F_ref(*s.arrays), 1e-9, 1e-10, s.what("F"))
    for i, (g, a) in enumerate(zip(grads, s.arrays)):
        if a.dtype.kind == "c":
            num = _complex_grad(s.F_ref, s.arrays, i)
        else:
            num = numeric_grad(s.F_ref, s.arrays, i)
        if s.case.nan_inputs:
            num = np.where(np.isfinite(a), num, 0.0)
        g = np.asarray(g)
        assert g.shape == a.shape, s.what(f"gradient {i} shape {g.shape} != {a.shape}")
        assert_close(g, num, s.case.rtol, s.case.rtol * 0.1, s.what(
            f"gradient of input {i} vs central differences"))
    return grads


def check_jvp(s):
    """(c) cr.jvp against the central directional difference of the reference."""
    out, tout = cr.jvp(lambda *a: s.ours(*a), tuple(a.copy() for a in s.arrays),
                       tuple(s.tangents))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        plus = leaves(s.theirs(*[a + H * t for a, t in zip(s.arrays, s.tangents)]))
        minus = leaves(s.theirs(*[a - H * t for a, t in zip(s.arrays, s.tangents)]))
    touts = leaves(tout)
    for k, (e, p, m) in enumerate(zip(s.expected, plus, minus)):
        if e.dtype.kind not in "fc":
            continue
        num = (np.asarray(p) - np.asarray(m)) / (2 * H)
        t = touts[k] if k < len(touts) else None
        t = np.zeros_like(num) if t is None else np.asarray(t)
        if s.case.nan_inputs:
            num = np.where(np.isfinite(e), num, 0.0)
            t = np.where(np.isfinite(e), t, 0.0)
        assert_close(t, num, s.case.rtol, s.case.rtol * 0.1, s.what(f"jvp of output {k}"))


def check_torch(s, grads):
    """(d) values and gradients equal PyTorch's (torch's complex gradient is conj of ours)."""
    if s.case.torch is None:
        return
    torch = pytest.importorskip("torch")
    tdiff = s.case.tdiff if s.case.tdiff is not None else range(len(s.arrays))
    targs = [torch.tensor(a.copy(), requires_grad=i in tdiff) for i, a in enumerate(s.arrays)]
    tout = s.case.torch(torch, s.call, *targs)
    if tout is None:  # torch has no version of this variant
        return
    touts = leaves(s.case.post(tout) if s.case.post else tout)
    assert len(touts) == len(s.expected), s.what("torch: number of outputs")
    total = 0
    for k, (tv, e, c) in enumerate(zip(touts, s.expected, s.cot)):
        assert_close(_np(tv), e, 1e-9, 1e-10, s.what(f"value of output {k} vs torch"))
        if e.dtype.kind in "fc" and tv.requires_grad:
            term = (tv * torch.as_tensor(c)).sum()
            total = total + (term.real if term.is_complex() else term)
    if not torch.is_tensor(total):
        return
    total.backward()
    for i in tdiff:
        tg = targs[i].grad
        tg = np.zeros_like(s.arrays[i]) if tg is None else np.conj(tg.resolve_conj().numpy())
        if s.case.tgrad is not None:
            tg = s.case.tgrad(tg, s.call)
        assert_close(np.asarray(grads[i]), tg, 1e-8, 1e-9,
                     s.what(f"gradient of input {i} vs torch (conjugated)"))


def check_second_order(s):
    """(e) cr.hessian of F against central differences of cr.grad (real inputs, small)."""
    if s.case.order < 2 or any(a.dtype.kind == "c" for a in s.arrays):
        return
    for i, a in enumerate(s.arrays):
        if not 0 < a.size <= 10 or (s.case.nan_inputs and not np.all(np.isfinite(a))):
            continue
        grad_i = cr.grad(s.F, argnums=i)
        Hm = cr.hessian(s.F, argnums=i)(*[b.copy() for b in s.arrays])
        num = numeric_jacobian(lambda *b: np.real(np.asarray(grad_i(*b))), s.arrays, i)
        assert_close(np.real(Hm), num, s.case.rtol * 30, s.case.rtol * 3,
                     s.what(f"hessian of input {i} vs central differences of cr.grad"))
        # forward over reverse: the VJP rules differentiated by their JVP rules
        Hfr = cr.jacfwd(grad_i, argnums=i)(*[b.copy() for b in s.arrays])
        assert_close(np.real(Hfr), np.real(Hm), 1e-8, 1e-9,
                     s.what(f"forward-over-reverse hessian of input {i} vs cr.hessian"))
        return  # one input per example: the others get their turn in other examples


@pytest.mark.parametrize("key", [pytest.param(k, id=label(k)) for k in KEYS])
@FUZZ
@given(data=st.data())
def test_function(key, data):
    s = Subject(key, data)
    check_value(s)
    grads = check_grad(s)
    check_jvp(s)
    check_torch(s, grads)
    check_second_order(s)


# ----- small random programs: 2-3 catalogue calls chained 
# Each step is f(N, S, x, pool): N is NumPy or chainrule.numpy, S scipy.special or
# chainrule.scipy.special; steps take any real input (squashing it into their domain first
# with tanh/exp, themselves catalogue or core calls) so that every chain is defined.

ELEMENTWISE = {
    "arctan": lambda N, S, x, p: N.arctan(x),
    "arcsin": lambda N, S, x, p: N.arcsin(0.9 * N.tanh(x)),
    "tan": lambda N, S, x, p: N.tan(N.tanh(x)),
    "sinh": lambda N, S, x, p: N.sinh(N.tanh(x)) + N.cosh(0.5 * N.tanh(x)),
    "log1p": lambda N, S, x, p: N.log1p(0.5 * N.tanh(x)) + N.expm1(N.tanh(x)),
    "log2": lambda N, S, x, p: N.log2(2 + N.tanh(x)) * N.log10(3 + N.tanh(x)),
    "exp2": lambda N, S, x, p: N.exp2(N.tanh(x)),
    "hypot": lambda N, S, x, p: N.hypot(x, 1 + 0.5 * N.tanh(p[0])),
    "logaddexp": lambda N, S, x, p: N.logaddexp(x, p[0]) - N.logaddexp2(x, 0.5),
    "arctan2": lambda N, S, x, p: N.arctan2(x, 2 + N.tanh(p[0])),
    "cbrt": lambda N, S, x, p: N.cbrt(2 + N.tanh(x)),
    "sinc": lambda N, S, x, p: N.sinc(x),
    "expit": lambda N, S, x, p: S.expit(x) + S.erf(0.5 * x),
    "gammaln": lambda N, S, x, p: S.gammaln(2 + N.tanh(x)) + S.digamma(2 + N.tanh(x)),
    "log_ndtr": lambda N, S, x, p: S.log_ndtr(N.tanh(x)),
    "xlogy": lambda N, S, x, p: S.xlogy(x, 2 + N.tanh(p[0])),
}

SCANS = {  # shape-preserving on (2, 3)
    "cumsum": lambda N, S, x, p: N.cumsum(x, axis=1),
    "cumprod": lambda N, S, x, p: N.cumprod(1 + 0.5 * N.tanh(x), axis=0),
    "sort": lambda N, S, x, p: N.sort(x, axis=1),
    "flip": lambda N, S, x, p: N.roll(N.flip(x, axis=0), 1, axis=1),
    "diff": lambda N, S, x, p: N.diff(x, axis=1, prepend=p[0][:, :1]),
    "tril": lambda N, S, x, p: N.tril(x, 1) + N.fliplr(x),
}
FINAL_REDUCTIONS = {
    "std": lambda N, S, x, p: N.std(x, axis=1, ddof=1),
    "var": lambda N, S, x, p: N.var(x, axis=0),
    "prod": lambda N, S, x, p: N.prod(1 + 0.3 * N.tanh(x), axis=1, keepdims=True),
    "average": lambda N, S, x, p: N.average(x, axis=1, weights=[1.0, 2.0, 0.5]),
    "logsumexp": lambda N, S, x, p: S.logsumexp(x, axis=0),
    "nanmean": lambda N, S, x, p: N.nanmean(x, axis=0),
    "median": lambda N, S, x, p: N.median(x, axis=1),
}

_I3 = np.eye(3)
LINALG = {  # (3, 3) -> (3, 3), well conditioned on any input of moderate size
    "spd_inv": lambda N, S, x, p: N.linalg.inv(N.matmul(x, x.T) / 4 + _I3),
    "cholesky": lambda N, S, x, p: N.linalg.cholesky(N.matmul(x, x.T) / 4 + _I3),
    "solve": lambda N, S, x, p: N.linalg.solve(N.tanh(x) / 4 + 2 * _I3, p[0]),
    "eigh": lambda N, S, x, p: N.linalg.eigh(N.tanh(x + x.T) / 4 + N.diag([0.0, 2.0, 4.0]))[0]
    * _I3 + N.tanh(x),
    "matrix_power": lambda N, S, x, p: N.linalg.matrix_power(N.tanh(x) / 3 + _I3, 2),
    "einsum": lambda N, S, x, p: N.einsum("ij,jk->ik", N.tanh(x), p[0]) / 3,
    "kron_trace": lambda N, S, x, p: N.tanh(x) * N.trace(N.tanh(p[0])) / 3,
}
FINAL_LINALG = {
    "det": lambda N, S, x, p: N.linalg.det(N.tanh(x) / 3 + _I3),
    "slogdet": lambda N, S, x, p: N.linalg.slogdet(N.tanh(x) / 3 + _I3)[1],
    "norm": lambda N, S, x, p: N.linalg.norm(x + 3 * _I3),
    "svd": lambda N, S, x, p: N.linalg.svd(x + N.diag([0.0, 3.0, 6.0]), compute_uv=False),
    "tensordot": lambda N, S, x, p: N.tensordot(x, p[0], axes=2),
}

FFT = {  # (6,) real -> (6,) real
    "rfft": lambda N, S, x, p: N.fft.irfft(N.fft.rfft(x) * (1 + 0.5j), n=6),
    "fft": lambda N, S, x, p: N.real(N.fft.ifft(N.fft.fft(x) * N.fft.fftshift(x))),
    "fftn": lambda N, S, x, p: N.imag(N.fft.fftn(x.reshape(2, 3), norm="ortho")).reshape(6),
    "hfft": lambda N, S, x, p: N.fft.hfft(x[:4] + 0.5j * p[0][:4], n=6),
    # (sin of the angle: continuous across its branch cut at -pi/pi)
    "abs": lambda N, S, x, p: N.absolute(N.fft.rfft(x)).sum() + N.sin(N.angle(N.fft.fft(x)[1]))
    + x,
}

FAMILIES = {
    "elementwise": ((lambda sh: sh), ELEMENTWISE, None),
    "reductions": ((lambda sh: (2, 3)), SCANS, FINAL_REDUCTIONS),
    "linalg": ((lambda sh: (3, 3)), LINALG, FINAL_LINALG),
    "fft": ((lambda sh: (6,)), FFT, None),
}


class _NS:
    def __init__(self, N, S):
        self.N, self.S = N, S


NUMPY_NS, CHAINRULE_NS = _NS(np, ss), _NS(cnp, crs)


def draw_program(data, family):
    shape_of, steps, finals = FAMILIES[family]
    shape = shape_of(data.draw(st.sampled_from([(), (3,), (2, 2)]), "shape"))
    names = data.draw(st.lists(st.sampled_from(sorted(steps)), min_size=2, max_size=3), "steps")
    final = data.draw(st.sampled_from(sorted(finals)), "final") if finals else None
    seed = data.draw(st.integers(0, 2 ** 16), "seed")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, shape)

    def program(ns, x):
        pool = [x]
        for n in names:
            pool.append(steps[n](ns.N, ns.S, pool[-1], pool))
        if final:
            pool.append(finals[final](ns.N, ns.S, pool[-1], pool))
        return pool[-1]
    return names + ([final] if final else []), x, program


@pytest.mark.parametrize("family", sorted(FAMILIES))
@FUZZ
@given(data=st.data())
def test_program(family, data):
    names, x, program = draw_program(data, family)
    what = f"{family} program {' -> '.join(names)} at {x.shape}"
    expected = np.asarray(program(NUMPY_NS, x))
    got = program(CHAINRULE_NS, cr.tensor(x.copy(), requires_grad=True))
    assert_close(np.asarray(got), expected, 1e-9, 1e-10, what + ": value")
    c = np.random.default_rng(1).standard_normal(expected.shape)
    g = cr.grad(lambda v: cr.sum(program(CHAINRULE_NS, v) * c))(x.copy())
    num = numeric_grad(lambda v: float(np.sum(np.asarray(program(NUMPY_NS, v)) * c)), [x], 0)
    assert_close(g, num, 1e-6, 1e-7, what + ": gradient vs central differences")
    t = np.random.default_rng(2).standard_normal(x.shape)
    _, tout = cr.jvp(lambda v: program(CHAINRULE_NS, v), (x.copy(),), (t,))
    fd = (np.asarray(program(NUMPY_NS, x + H * t)) - np.asarray(program(NUMPY_NS, x - H * t))) \
        / (2 * H)
    assert_close(tout, fd, 1e-6, 1e-7, what + ": jvp vs central differences")


# ----- bugs this fuzzer found in other files, fixed: regression tests ------------------------------

def test_bug_imag_0d_complex():
    g = cr.grad(lambda z: cr.sum(cnp.imag(z) * 0.7))(np.array(1 + 2j))
    np.testing.assert_allclose(g, -0.7j)  # autograd's convention: dF/dx - i dF/dy


def test_bug_logsumexp_0d_keepdims():
    x = np.array(0.5)
    got = crs.logsumexp(cr.tensor(x, requires_grad=True), keepdims=True)
    assert np.shape(got) == np.shape(ss.logsumexp(x, keepdims=True))


def test_bug_correlate_same_short_first():
    a, v = np.array([1.0, 2.0]), np.array([1.0, 3.0, 5.0])
    got = cnp.correlate(cr.tensor(a, requires_grad=True), v, "same")
    np.testing.assert_allclose(np.asarray(got), np.correlate(a, v, "same"))


def test_bug_polyder_past_degree():
    p = np.array([3.0])
    got = cnp.polyder(cr.tensor(p, requires_grad=True), 1)
    assert np.shape(got) == np.shape(np.polyder(p, 1))


# ----- the fuzzer catches wrong rules (a check that cannot fail checks nothing) ---------------------

def _mutant(which):
    """sin with one rule wrong: 'vjp' (off by 1%), 'jvp' (off by 1%) or 'second' (a VJP
    rule read from the value, so that it is a constant to the next derivative)."""
    op = cr.primitive(np.sin, name=f"sin_{which}")

    def plain(x):
        return x.value if isinstance(x, cr.Tensor) else np.asarray(x)
    if which == "second":
        op.defvjp(lambda g, ans, x: g * np.cos(plain(x)))
    else:
        op.defvjp(lambda g, ans, x: g * cr.cos(x) * (1.01 if which == "vjp" else 1.0))
    op.defjvp(lambda t, ans, x: t * cr.cos(x) * (1.01 if which == "jvp" else 1.0))
    return op


@pytest.mark.parametrize("which", ["vjp", "jvp", "second"])
def test_fuzzer_catches_a_wrong_rule(which, monkeypatch):
    key = "mutant." + which
    monkeypatch.setitem(FOUND, key, (_mutant(which), np.sin))
    monkeypatch.setitem(CASES, key, Case(unary((0.3, 1.2))))

    @settings(FUZZ, max_examples=5)
    @given(data=st.data())
    def run(data):
        s = Subject(key, data)
        check_value(s)
        check_grad(s)
        check_jvp(s)
        check_second_order(s)
    caught_by = {"vjp": "gradient of input 0 vs central", "jvp": "jvp of output 0",
                 "second": "hessian of input 0"}[which]
    with pytest.raises(AssertionError, match=caught_by):
        run()
