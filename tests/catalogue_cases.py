"""Argument generators for the catalogue fuzzer (tests/test_fuzz_catalogue.py).

``CASES`` maps each catalogue function (the NumPy callable, or ``"special.<name>"``
for chainrule.scipy.special) to a ``Case``: a generator drawing one call (random
shapes: 0-d, size-1 axes, broadcasting, axis/keepdims variants, empty arrays where
NumPy allows; values inside the function's domain and away from its kinks), the
PyTorch function where torch has one, and what the checks may ask of it.

A generator takes a ``Draw`` (hypothesis choices plus a seeded NumPy generator for
the values) and returns a ``Call``: the arrays to differentiate and how to apply a
function (chainrule's, NumPy's or SciPy's) to them. ``EXCLUDED`` lists the
differentiable functions deliberately left out, with the reason.
"""
import numpy as np
import scipy.special as ss
from hypothesis import strategies as st

import chainrule.numpy as cnp

# ----- drawing ------------------------------------------------------------------------------


class Draw:
    """Structural choices through hypothesis (so they shrink); values from a seeded generator."""

    def __init__(self, data):
        self.data = data
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), "value seed"))

    def pick(self, seq, label=None):
        return self.data.draw(st.sampled_from(list(seq)), label)

    def int(self, lo, hi, label=None):
        return self.data.draw(st.integers(lo, hi), label)

    def flag(self, label=None):
        return self.data.draw(st.booleans(), label)

    def shape(self, min_nd=0, max_nd=3, empty=False, max_size=12, min_len=1, max_len=4):
        nd = self.int(min_nd, max_nd, "ndim")
        lo = 0 if empty and self.int(0, 4, "empty?") == 0 else min_len
        while True:
            s = tuple(self.int(lo if k == 0 else min_len, max_len, "len") for k in range(nd))
            if int(np.prod(s, dtype=int)) <= max_size:
                return s

    def bshapes(self, n=2, min_nd=0, max_nd=3, empty=False):
        """n shapes broadcasting together: a common shape, leading axes dropped, axes set to 1."""
        full = self.shape(min_nd, max_nd, empty=empty)
        out = []
        for _ in range(n):
            drop = self.int(0, len(full), "dropped leading axes") if self.flag("drop") else 0
            s = list(full[drop:])
            for k in range(len(s)):
                if self.int(0, 3, "to 1?") == 0:
                    s[k] = 1
            out.append(tuple(s))
        return out

    def arr(self, shape, dom=(-2.0, 2.0), cplx=False):
        """Uniform values in ``dom``: an interval, or a list of intervals (kinks in the gaps)."""
        doms = dom if isinstance(dom, list) else [dom]
        k = self.rng.integers(0, len(doms), size=shape)
        lo = np.array([d[0] for d in doms])[k]
        hi = np.array([d[1] for d in doms])[k]
        x = lo + (hi - lo) * self.rng.random(shape)
        if cplx:
            x = x + 1j * (lo + (hi - lo) * self.rng.random(shape))
        return np.asarray(x, dtype=complex if cplx else np.float64)

    def axis_kw(self, nd, tuples=True, none=True):
        """An axis argument for ``nd`` dims: None, an int (maybe negative) or a tuple."""
        kinds = (["none"] if none else []) + (["int"] if nd else []) + \
            (["tuple"] if tuples and nd else [])
        kind = self.pick(kinds or ["none"], "axis kind")
        if kind == "none":
            return None
        if kind == "int":
            return self.int(-nd, nd - 1, "axis")
        k = self.int(0 if nd else 0, nd, "tuple length")
        axes = self.data.draw(st.permutations(range(nd)), "axes")[:k]
        return tuple(a - nd if self.flag("negative") else a for a in axes)


def reduced(shape, axis):
    """The axes an ``axis`` argument reduces (all for None)."""
    nd = len(shape)
    if axis is None:
        return tuple(range(nd))
    return tuple(sorted(a % nd for a in ((axis,) if isinstance(axis, int) else axis)))


class Call:
    """One call: ``arrays`` (differentiated), applied as ``apply(fn, *arrays)``."""

    def __init__(self, arrays, apply=None, kw=None, **p):
        self.arrays = [np.asarray(a) for a in arrays]
        self.kw = kw or {}
        self.p = p
        self.apply = apply or (lambda fn, *a: fn(*a, **self.kw))

    def __repr__(self):
        shapes = ", ".join(f"{a.dtype}{a.shape}" for a in self.arrays)
        return f"Call([{shapes}], kw={self.kw}, p={self.p})"


class Case:
    """A generator plus what the checks may do with it.

    torch: ``torch(T, call, *tensors)`` computes the same function in PyTorch (None: no
    oracle); tdiff: indices of the arrays torch differentiates (None: all). post: maps the
    output (chainrule's or the reference's; written with chainrule.numpy so it records) to
    gauge-invariant values (eigenvectors). order: 2 (hessian checked), 1 or 0 (value only).
    """

    def __init__(self, gen, torch=None, tdiff=None, post=None, order=2, rtol=1e-6,
                 ref=None, nan_inputs=False, tgrad=None):
        self.gen, self.torch, self.tdiff, self.post = gen, torch, tdiff, post
        self.tgrad = tgrad  # torch's gradient -> ours, where the conventions differ
        self.order, self.rtol, self.ref, self.nan_inputs = order, rtol, ref, nan_inputs


CASES = {}
# key -> why it is not fuzzed. Empty: every differentiable function has a case. Variants left
# out inside a case are noted at its generator (np.pad's statistic modes and np.cov's
# weights are refused on Tensors with a clear error; xp of np.interp has no derivative).
EXCLUDED = {}


def add(keys, gen, **opts):
    for k in (keys if isinstance(keys, (list, tuple)) else [keys]):
        CASES[k] = Case(gen, **opts)


# ----- generic generators -------------------------------------------------------------------


def unary(dom=(-2.0, 2.0), cplx=None, kw=None, empty=True):
    """f(x) elementwise; ``cplx``: a complex domain (drawn half the time) or None."""
    def gen(d):
        shape = d.shape(empty=empty)
        if cplx is not None and d.flag("complex"):
            return Call([d.arr(shape, cplx, cplx=True)], kw=dict(kw or {}))
        return Call([d.arr(shape, dom)], kw=dict(kw or {}))
    return gen


def binary(dom1=(-2.0, 2.0), dom2=(-2.0, 2.0), cplx=None, swap=False):
    def gen(d):
        s1, s2 = d.bshapes(2, empty=True)
        c = cplx is not None and d.flag("complex")
        return Call([d.arr(s1, cplx[0] if c else dom1, c), d.arr(s2, cplx[1] if c else dom2, c)])
    return gen


def T_unary(name):
    def f(T, c, x):
        fn = T
        for part in name.split("."):
            fn = getattr(fn, part)
        return fn(x)
    return f


def T_binary(name):
    def f(T, c, x, y):
        fn = T
        for part in name.split("."):
            fn = getattr(fn, part)
        return fn(x, y)
    return f


# ----- ufuncs ---------------------------------------------------------------------------------

C_SMALL = (-0.8, 0.8)  # a complex domain away from the branch cuts of the inverse functions
UNARY = {
    # numpy fn: (domain, complex domain or None, torch name or None)
    np.tan: ((-1.2, 1.2), C_SMALL, "tan"), np.arcsin: ((-0.9, 0.9), C_SMALL, "asin"),
    np.arccos: ((-0.9, 0.9), C_SMALL, "acos"), np.arctan: ((-3, 3), C_SMALL, "atan"),
    np.sinh: ((-2, 2), (-1.5, 1.5), "sinh"), np.cosh: ((-2, 2), (-1.5, 1.5), "cosh"),
    np.arcsinh: ((-3, 3), C_SMALL, "asinh"), np.arccosh: ((1.1, 4), None, "acosh"),
    np.arctanh: ((-0.9, 0.9), C_SMALL, "atanh"), np.log1p: ((-0.9, 3), (0.1, 1.0), "log1p"),
    np.expm1: ((-2, 2), (-1.0, 1.0), "expm1"), np.log2: ((0.1, 4), (0.2, 2.0), "log2"),
    np.log10: ((0.1, 4), (0.2, 2.0), "log10"), np.exp2: ((-2, 2), (-1.0, 1.0), "exp2"),
    np.reciprocal: ([(-3, -0.5), (0.5, 3)], (0.4, 2.0), "reciprocal"),
    np.cbrt: ([(-3, -0.2), (0.2, 3)], None, None),
    np.fabs: ([(-2, -0.1), (0.1, 2)], None, "abs"),
    np.absolute: ([(-2, -0.1), (0.1, 2)], (0.2, 2.0), "abs"),
    np.positive: ((-2, 2), (-2, 2), "positive"),
    np.sinc: ([(-2.5, -0.1), (0.1, 2.5)], (0.2, 1.0), "sinc"),
    np.deg2rad: ((-90, 90), None, "deg2rad"), np.radians: ((-90, 90), None, "deg2rad"),
    np.rad2deg: ((-2, 2), None, "rad2deg"), np.degrees: ((-2, 2), None, "rad2deg"),
    np.conjugate: ((-2, 2), (-2, 2), "conj"), np.real: ((-2, 2), (-2, 2), "real"),
    np.imag: ((-2, 2), (-2, 2), "imag"),
}


def unary_no_0d_complex(dom, cplx):
    """np.imag and friends, real or complex (0-d complex included: test_bug_imag_0d_complex)."""
    def gen(d):
        if d.flag("complex"):
            return Call([d.arr(d.shape(empty=True), cplx, cplx=True)])
        return Call([d.arr(d.shape(empty=True), dom)])
    return gen


def _torch_unary(name):
    def f(T, c, x):
        if name == "conj":
            return T.conj(x).resolve_conj()
        if name in ("real", "imag") and not x.is_complex():
            return x * 1.0 if name == "real" else x * 0.0
        return getattr(T, name)(x)
    return f


for _f, (_dom, _cd, _tn) in UNARY.items():
    add(_f, unary(_dom, _cd), torch=_torch_unary(_tn) if _tn else None)
add(np.imag, unary_no_0d_complex((-2, 2), (-2, 2)), torch=_torch_unary("imag"))

def _angle_deg(d):
    return Call([d.arr(d.shape(empty=True), (0.3, 2.0), cplx=True)], kw={"deg": True})


add(np.angle, lambda d: _angle_deg(d) if d.flag("deg") else unary((0.3, 2), (0.3, 2))(d),
    torch=lambda T, c, x: T.rad2deg(T.angle(x)) if c.kw.get("deg") else T.angle(x))

BINARY = {
    # numpy fn: (x domain, y domain, torch name or None)
    np.arctan2: ((-2, 2), (0.5, 2), "atan2"), np.logaddexp: ((-3, 3), (-3, 3), "logaddexp"),
    np.logaddexp2: ((-3, 3), (-3, 3), "logaddexp2"),
    np.hypot: ([(-2, -0.5), (0.5, 2)], [(-2, -0.5), (0.5, 2)], "hypot"),
    np.fmax: ((0.1, 0.9), (1.1, 2), "fmax"), np.fmin: ((0.1, 0.9), (1.1, 2), "fmin"),
    np.remainder: ((1.05, 1.95), (1.001, 1.02), "remainder"),
    np.fmod: ((-1.95, -1.05), (1.001, 1.02), "fmod"),
    np.float_power: ((0.5, 2), (-1.5, 1.5), "float_power"),
    np.copysign: ([(-2, -0.2), (0.2, 2)], [(-2, -0.2), (0.2, 2)], "copysign"),
}
for _f, (_d1, _d2, _tn) in BINARY.items():
    add(_f, binary(_d1, _d2), torch=T_binary(_tn))
# fmax/fmin: either order of the two ranges (the larger one wins)
for _f, _tn in ((np.fmax, "fmax"), (np.fmin, "fmin")):
    add(_f, lambda d: binary((0.1, 0.9), (1.1, 2))(d) if d.flag("order") else
        binary((1.1, 2), (0.1, 0.9))(d), torch=T_binary(_tn))
add(np.remainder, lambda d: binary((1.05, 1.95), (1.001, 1.02))(d) if d.flag("sign") else
    binary((-1.95, -1.05), (1.001, 1.02))(d), torch=T_binary("remainder"))


def _heaviside(d):
    s1, s2 = d.bshapes(2, empty=True)
    return Call([d.arr(s1, [(-2, -0.2), (0.2, 2)]), d.arr(s2, (0.0, 1.0))])


add(np.heaviside, _heaviside)  # piecewise constant in x1 away from 0: gradient 0 in both


def _ldexp(d):
    shape = d.shape(empty=True)
    e = d.rng.integers(-3, 4, size=shape)
    return Call([d.arr(shape)], apply=lambda fn, x: fn(x, e), e=e)


# (torch.ldexp with an integer exponent tensor has a gradient of 0 wherever e < 0: 2 ** e is
# computed in integers there; the exponent is given to torch as floats)
add(np.ldexp, _ldexp, torch=lambda T, c, x: T.ldexp(x, T.as_tensor(c.p["e"], dtype=x.dtype)))


add(np.modf, unary([(-2.9, -2.1), (-1.9, -1.1), (-0.9, -0.1), (0.1, 0.9), (1.1, 1.9)]))
add(np.divmod, binary((1.05, 1.95), (1.001, 1.02)))

# ----- reductions and scans -------------------------------------------------------------------


def reduction(dom=(-2.0, 2.0), keepdims=True, tuples=True, ddof=False, empty=False,
              none=True, min_nd=0, extra=None):
    def gen(d):
        shape = d.shape(min_nd=min_nd, empty=empty)
        kw = {"axis": d.axis_kw(len(shape), tuples=tuples, none=none)}
        if keepdims and d.flag("keepdims"):
            kw["keepdims"] = True
        if ddof:
            n = int(np.prod([shape[a] for a in reduced(shape, kw["axis"])], dtype=int))
            kw["ddof"] = d.int(0, 1, "ddof") if n >= 2 else 0
        if extra:
            kw.update(extra(d, shape, kw))
        return Call([d.arr(shape, dom)], kw=kw)
    return gen


def _tdims(shape, axis):
    return reduced(shape, axis)


def T_reduce(fn, ddof=False):
    def f(T, c, x):
        kw = c.kw
        dims = _tdims(tuple(x.shape), kw.get("axis"))
        keep = kw.get("keepdims", False)
        if x.ndim == 0 or not dims:  # a reduction over no axis: each entry alone
            return fn(T, x.unsqueeze(0), (0,), False, kw)
        if ddof:
            return fn(T, x, dims, keep, kw)
        return fn(T, x, dims, keep, kw)
    return f


def _t_prod(T, x, dims, keep, kw):
    for d in sorted(dims, reverse=True):
        x = T.prod(x, dim=d, keepdim=keep)
    return x


def _t_var(T, x, dims, keep, kw):
    return T.var(x, dim=dims, keepdim=keep, correction=kw.get("ddof", 0))


def _t_std(T, x, dims, keep, kw):
    return T.std(x, dim=dims, keepdim=keep, correction=kw.get("ddof", 0))


def _t_amax(T, x, dims, keep, kw):
    return T.amax(x, dim=dims, keepdim=keep) - T.amin(x, dim=dims, keepdim=keep)


def _t_nansum(T, x, dims, keep, kw):
    return T.nansum(x, dim=dims, keepdim=keep)


def _t_nanmean(T, x, dims, keep, kw):
    return T.nanmean(x, dim=dims, keepdim=keep)


add(np.prod, reduction((0.5, 1.5)), torch=T_reduce(_t_prod))
add(np.var, reduction(ddof=True), torch=T_reduce(_t_var))
add(np.std, reduction(ddof=True, empty=False, min_nd=1), torch=T_reduce(_t_std))
add(np.ptp, reduction(), torch=T_reduce(_t_amax))


def scan(dom=(-2.0, 2.0), axis_none=True, name=None):
    def gen(d):
        shape = d.shape(empty=True, min_nd=0 if axis_none else 1)
        choices = ([None] if axis_none else []) + list(range(-len(shape), len(shape)))
        kw = {"axis": d.pick(choices or [None], "axis")}
        if name == "cumulative" and len(shape) > 1 and kw["axis"] is None:
            kw["axis"] = 0
        if name == "cumulative" and d.flag("include_initial"):
            kw["include_initial"] = True
        return Call([d.arr(shape, dom)], kw=kw)
    return gen


def T_scan(fn, initial=None):
    def f(T, c, x):
        ax = c.kw.get("axis")
        if ax is None:
            x, ax = x.reshape(-1), 0
        r = getattr(T, fn)(x, dim=ax)
        if c.kw.get("include_initial"):
            shape = list(r.shape)
            shape[ax] = 1
            r = T.cat([T.full(shape, initial, dtype=r.dtype), r], dim=ax)
        return r
    return f


add(np.cumsum, scan(), torch=T_scan("cumsum"))
add(np.cumprod, scan((0.5, 1.5)), torch=T_scan("cumprod"))
if hasattr(np, "cumulative_sum"):
    add(np.cumulative_sum, scan(name="cumulative"), torch=T_scan("cumsum", 0.0))
    add(np.cumulative_prod, scan((0.5, 1.5), name="cumulative"), torch=T_scan("cumprod", 1.0))


def nan_scan(dom=(-2.0, 2.0)):
    def gen(d):
        c = scan(dom)(d)
        x = c.arrays[0]
        if x.size:
            mask = d.rng.random(x.shape) < 0.25
            x[mask] = np.nan
        return c
    return gen


def nan_reduction(dom=(-2.0, 2.0), **kw):
    """A reduction's call with NaNs sprinkled in, never a whole slice (two values kept)."""
    def gen(d):
        c = reduction(dom, **kw)(d)
        x = c.arrays[0]
        if x.ndim:
            red = reduced(x.shape, c.kw.get("axis"))
            mask = d.rng.random(x.shape) < 0.3
            keep0 = tuple(slice(0, 1) if a in red else slice(None) for a in range(x.ndim))
            keep1 = tuple(slice(-1, None) if a in red else slice(None) for a in range(x.ndim))
            mask[keep0] = False
            mask[keep1] = False
            x[mask] = np.nan
        return c
    return gen


add(np.nancumsum, nan_scan(), nan_inputs=True, torch=None)
add(np.nancumprod, nan_scan((0.5, 1.5)), nan_inputs=True)
add(np.nansum, nan_reduction(), nan_inputs=True, torch=T_reduce(_t_nansum))
add(np.nanmean, nan_reduction(), nan_inputs=True, torch=T_reduce(_t_nanmean))
add(np.nanprod, nan_reduction((0.5, 1.5)), nan_inputs=True)
add(np.nanvar, nan_reduction(ddof=True), nan_inputs=True)
add(np.nanstd, nan_reduction(ddof=True, min_nd=1), nan_inputs=True)
add(np.nanmax, nan_reduction(), nan_inputs=True)
add(np.nanmin, nan_reduction(), nan_inputs=True)


def _average(d):
    shape = d.shape(min_nd=1)
    axis = d.axis_kw(len(shape), tuples=True)
    kw = {"axis": axis}
    arrays = [d.arr(shape)]
    if d.flag("weights"):
        red = reduced(shape, axis)
        wshape = shape if (axis is None or d.flag("full weights") or len(red) != 1) \
            else (shape[red[0]],)
        arrays.append(d.arr(wshape, (0.5, 2.0)))
    if d.flag("keepdims"):
        kw["keepdims"] = True
    if len(arrays) == 2:
        return Call(arrays, apply=lambda fn, a, w: fn(a, weights=w, **kw), kw=kw)
    return Call(arrays, kw=kw)


add(np.average, _average)


def _quantile(q_scale):
    def gen(d):
        shape = d.shape(min_nd=1, max_size=10)
        kw = {"axis": d.axis_kw(len(shape), tuples=True)}
        if d.flag("keepdims"):
            kw["keepdims"] = True
        q = d.rng.uniform(0.05, 0.95, size=d.pick([(), (2,)], "q shape")) * q_scale
        kw["method"] = d.pick(["linear", "midpoint", "nearest", "lower", "higher"], "method")
        return Call([d.arr(shape)], apply=lambda fn, a: fn(a, q, **kw), kw=kw, q=q)
    return gen


def _median(d):
    c = reduction(min_nd=1)(d)
    return c


add(np.quantile, _quantile(1.0))
add(np.percentile, _quantile(100.0))
add(np.median, _median)


def _nan_of(gen):
    def g(d):
        c = gen(d)
        x = c.arrays[0]
        red = reduced(x.shape, c.kw.get("axis"))
        mask = d.rng.random(x.shape) < 0.3
        mask[tuple(slice(0, 1) if a in red else slice(None) for a in range(x.ndim))] = False
        x[mask] = np.nan
        return c
    return g


add(np.nanquantile, _nan_of(_quantile(1.0)), nan_inputs=True)
add(np.nanpercentile, _nan_of(_quantile(100.0)), nan_inputs=True)
add(np.nanmedian, _nan_of(_median), nan_inputs=True)


def _diff(d):
    shape = d.shape(min_nd=1)
    ax = d.int(-len(shape), len(shape) - 1, "axis")
    n = d.int(0, max(0, shape[ax]), "n")
    arrays = [d.arr(shape)]
    kw = {"n": n, "axis": ax}
    if d.flag("prepend"):
        s = list(shape)
        s[ax] = 1
        arrays.append(d.arr(tuple(s)))
        return Call(arrays, apply=lambda fn, a, p: fn(a, prepend=p, **kw), kw=kw)
    return Call(arrays, kw=kw)


add(np.diff, _diff, torch=lambda T, c, x, *p: T.diff(x, n=c.kw["n"], dim=c.kw["axis"],
                                                       prepend=p[0] if p else None))


def _gradient(d):
    shape = d.shape(min_nd=1, min_len=2)
    kw = {}
    if d.flag("edge order 2") and min(shape) >= 3:
        kw["edge_order"] = 2
    if len(shape) > 1 and d.flag("axis"):
        kw["axis"] = d.int(-len(shape), len(shape) - 1, "axis")
    if d.flag("spacing"):
        h = float(d.rng.uniform(0.5, 2))
        return Call([d.arr(shape)], apply=lambda fn, a: fn(a, h, **kw), kw=kw)
    return Call([d.arr(shape)], kw=kw)


add(np.gradient, _gradient)

# ----- shape and assembly -----------------------------------------------------------------------


def one(fn_kw, min_nd=0, empty=True, dom=(-2.0, 2.0), max_nd=3, cplx=False):
    """f(x, **kw) with kw drawn from the shape: fn_kw(d, shape) -> kw."""
    def gen(d):
        shape = d.shape(min_nd=min_nd, max_nd=max_nd, empty=empty)
        c = cplx and d.flag("complex")
        return Call([d.arr(shape, dom, c)], kw=fn_kw(d, shape))
    return gen


def _axes2(d, shape):
    nd = len(shape)
    return {"axis1": d.int(-nd, nd - 1), "axis2": d.int(-nd, nd - 1)}


add(np.ravel, one(lambda d, s: {}, cplx=True), torch=lambda T, c, x: x.reshape(-1))
add(np.copy, one(lambda d, s: {}, cplx=True), torch=lambda T, c, x: x.clone())
add(np.asarray_chkfinite, one(lambda d, s: {}), torch=lambda T, c, x: x * 1)
add(np.swapaxes, one(_axes2, min_nd=1),
    torch=lambda T, c, x: T.swapaxes(x, c.kw["axis1"], c.kw["axis2"]))
add(np.moveaxis, one(lambda d, s: {"source": d.int(-len(s), len(s) - 1),
                                   "destination": d.int(-len(s), len(s) - 1)}, min_nd=1),
    torch=lambda T, c, x: T.movedim(x, c.kw["source"], c.kw["destination"]))
add(np.rollaxis, one(lambda d, s: {"axis": d.int(-len(s), len(s) - 1),
                                   "start": d.int(0, len(s))}, min_nd=1))
for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    add(_f, one(lambda d, s: {}))


def _atleast_many(d):
    arrays = [d.arr(d.shape()) for _ in range(d.int(2, 3))]
    return Call(arrays)


for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    add(_f, lambda d: _atleast_many(d) if d.flag("many") else one(lambda d, s: {})(d))


def joined(fn_name, min_nd):
    """hstack/vstack/dstack/column_stack/row_stack of 1-3 arrays compatible for it."""
    def gen(d):
        k = d.int(1, 3, "number of arrays")
        nd = d.int(min_nd, 3 if fn_name != "column_stack" else 2, "ndim")
        base = [d.int(1, 3) for _ in range(nd)]
        ax = {"hstack": 1 if nd > 1 else 0, "vstack": 0, "row_stack": 0, "dstack": 2,
              "column_stack": 1}[fn_name]
        arrays = []
        for _ in range(k):
            s = list(base)
            if fn_name in ("vstack", "row_stack") and nd <= 1:
                pass
            elif fn_name == "dstack" and nd < 3:
                pass
            elif fn_name == "column_stack" and nd < 2:
                pass
            elif fn_name == "hstack" and nd == 0:
                pass
            else:
                s[ax] = d.int(1, 3)
            arrays.append(d.arr(tuple(s)))
        return Call(arrays, apply=lambda fn, *a: fn(list(a)))
    return gen


def _T_joined(name):
    def f(T, c, *xs):
        return getattr(T, name)(list(xs))
    return f


add(np.hstack, joined("hstack", 0), torch=_T_joined("hstack"))
add(np.vstack, joined("vstack", 0), torch=_T_joined("vstack"))
if hasattr(np, "row_stack"):
    add(np.row_stack, joined("row_stack", 0), torch=_T_joined("vstack"))
add(np.dstack, joined("dstack", 0), torch=_T_joined("dstack"))
add(np.column_stack, joined("column_stack", 1), torch=_T_joined("column_stack"))


def splitting(name):
    def gen(d):
        min_nd = {"split": 1, "array_split": 1, "hsplit": 1, "vsplit": 2, "dsplit": 3}[name]
        shape = list(d.shape(min_nd=min_nd, max_nd=max(min_nd, 3), max_size=24))
        ax = {"hsplit": 1 if len(shape) > 1 else 0, "vsplit": 0, "dsplit": 2}.get(name)
        kw = {}
        if ax is None:
            ax = d.int(-len(shape), len(shape) - 1, "axis")
            kw["axis"] = ax
        n = shape[ax]
        if d.flag("sections"):
            k = d.int(1, max(1, n + 1)) if name == "array_split" else d.pick(
                [k for k in range(1, n + 1) if n % k == 0], "sections")
            ios = k
        else:
            ios = sorted(d.data.draw(st.lists(st.integers(0, n + 1), max_size=3), "cuts"))
        return Call([d.arr(tuple(shape))], apply=lambda fn, a: fn(a, ios, **kw), kw=kw)
    return gen


for _n in ("split", "array_split", "hsplit", "vsplit", "dsplit"):
    add(getattr(np, _n), splitting(_n))


def _append(d):
    if d.flag("flat"):
        return Call([d.arr(d.shape()), d.arr(d.shape())])
    shape = d.shape(min_nd=1)
    ax = d.int(-len(shape), len(shape) - 1)
    s2 = list(shape)
    s2[ax] = d.int(1, 3)
    return Call([d.arr(shape), d.arr(tuple(s2))], kw={"axis": ax})


add(np.append, _append)


def _tile(d):
    shape = d.shape(empty=True)
    reps = tuple(d.int(1, 3) for _ in range(d.int(0, 3))) if d.flag("tuple") else d.int(0, 3)
    return Call([d.arr(shape)], apply=lambda fn, a: fn(a, reps), reps=reps)


add(np.tile, _tile)


def _repeat(d):
    shape = d.shape(empty=True)
    if shape and d.flag("axis"):
        ax = d.int(-len(shape), len(shape) - 1)
        reps = d.rng.integers(0, 3, size=shape[ax]) if d.flag("array") else d.int(0, 3)
        return Call([d.arr(shape)], apply=lambda fn, a: fn(a, reps, axis=ax))
    reps = d.int(0, 3)
    return Call([d.arr(shape)], apply=lambda fn, a: fn(a, reps))


add(np.repeat, _repeat)


def _pad(d):
    shape = d.shape(min_nd=1, max_size=8)
    widths = [(d.int(0, 2), d.int(0, 2)) for _ in shape]
    # (the statistic modes mean/maximum/minimum/median and linear_ramp are refused with a
    # NotImplementedError naming the supported ones: a documented gap, not fuzzed)
    mode = d.pick(["constant", "edge", "reflect", "symmetric", "wrap"], "mode")
    kw = {"mode": mode}
    if mode == "reflect" and min(shape) < 2:
        kw["mode"] = "edge"
    if mode == "constant" and d.flag("value"):
        kw["constant_values"] = 1.5
    return Call([d.arr(shape)], apply=lambda fn, a: fn(a, widths, **kw), kw=kw, widths=widths)


add(np.pad, _pad)


def _roll(d):
    shape = d.shape(empty=True)
    if shape and d.flag("axis"):
        k = d.int(1, len(shape))
        axes = tuple(d.data.draw(st.permutations(range(len(shape))))[:k])
        shift = tuple(d.int(-5, 5) for _ in axes)
        return Call([d.arr(shape)], kw={"shift": shift, "axis": axes})
    return Call([d.arr(shape)], kw={"shift": d.int(-5, 5)})


add(np.roll, _roll, torch=lambda T, c, x: T.roll(x, c.kw["shift"], c.kw.get("axis"))
    if c.kw.get("axis") is not None else T.roll(x.reshape(-1), c.kw["shift"]).reshape(x.shape))
add(np.flip, one(lambda d, s: {"axis": d.axis_kw(len(s))}))
add(np.fliplr, one(lambda d, s: {}, min_nd=2), torch=lambda T, c, x: T.fliplr(x))
add(np.flipud, one(lambda d, s: {}, min_nd=1), torch=lambda T, c, x: T.flipud(x))
add(np.rot90, one(lambda d, s: {"k": d.int(-3, 4)}, min_nd=2),
    torch=lambda T, c, x: T.rot90(x, c.kw["k"], [0, 1]))


def _diagonal(d):
    shape = d.shape(min_nd=2, empty=True)
    nd = len(shape)
    a1 = d.int(-nd, nd - 1)
    a2 = d.pick([a for a in range(nd) if a != a1 % nd])
    return Call([d.arr(shape)], kw={"offset": d.int(-2, 2), "axis1": a1, "axis2": a2})


add(np.diagonal, _diagonal, torch=lambda T, c, x: T.diagonal(
    x, c.kw["offset"], c.kw["axis1"], c.kw["axis2"]))
add(np.trace, _diagonal, torch=lambda T, c, x: T.diagonal(
    x, c.kw["offset"], c.kw["axis1"], c.kw["axis2"]).sum(-1))


def _la_diag(d):
    shape = d.shape(min_nd=2, empty=True)
    return Call([d.arr(shape)], kw={"offset": d.int(-2, 2)})


add(np.linalg.diagonal, _la_diag, torch=lambda T, c, x: T.diagonal(x, c.kw["offset"], -2, -1))
add(np.linalg.trace, _la_diag, torch=lambda T, c, x: T.diagonal(
    x, c.kw["offset"], -2, -1).sum(-1))
add(np.diag, one(lambda d, s: {"k": d.int(-2, 2)}, min_nd=1, max_nd=2),
    torch=lambda T, c, x: T.diag(x, c.kw["k"]))
add(np.diagflat, one(lambda d, s: {"k": d.int(-2, 2)}, max_nd=2),
    torch=lambda T, c, x: T.diagflat(x, c.kw["k"]))
add(np.tril, one(lambda d, s: {"k": d.int(-2, 2)}, min_nd=2),
    torch=lambda T, c, x: T.tril(x, c.kw["k"]))
add(np.triu, one(lambda d, s: {"k": d.int(-2, 2)}, min_nd=2),
    torch=lambda T, c, x: T.triu(x, c.kw["k"]))


def _select(d):
    shape = d.shape(empty=True)
    k = d.int(1, 3)
    conds = [d.rng.random(shape) < 0.4 for _ in range(k)]
    arrays = [d.arr(shape) for _ in range(k)]
    if d.flag("array default"):
        arrays.append(d.arr(shape))
        return Call(arrays, apply=lambda fn, *a: fn(conds, list(a[:-1]), a[-1]))
    return Call(arrays, apply=lambda fn, *a: fn(conds, list(a), 0.5))


add(np.select, _select)


def _take(d):
    shape = d.shape(min_nd=1)
    if d.flag("axis"):
        ax = d.int(-len(shape), len(shape) - 1)
        idx = d.rng.integers(-shape[ax], shape[ax], size=d.pick([(), (3,), (2, 2)]))
        return Call([d.arr(shape)], apply=lambda fn, a: fn(a, idx, axis=ax))
    n = int(np.prod(shape))
    idx = d.rng.integers(-n, n, size=d.pick([(), (4,), (2, 1)]))
    return Call([d.arr(shape)], apply=lambda fn, a: fn(a, idx))


add(np.take, _take)


def _take_along(d):
    shape = d.shape(min_nd=1)
    ax = d.int(-len(shape), len(shape) - 1)
    ishape = list(shape)
    ishape[ax] = d.int(1, 4)
    idx = d.rng.integers(0, shape[ax], size=ishape)
    return Call([d.arr(shape)], apply=lambda fn, a: fn(a, idx, axis=ax), ax=ax, idx=idx)


add(np.take_along_axis, _take_along, torch=lambda T, c, x: T.take_along_dim(
    x, T.as_tensor(c.p["idx"]), dim=c.p["ax"]))


def _sort(d):
    shape = d.shape(empty=True)
    kw = {"axis": d.pick([None] + list(range(-len(shape), len(shape))))} if shape else \
        {"axis": None}
    return Call([d.arr(shape)], kw=kw)


add(np.sort, _sort)


def _partition(d):
    shape = d.shape(min_nd=1)
    ax = d.int(-len(shape), len(shape) - 1)
    kth = d.int(-shape[ax], shape[ax] - 1)
    # only the kth entry is well defined: compare it (the rest is an unspecified order)
    return Call([d.arr(shape)], apply=lambda fn, a: cnp.take(fn(a, kth, axis=ax), [kth], axis=ax))


add(np.partition, _partition)


def _insert(d):
    shape = d.shape(min_nd=1)
    if d.flag("axis"):
        ax = d.int(-len(shape), len(shape) - 1)
        pos = d.int(0, shape[ax])
        vs = list(shape)
        vs[ax] = 1
        return Call([d.arr(shape), d.arr(tuple(vs))], apply=lambda fn, a, v: fn(a, [pos], v,
                                                                                axis=ax))
    n = int(np.prod(shape))
    pos = sorted(d.rng.integers(0, n + 1, size=2).tolist())
    return Call([d.arr(shape), d.arr((2,))], apply=lambda fn, a, v: fn(a, pos, v))


add(np.insert, _insert)


def _choose(d):
    shape = d.shape()
    k = d.int(1, 3)
    idx = d.rng.integers(0, k, size=shape)
    return Call([d.arr(shape) for _ in range(k)], apply=lambda fn, *c: fn(idx, list(c)))


add(np.choose, _choose)


def _resize(d):
    shape = d.shape(min_nd=1)
    new = d.shape(max_size=16)
    return Call([d.arr(shape)], apply=lambda fn, a: fn(a, new))


add(np.resize, _resize)


def _block(d):
    r, c1, c2 = d.int(1, 2), d.int(1, 2), d.int(1, 2)
    r2 = d.int(1, 2)
    arrays = [d.arr((r, c1)), d.arr((r, c2)), d.arr((r2, c1 + c2))]
    return Call(arrays, apply=lambda fn, a, b, c: fn([[a, b], [c]]))


add(np.block, _block)


def _unwrap(d):
    shape = d.shape(min_nd=1)
    # steps between neighbours far from the discontinuity threshold pi
    x = np.cumsum(d.arr(shape, [(-5.5, -3.8), (-2.5, 2.5), (3.8, 5.5)]), axis=-1)
    return Call([x], kw={"axis": -1})


add(np.unwrap, _unwrap)
add(np.sort_complex, one(lambda d, s: {}, min_nd=1, max_nd=1))


def _vander(d):
    n = d.int(1, 4)
    kw = {"N": d.pick([None, 1, 3])}
    if d.flag("increasing"):
        kw["increasing"] = True
    return Call([d.arr((n,))], kw=kw)


add(np.vander, _vander)


def _apply_along(d):
    shape = d.shape(min_nd=1)
    ax = d.int(-len(shape), len(shape) - 1)
    fn1 = d.pick(["cumsum", "sum", "outer"])
    f1 = {"cumsum": lambda v: cnp.cumsum(v * v), "sum": lambda v: cnp.sum(cnp.sin(v)),
          "outer": lambda v: cnp.outer(v, v)}[fn1]
    return Call([d.arr(shape)], apply=lambda fn, a: fn(f1, ax, a))


add(np.apply_along_axis, _apply_along)


def _apply_over(d):
    shape = d.shape(min_nd=1)
    axes = list(d.data.draw(st.permutations(range(len(shape)))))[:d.int(1, len(shape))]
    return Call([d.arr(shape)], apply=lambda fn, a: fn(cnp.sum, a, axes))


add(np.apply_over_axes, _apply_over)


def _trim(d):
    """The zeros are fixed (moving one off 0 changes the length): only the core is varied."""
    n = d.int(1, 6)
    x = d.arr((n,), [(-2, -0.2), (0.2, 2)])
    lead, trail = np.zeros(d.int(0, 2)), np.zeros(d.int(0, 2))
    trim = d.pick(["fb", "f", "b"])
    return Call([x], apply=lambda fn, core: fn(cnp.concatenate([lead, core, trail]), trim))


add(np.trim_zeros, _trim)


def spaced(name):
    def gen(d):
        shape = d.shape(max_nd=1, max_size=3)
        num = d.int(0, 5)
        kw = {"num": num, "endpoint": d.flag("endpoint")}
        if shape and d.flag("axis"):
            kw["axis"] = d.pick([0, -1])
        dom = (0.3, 2.0) if name == "geomspace" else (-2.0, 2.0)
        if name == "geomspace" and d.flag("negative"):
            dom = (-2.0, -0.3)
        if name == "logspace" and d.flag("base"):
            kw["base"] = 2.0
        return Call([d.arr(shape, dom), d.arr(shape, dom)], kw=kw)
    return gen


for _n in ("linspace", "logspace", "geomspace"):
    add(getattr(np, _n), spaced(_n))
add(np.linspace, spaced("linspace"), torch=None)


def _nan_to_num(d):
    shape = d.shape(empty=True)
    x = d.arr(shape)
    mask = d.rng.random(shape) < 0.3
    x[mask] = np.array([np.nan, np.inf, -np.inf])[d.rng.integers(0, 3, size=int(mask.sum()))]
    # finite replacements: the default ones (+-1.8e308) leave no room for differences
    return Call([x], kw={"nan": 0.5, "posinf": 7.0, "neginf": -7.0} if d.flag("values") else
                {"posinf": 5.0, "neginf": -5.0})


add(np.nan_to_num, _nan_to_num, nan_inputs=True)
add(np.real_if_close, one(lambda d, s: {}, cplx=False))


def _full(d):
    shape = d.shape()
    return Call([d.arr(d.pick([(), shape[-1:]]))], apply=lambda fn, v: fn(shape, v))


add(np.full, _full)


def _full_like(d):
    shape = d.shape()
    proto = np.zeros(shape)
    return Call([d.arr(d.pick([(), shape[-1:]]))], apply=lambda fn, v: fn(proto, v))


add(np.full_like, _full_like)


def _broadcast_arrays(d):
    shapes = d.bshapes(d.int(1, 3))
    return Call([d.arr(s) for s in shapes])


add(np.broadcast_arrays, _broadcast_arrays,
    torch=lambda T, c, *xs: T.broadcast_tensors(*xs))
add(np.matrix_transpose if hasattr(np, "matrix_transpose") else np.linalg.matrix_transpose,
    one(lambda d, s: {}, min_nd=2), torch=lambda T, c, x: x.mT)
add(np.linalg.matrix_transpose, one(lambda d, s: {}, min_nd=2), torch=lambda T, c, x: x.mT)

# ----- products -------------------------------------------------------------------------------


def _matmul(d):
    kind = d.pick(["vv", "mv", "vm", "mm", "batched"], "kind")
    n, m, k = d.int(1, 3), d.int(1, 3), d.int(1, 3)
    cplx = d.int(0, 3, "complex?") == 0
    s = {"vv": ((n,), (n,)), "mv": ((m, n), (n,)), "vm": ((n,), (n, k)),
         "mm": ((m, n), (n, k))}.get(kind)
    if s is None:
        b1, b2 = d.bshapes(2, max_nd=2)
        s = (b1 + (m, n), b2 + (n, k))
    return Call([d.arr(s[0], cplx=cplx), d.arr(s[1], cplx=cplx)])


add([np.matmul, np.linalg.matmul], _matmul, torch=lambda T, c, a, b: T.matmul(a, b))


def _dot(d):
    kind = d.pick(["scalar", "vv", "mv", "mm", "nd"], "kind")
    n = d.int(1, 3)
    if kind == "scalar":
        return Call([d.arr(()), d.arr(d.shape())])
    if kind == "nd":
        return Call([d.arr((d.int(1, 2), d.int(1, 2), n)), d.arr((d.int(1, 2), n, d.int(1, 2)))])
    s = {"vv": ((n,), (n,)), "mv": ((2, n), (n,)), "mm": ((2, n), (n, 3))}[kind]
    return Call([d.arr(s[0]), d.arr(s[1])])


add(np.dot, _dot)


def _inner(d):
    n = d.int(1, 3)
    s1 = d.shape(max_nd=2, max_size=4) if d.flag("scalar?") else ()
    return Call([d.arr(d.shape(max_nd=2) + (n,)), d.arr(d.shape(max_nd=1) + (n,))]) \
        if d.flag("nd") else Call([d.arr(s1), d.arr(())])


add(np.inner, _inner)


def _outer(d):
    c = d.int(0, 3, "complex?") == 0
    return Call([d.arr(d.shape(max_nd=2, empty=True), cplx=c), d.arr(d.shape(max_nd=2), cplx=c)])


add(np.outer, _outer, torch=lambda T, c, a, b: T.outer(a.reshape(-1), b.reshape(-1)))


def _outer_vec(d):
    return Call([d.arr((d.int(1, 3),)), d.arr((d.int(1, 3),))])


add(np.linalg.outer, _outer_vec, torch=lambda T, c, a, b: T.outer(a, b))


def _tensordot(d):
    k = d.int(0, 2, "contracted axes")
    common = tuple(d.int(1, 3) for _ in range(k))
    a = tuple(d.int(1, 2) for _ in range(d.int(0, 2))) + common
    b = common + tuple(d.int(1, 2) for _ in range(d.int(0, 2)))
    if d.flag("explicit axes") and k:
        perm = list(d.data.draw(st.permutations(range(len(b)))))
        b2 = tuple(b[p] for p in perm)
        axes = (list(range(len(a) - k, len(a))), [perm.index(j) for j in range(k)])
        return Call([d.arr(a), d.arr(b2)], kw={"axes": axes})
    return Call([d.arr(a), d.arr(b)], kw={"axes": k})


add([np.tensordot, np.linalg.tensordot], _tensordot,
    torch=lambda T, c, a, b: T.tensordot(a, b, dims=c.kw["axes"]))


def _vdot(d):
    c = d.flag("complex")
    s = d.shape(min_nd=1)
    return Call([d.arr(s, cplx=c), d.arr(s, cplx=c)])


add(np.vdot, _vdot)


def _vecdot(d):
    n = d.int(1, 3)
    s1, s2 = d.bshapes(2, max_nd=2)
    c = d.flag("complex")
    return Call([d.arr(s1 + (n,), cplx=c), d.arr(s2 + (n,), cplx=c)])


if hasattr(np, "vecdot"):
    add(np.vecdot, _vecdot, torch=lambda T, c, a, b: T.linalg.vecdot(a, b))
add(np.linalg.vecdot, _vecdot, torch=lambda T, c, a, b: T.linalg.vecdot(a, b))


def _cross(d):
    k = d.pick([2, 3])
    s1, s2 = d.bshapes(2, max_nd=2)
    if k == 2:
        return Call([d.arr(s1 + (2,)), d.arr(s2 + (2,))])
    return Call([d.arr(s1 + (3,)), d.arr(s2 + (3,))])


def _cross3(d):
    s1, s2 = d.bshapes(2, max_nd=2)
    return Call([d.arr(s1 + (3,)), d.arr(s2 + (3,))])


add(np.cross, _cross)
add(np.linalg.cross, _cross3, torch=lambda T, c, a, b: T.linalg.cross(*T.broadcast_tensors(a, b)))


def _kron(d):
    return Call([d.arr(d.shape(max_size=6)), d.arr(d.shape(max_size=6))])


add(np.kron, _kron)

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("ii->", [(3, 3)]), ("ii->i", [(3, 3)]),
    ("ij->ji", [(2, 3)]), ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]), ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]), ("ij", [(2, 3)]),
    ("ij,ij,ij->", [(2, 2), (2, 2), (2, 2)]), ("i...->...", [(2, 3, 2)]),
    ("iij->j", [(2, 2, 3)]), ("ijk,jil->kl", [(2, 3, 2), (3, 2, 2)]), ("i,->i", [(3,), ()]),
]


def _einsum(d):
    sub, shapes = d.pick(EINSUMS, "subscripts")
    c = d.int(0, 3, "complex?") == 0
    return Call([d.arr(s, cplx=c) for s in shapes], apply=lambda fn, *a: fn(sub, *a), sub=sub)


add(np.einsum, _einsum, torch=lambda T, c, *a: T.einsum(c.p["sub"], *a))


def _multi_dot(d):
    k = d.int(2, 4)
    dims = [d.int(1, 3) for _ in range(k + 1)]
    shapes = [(dims[i], dims[i + 1]) for i in range(k)]
    if d.flag("vector ends"):
        shapes[0] = shapes[0][1:]
    return Call([d.arr(s) for s in shapes], apply=lambda fn, *a: fn(list(a)))


add(np.linalg.multi_dot, _multi_dot, torch=lambda T, c, *a: T.linalg.multi_dot(list(a)))

# ----- np.linalg --------------------------------------------------------------------------------


def square(kind="general", batch=True, cplx=False, n_max=3, n_min=1):
    """Square matrices, optionally batched: general (well conditioned), spd, symmetric."""
    def gen(d):
        n = d.int(n_min, n_max, "n")
        b = d.pick([(), (2,), (1,)] if batch else [()], "batch")
        c = cplx and d.int(0, 2, "complex?") == 0
        a = d.arr(b + (n, n), cplx=c)
        if kind == "general":
            a = a + 3.0 * np.eye(n)
        elif kind == "spd":
            a = a @ np.swapaxes(a.conj(), -1, -2) + n * np.eye(n)
        elif kind == "symmetric":  # spread eigenvalues: diagonal 0, 3, 6... plus a perturbation
            a = 0.3 * (a + np.swapaxes(a.conj(), -1, -2)) + np.diag(3.0 * np.arange(n))
        return Call([a])
    return gen


add(np.linalg.inv, square(cplx=True), torch=lambda T, c, a: T.linalg.inv(a))
add(np.linalg.det, square(cplx=True), torch=lambda T, c, a: T.linalg.det(a))
add(np.linalg.slogdet, square(), torch=lambda T, c, a: tuple(T.linalg.slogdet(a)),
    post=lambda r: r[1])
def sym_to_triangle(g, call):
    """torch's gradient for a symmetric input (G symmetric) -> the derivative in each entry of
    the triangle NumPy reads (the other triangle's derivative is 0): 2 G_ij off the diagonal."""
    lower = call.kw.get("UPLO", "L") == "L"
    tri = np.tril if lower else np.triu
    gt = np.swapaxes(g, -1, -2)
    return tri(g + gt) - np.eye(g.shape[-1]) * g


add(np.linalg.cholesky, square("spd"), torch=lambda T, c, a: T.linalg.cholesky(a),
    tgrad=sym_to_triangle)


def _solve(d):
    c = square()(d)
    a = c.arrays[0]
    n = a.shape[-1]
    if d.flag("matrix rhs") or a.ndim > 2:
        b = d.arr(a.shape[:-1] + (d.int(1, 2),))
    else:
        b = d.arr((n,))
    return Call([a, b])


add(np.linalg.solve, _solve, torch=lambda T, c, a, b: T.linalg.solve(a, b))


def _eigh(d):
    c = square("symmetric", cplx=False)(d)
    if d.flag("UPLO"):
        c.kw["UPLO"] = "U"
        # the unread triangle may be anything: that of a different matrix
    return c


def _gauge(r):
    w, v = r[0], r[1]
    return w, v * v


add(np.linalg.eigh, _eigh, post=_gauge, tgrad=sym_to_triangle,
    torch=lambda T, c, a: tuple(T.linalg.eigh(a, UPLO=c.kw.get("UPLO", "L"))))
add(np.linalg.eigvalsh, _eigh, tgrad=sym_to_triangle,
    torch=lambda T, c, a: T.linalg.eigvalsh(a, UPLO=c.kw.get("UPLO", "L")))


def _eig_gauge(r):
    w, v = r[0], r[1]
    vv = v * v
    return w, vv / cnp.sum(vv, axis=-2, keepdims=True)


def _eig_input(d):
    n = d.int(1, 3)
    b = d.pick([(), (2,)])
    # distinct eigenvalues: a well separated diagonal plus a small perturbation
    a = np.diag(np.arange(n) * 2.0 + 1.0) + 0.3 * d.arr(b + (n, n))
    return Call([a])


add(np.linalg.eig, _eig_input, post=_eig_gauge)
add(np.linalg.eigvals, _eig_input, torch=lambda T, c, a: T.linalg.eigvals(a))


def _svd_in(d):
    m, n = d.int(1, 3), d.int(1, 3)
    b = d.pick([(), (2,)])
    k = min(m, n)
    # distinct singular values
    u, _ = np.linalg.qr(d.arr(b + (m, m)))
    v, _ = np.linalg.qr(d.arr(b + (n, n)))
    s = np.zeros(b + (m, n))
    for i in range(k):
        s[..., i, i] = 1.0 + 1.5 * i + 0.2 * d.rng.random()
    return Call([u @ s @ v], kw={"full_matrices": False})


def _svd_post(r):
    u, s, vh = r[0], r[1], r[2]
    return s, u * u, vh * vh


add(np.linalg.svd, _svd_in, post=_svd_post,
    torch=lambda T, c, a: tuple(T.linalg.svd(a, full_matrices=False)))
add(np.linalg.svdvals if hasattr(np.linalg, "svdvals") else np.linalg.svd,
    lambda d: Call(_svd_in(d).arrays), torch=lambda T, c, a: T.linalg.svdvals(a))


def _pinv(d):
    c = _svd_in(d)
    return Call(c.arrays)


add(np.linalg.pinv, _pinv, torch=lambda T, c, a: T.linalg.pinv(a))


def _qr(d):
    m, n = d.int(1, 4), d.int(1, 3)
    m = max(m, n)  # reduced QR of a tall (or square) full-rank matrix
    a = d.arr((m, n)) + np.eye(m, n) * 2.0
    return Call([a], kw={"mode": d.pick(["reduced", "r"])})


add(np.linalg.qr, _qr, torch=lambda T, c, a: None  # torch cannot differentiate mode='r'
    if c.kw["mode"] == "r" else tuple(T.linalg.qr(a)))


def _norm(d):
    kind = d.pick(["vector", "matrix", "default"], "norm kind")
    c = d.int(0, 3, "complex?") == 0
    if kind == "default":
        s = d.shape(empty=False)
        return Call([d.arr(s, [(-2, -0.2), (0.2, 2)], c)], kw={})
    if kind == "vector":
        s = d.shape(min_nd=1)
        ax = d.int(-len(s), len(s) - 1)
        o = d.pick([None, 1, 2, 3, np.inf, -np.inf, 0.5, -1])
        kw = {"ord": o, "axis": ax}
    else:
        s = d.shape(min_nd=2, min_len=2) if d.flag("batched") else (d.int(2, 3), d.int(1, 3))
        o = d.pick([None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
        kw = {"ord": o, "axis": (-2, -1) if len(s) > 2 or d.flag("axis") else None}
        if kw["axis"] is None:
            s = s[:2]
    if d.flag("keepdims"):
        kw["keepdims"] = True
    x = d.arr(s, [(-2, -0.2), (0.2, 2)], c)
    if kind == "matrix" and o in (2, -2, "nuc"):  # distinct singular values
        x = x + np.eye(*x.shape[-2:]) * 2.0
    return Call([x], kw=kw)


def _t_norm(T, c, x):
    kw = c.kw
    if kw.get("ord") == "fro" or (kw.get("ord") is None and kw.get("axis") is None):
        return T.linalg.norm(x.reshape(-1) if kw.get("axis") is None and "ord" not in kw else x,
                             ord=kw.get("ord"), dim=kw.get("axis"),
                             keepdim=kw.get("keepdims", False))
    return T.linalg.norm(x, ord=kw.get("ord"), dim=kw.get("axis"),
                         keepdim=kw.get("keepdims", False))


add(np.linalg.norm, _norm)


def _vector_norm(d):
    s = d.shape(empty=False)
    c = d.int(0, 3, "complex?") == 0
    kw = {"ord": d.pick([2, 1, 3, np.inf, -np.inf, 0.5]), "axis": d.axis_kw(len(s))}
    if d.flag("keepdims"):
        kw["keepdims"] = True
    return Call([d.arr(s, [(-2, -0.2), (0.2, 2)], c)], kw=kw)


# (torch reads dim=() as every axis, NumPy as none)
add(np.linalg.vector_norm, _vector_norm,
    torch=lambda T, c, x: None if c.kw["axis"] == () else T.linalg.vector_norm(
        x, ord=c.kw["ord"], dim=c.kw["axis"], keepdim=c.kw.get("keepdims", False)))


def _matrix_norm(d):
    s = d.pick([(), (2,)]) + (d.int(2, 3), d.int(1, 3))
    o = d.pick(["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
    x = d.arr(s, [(-2, -0.2), (0.2, 2)])
    if o in (2, -2, "nuc"):
        x = x + np.eye(*s[-2:]) * 2.0
    kw = {"ord": o}
    if d.flag("keepdims"):
        kw["keepdims"] = True
    return Call([x], kw=kw)


add(np.linalg.matrix_norm, _matrix_norm,
    torch=lambda T, c, x: T.linalg.matrix_norm(x, ord=c.kw["ord"],
                                               keepdim=c.kw.get("keepdims", False)))


def _cond(d):
    c = _svd_in(d)
    a = c.arrays[0]
    o = d.pick([None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf]) \
        if a.shape[-1] == a.shape[-2] else d.pick([None, 2, -2])
    return Call([a], kw={} if o is None else {"p": o})


# torch.linalg.cond's backward fails for the other p (an in-place error inside torch)
add(np.linalg.cond, _cond, torch=lambda T, c, a: T.linalg.cond(a, p=c.kw.get("p"))
    if c.kw.get("p") in (None, 2, -2) else None)


def _matrix_power(d):
    c = square()(d)
    k = d.int(-2, 4)
    return Call(c.arrays, apply=lambda fn, a: fn(a, k), k=k)


add(np.linalg.matrix_power, _matrix_power,
    torch=lambda T, c, a: T.linalg.matrix_power(a, c.p["k"]))


def _lstsq(d):
    m, n = d.int(2, 4), d.int(1, 3)
    m = max(m, n + 1)
    a = d.arr((m, n)) + 2.0 * np.eye(m, n)
    b = d.arr((m,) if d.flag("vector") else (m, 2))
    return Call([a, b], kw={"rcond": None})


def _t_lstsq(T, c, a, b):
    x = T.linalg.lstsq(a, b).solution
    return x, T.sum((a @ x - b) ** 2, dim=0).reshape(-1)


add(np.linalg.lstsq, _lstsq, torch=_t_lstsq, post=lambda r: (r[0], r[1]))


def _tensorinv(d):
    n1, n2 = d.pick([(2, 2), (1, 2), (2, 1), (3, 1)])
    a = (d.arr((n1 * n2, n1 * n2)) + 3 * np.eye(n1 * n2)).reshape(n1, n2, n1 * n2)
    return Call([a], kw={"ind": 2})


add(np.linalg.tensorinv, _tensorinv, torch=lambda T, c, a: T.linalg.tensorinv(a, ind=2))


def _tensorsolve(d):
    n1, n2 = d.pick([(2, 2), (1, 2), (3, 1)])
    a = (d.arr((n1 * n2, n1 * n2)) + 3 * np.eye(n1 * n2)).reshape(n1 * n2, n1, n2)
    return Call([a, d.arr((n1 * n2,))])


add(np.linalg.tensorsolve, _tensorsolve, torch=lambda T, c, a, b: T.linalg.tensorsolve(a, b))

# ----- np.fft -------------------------------------------------------------------------------------


def ffted(name):
    def gen(d):
        real_in = name.startswith("r") or name == "ihfft"
        nd_kind = "1" if name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft") else \
            ("2" if name.endswith("2") else "n")
        s = d.shape(min_nd=1 if nd_kind != "2" else 2, max_size=12,
                    min_len=2 if name.startswith("irfft") else 1)
        c = not real_in and (d.flag("complex") or name in ("irfft", "irfft2", "irfftn", "hfft"))
        kw = {}
        if nd_kind == "1":
            ax = d.int(-len(s), len(s) - 1)
            kw["axis"] = ax
            if d.flag("n"):
                kw["n"] = d.int(1, 5)
            elif name in ("irfft", "hfft"):
                kw["n"] = 2 * (s[ax] - 1) + d.int(0, 1) if s[ax] > 1 else 1
        else:
            if name.endswith("n") and d.flag("axes"):
                k = d.int(1, len(s))
                kw["axes"] = tuple(sorted(d.data.draw(st.permutations(range(len(s))))[:k]))
            if d.flag("s"):
                nax = len(kw.get("axes", (0, 1) if nd_kind == "2" else range(len(s))))
                if nd_kind == "2":
                    kw["axes"] = (-2, -1)
                elif "axes" not in kw:
                    kw["axes"] = tuple(range(len(s)))
                kw["s"] = tuple(d.int(1, 4) for _ in range(nax))
        norm = d.pick([None, "ortho", "forward", "backward"])
        if norm:
            kw["norm"] = norm
        return Call([d.arr(s, cplx=c)], kw=kw)
    return gen


def _t_fft(name):
    def f(T, c, x):
        kw = dict(c.kw)
        tk = {}
        if "n" in kw:
            tk["n"] = kw["n"]
        if "axis" in kw:
            tk["dim"] = kw["axis"]
        if "axes" in kw:
            tk["dim"] = kw["axes"]
        if "s" in kw:
            tk["s"] = kw["s"]
        if "norm" in kw:
            tk["norm"] = kw["norm"]
        if name.endswith("2") and "dim" not in tk:
            tk["dim"] = (-2, -1)
        return getattr(T.fft, name)(x, **tk)
    return f


for _n in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
           "rfftn", "irfftn", "hfft", "ihfft"):
    add(getattr(np.fft, _n), ffted(_n), torch=_t_fft(_n))


def _shift(d):
    s = d.shape(empty=True, min_nd=1)
    c = d.flag("complex")
    return Call([d.arr(s, cplx=c)], kw={"axes": d.axis_kw(len(s))})


add(np.fft.fftshift, _shift, torch=lambda T, c, x: T.fft.fftshift(x, dim=c.kw["axes"])
    if c.kw["axes"] != () else None)
add(np.fft.ifftshift, _shift, torch=lambda T, c, x: T.fft.ifftshift(x, dim=c.kw["axes"])
    if c.kw["axes"] != () else None)


def _freq(d):
    n = d.int(1, 6)
    return Call([d.arr((), (0.2, 2.0))], apply=lambda fn, h: fn(n, h))


add(np.fft.fftfreq, _freq)
add(np.fft.rfftfreq, _freq)

# ----- chainrule.scipy.special -----------------------------------------------------------------

NEG_GAMMA = [(-2.7, -2.3), (-1.7, -1.3), (-0.7, -0.3), (0.3, 4.0)]


def sp_unary(dom, cplx=None):
    return unary(dom, cplx)


def sp_binary(dom1, dom2):
    return binary(dom1, dom2)


def sp_ternary(d1, d2, d3):
    def gen(d):
        s = d.bshapes(3, empty=True)
        return Call([d.arr(s[0], d1), d.arr(s[1], d2), d.arr(s[2], d3)])
    return gen


def with_order(orders, dom):
    """f(n, x): the order n a plain value (it has no derivative), x drawn in ``dom``."""
    def gen(d):
        n = d.pick(orders, "order")
        return Call([d.arr(d.shape(empty=True), dom)], apply=lambda fn, x: fn(n, x), n=n)
    return gen


def TS(name, pre=False):
    """torch.special.<name> (pre: the order first, from call.p['n']); real inputs only."""
    def f(T, c, *xs):
        if any(x.is_complex() for x in xs):
            return None
        fn = getattr(T.special, name)
        return fn(c.p["n"], *xs) if pre else fn(*xs)
    return f


SP = "special."
for _n, _dom, _cd, _t in [
        ("gamma", NEG_GAMMA, None, None), ("gammaln", (0.3, 4.0), None, "gammaln"),
        ("digamma", (0.3, 4.0), None, "digamma"), ("psi", (0.3, 4.0), None, "psi"),
        ("rgamma", NEG_GAMMA, None, None),
        ("erf", (-2, 2), (-1, 1), "erf"), ("erfc", (-2, 2), (-1, 1), "erfc"),
        ("erfinv", (-0.9, 0.9), None, "erfinv"), ("erfcinv", (0.1, 1.9), None, None),
        ("erfcx", (-1, 3), None, "erfcx"), ("ndtr", (-3, 3), None, "ndtr"),
        ("ndtri", (0.05, 0.95), None, "ndtri"), ("log_ndtr", (-5, 3), None, "log_ndtr"),
        ("expit", (-4, 4), None, "expit"), ("logit", (0.05, 0.95), None, "logit"),
        ("log_expit", (-4, 4), None, None), ("entr", (0.1, 3), None, "entr"),
        ("expm1", (-2, 2), (-1, 1), "expm1"), ("log1p", (-0.8, 3), (0.1, 1), "log1p"),
        ("exp2", (-2, 2), None, "exp2"), ("exp10", (-1, 1), None, None),
        ("cbrt", [(-3, -0.2), (0.2, 3)], None, None),
        ("i0", (-3, 3), None, "i0"), ("i1", (-3, 3), None, "i1"), ("i0e", (-3, 3), None, "i0e"),
        ("i1e", (-3, 3), None, "i1e"), ("j0", (-5, 5), None, None), ("j1", (-5, 5), None, None),
        ("y0", (0.5, 5), None, None), ("y1", (0.5, 5), None, None),
        ("k0", (0.2, 3), None, None), ("k1", (0.2, 3), None, None),
        ("erfi", (-2, 2), None, None), ("dawsn", (-3, 3), None, None),
        ("ndtri_exp", (-3, -0.1), None, None), ("loggamma", (0.3, 4.0), None, None),
        ("softplus", (-3, 3), None, None), ("exp1", (0.2, 3), None, None),
        ("expi", [(-3, -0.2), (0.2, 3)], None, None), ("wrightomega", (-2, 2), None, None),
        ("lambertw", (-0.3, 3), None, None)]:
    add(SP + _n, sp_unary(_dom, _cd), torch=TS(_t) if _t else None)

CASES[SP + "erfcinv"].torch = lambda T, c, x: T.erfinv(1 - x)
CASES[SP + "log_expit"].torch = lambda T, c, x: T.nn.functional.logsigmoid(x)
CASES[SP + "softplus"].torch = lambda T, c, x: T.nn.functional.softplus(x)
CASES[SP + "exp10"].torch = lambda T, c, x: T.pow(10.0, x)
CASES[SP + "gamma"].torch = None

for _n, _d1, _d2, _t, _tdiff in [
        ("gammainc", (0.5, 3), (0.2, 4), "gammainc", (1,)),
        ("gammaincc", (0.5, 3), (0.2, 4), "gammaincc", (1,)),
        ("beta", (0.5, 3), (0.5, 3), None, None), ("betaln", (0.5, 3), (0.5, 3), None, None),
        ("xlogy", (-2, 2), (0.2, 3), "xlogy", None),
        ("xlog1py", (-2, 2), (-0.8, 3), "xlog1py", None),
        ("rel_entr", (0.1, 3), (0.1, 3), None, None), ("kl_div", (0.1, 3), (0.1, 3), None, None),
        ("gammaincinv", (0.5, 3), (0.1, 0.9), None, None),
        ("gammainccinv", (0.5, 3), (0.1, 0.9), None, None),
        ("owens_t", (-2, 2), (-2, 2), None, None)]:
    add(SP + _n, sp_binary(_d1, _d2), torch=TS(_t) if _t else None, tdiff=_tdiff)

for _n in ("betainc", "betaincinv", "betainccinv"):
    add(SP + _n, sp_ternary((0.5, 3), (0.5, 3), (0.1, 0.9)))
add(SP + "polygamma", with_order([0, 1, 2], (0.5, 3)), torch=TS("polygamma", pre=True))
add(SP + "jn", with_order([0, 1, 2, -1], (-5, 5)))
add(SP + "yn", with_order([0, 1, 2], (0.5, 5)))
add(SP + "expn", with_order([0, 1, 2, 3], (0.2, 3)))
for _n, _dom in [("iv", (0.2, 3)), ("ive", (0.2, 3)), ("jv", (0.2, 5)), ("yv", (0.5, 5)),
                 ("kv", (0.2, 3))]:
    add(SP + _n, with_order([0.0, 1.0, -1.5, 0.5, 2.3], _dom))


def _multigammaln(d):
    k = d.int(1, 3)
    return Call([d.arr(d.shape(empty=True), ((k - 1) / 2 + 0.3, 4.0))],
                apply=lambda fn, a: fn(a, k), n=k)


add(SP + "multigammaln", _multigammaln,
    torch=lambda T, c, a: T.special.multigammaln(a, c.p["n"]))


def _zeta(d):
    x = d.pick([2.0, 3.0, 4.5])
    return Call([d.arr(d.shape(empty=True), (0.5, 3.0))], apply=lambda fn, q: fn(x, q))


add(SP + "zeta", _zeta)


def _lse(d):
    c = reduction(tuples=True)(d)
    a = c.arrays[0]
    kw = dict(c.kw)
    if d.flag("return_sign"):
        kw["return_sign"] = True
    if d.flag("b"):
        b = d.arr(d.pick([a.shape, a.shape[-1:], ()]), [(-2, -0.3), (0.3, 2)]) \
            if kw.get("return_sign") else d.arr(a.shape, (0.3, 2))
        if kw.get("return_sign"):  # keep the weighted sum away from 0 (its sign's kink)
            b = np.abs(b) * d.pick([1.0, -1.0])
        return Call([a, b], apply=lambda fn, x, w: fn(x, b=w, **kw), kw=kw)
    return Call([a], kw=kw)


def _t_lse(T, c, x, *b):
    kw = c.kw
    dims = reduced(tuple(x.shape), kw.get("axis"))
    if b:
        raise NotImplementedError
    if x.ndim == 0 or not dims:
        r = x * 1.0
    else:
        r = T.logsumexp(x, dim=dims, keepdim=kw.get("keepdims", False))
    return (r, T.ones_like(r)) if kw.get("return_sign") else r


add(SP + "logsumexp", _lse, torch=lambda T, c, x, *b: _t_lse(T, c, x, *b) if not b else None)


def _softmax(d):
    s = d.shape(empty=False)
    return Call([d.arr(s)], kw={"axis": d.axis_kw(len(s))})


def _t_softmax(log):
    def f(T, c, x):
        ax = c.kw["axis"]
        if isinstance(ax, tuple) and len(ax) != 1 or ax is None and x.ndim != 1:
            return None
        ax = ax[0] if isinstance(ax, tuple) else (0 if ax is None else ax)
        return (T.log_softmax if log else T.softmax)(x, dim=ax)
    return f


add(SP + "softmax", _softmax, torch=_t_softmax(False))
add(SP + "log_softmax", _softmax, torch=_t_softmax(True))


def _arange(d):
    start, step = float(d.rng.uniform(-2, 2)), float(d.rng.uniform(0.4, 1.5))
    if d.flag("negative step"):
        step = -step
    # stop off the grid start + k * step, so small changes keep the count
    stop = start + (d.int(0, 4) + float(d.rng.uniform(0.2, 0.8))) * step
    if d.flag("two arguments"):
        step = 1.0
        stop = start + d.int(0, 4) + float(d.rng.uniform(0.2, 0.8))
        return Call([np.array(start), np.array(stop)])
    return Call([np.array(start), np.array(stop), np.array(step)])


add(np.arange, _arange, torch=lambda T, c, *a: a[0] + T.arange(
    len(np.arange(*[float(x.detach()) for x in a])), dtype=a[0].dtype) *
    (a[2] if len(a) == 3 else 1.0))

# ----- npextra (compositions dispatched for NumPy: convolve, interp, cov, poly*...) 


def _ediff1d(d):
    arrays = [d.arr(d.shape(empty=True))]
    which = d.pick(["none", "end", "begin", "both"])
    if which == "none":
        return Call(arrays)
    arrays += [d.arr((d.int(0, 2),)) for _ in range(2 if which == "both" else 1)]
    if which == "both":
        return Call(arrays, apply=lambda fn, a, e, b: fn(a, to_end=e, to_begin=b))
    key = "to_end" if which == "end" else "to_begin"
    return Call(arrays, apply=lambda fn, a, e: fn(a, **{key: e}))


add(np.ediff1d, _ediff1d)


def _convolve(d, correlate=False):
    c = d.flag("complex")
    a, v = d.arr((d.int(1, 5),), cplx=c), d.arr((d.int(1, 4),), cplx=c)
    mode = d.pick(["full", "same", "valid"])
    return Call([a, v], kw={"mode": mode})


add(np.convolve, _convolve)
add(np.correlate, lambda d: _convolve(d, True))


def _interp(d):
    n = d.int(2, 5)
    xp = np.cumsum(d.arr((n,), (0.5, 1.5)))
    # query points off the knots (kinks), some outside on either side
    cells = d.rng.integers(-1, n, size=d.int(0, 5))
    lo = np.concatenate([[xp[0] - 1.0], xp])[cells + 1]
    hi = np.concatenate([xp, [xp[-1] + 1.0]])[cells + 1]
    x = lo + (hi - lo) * d.rng.uniform(0.1, 0.9, size=cells.shape)
    fp = d.arr((n,))
    # xp has no derivative (a TypeError asks for plain values): it stays a constant
    if d.flag("left/right"):
        return Call([x, fp], apply=lambda fn, x, fp: fn(x, xp, fp, left=-3.0, right=3.0))
    return Call([x, fp], apply=lambda fn, x, fp: fn(x, xp, fp))


add(np.interp, _interp)


def _trapezoid(d):
    s = d.shape(min_nd=1)
    ax = d.int(-len(s), len(s) - 1)
    if d.flag("x"):
        return Call([d.arr(s), np.cumsum(d.arr(s, (0.2, 1.0)), axis=ax)], kw={"axis": ax})
    return Call([d.arr(s)], kw={"axis": ax, "dx": 0.7})


add(np.trapezoid if hasattr(np, "trapezoid") else np.trapz, _trapezoid,
    torch=lambda T, c, y, *x: T.trapezoid(y, x[0], dim=c.kw["axis"]) if x else
    T.trapezoid(y, dx=c.kw["dx"], dim=c.kw["axis"]))
add(np.polyval, lambda d: Call([d.arr((d.int(1, 4),)), d.arr(d.shape(empty=True))]))


def _cov(d):
    m = d.arr((d.int(1, 3), d.int(3, 5)))
    kw = {}
    if d.flag("bias"):
        kw["bias"] = True
    if d.flag("rowvar"):
        m = m.T.copy()
        kw["rowvar"] = False
    # (fweights/aweights are refused on Tensors: "no rule yet", a documented gap)
    if d.flag("y"):
        y = d.arr(m.shape)
        return Call([m, y], kw=kw)
    return Call([m], kw=kw)


add(np.cov, _cov)
add(np.corrcoef, lambda d: Call([d.arr((d.int(2, 3), d.int(3, 5)))]),
    torch=lambda T, c, x: T.corrcoef(x))


def _meshgrid(d):
    k = d.int(1, 3)
    return Call([d.arr((d.int(1, 3),)) for _ in range(k)],
                kw={"indexing": d.pick(["xy", "ij"]), "sparse": d.flag("sparse")})


add(np.meshgrid, _meshgrid)
if hasattr(np, "unstack"):
    add(np.unstack, one(lambda d, s: {"axis": d.int(-len(s), len(s) - 1)}, min_nd=1))


def _delete(d):
    s = d.shape(min_nd=1)
    if d.flag("axis"):
        ax = d.int(-len(s), len(s) - 1)
        obj = sorted(set(d.rng.integers(0, s[ax], size=d.int(0, 2)).tolist()))
        return Call([d.arr(s)], apply=lambda fn, a: fn(a, obj, axis=ax))
    n = int(np.prod(s))
    obj = d.pick([slice(0, None, 2), [0], [n - 1], []])
    return Call([d.arr(s)], apply=lambda fn, a: fn(a, obj))


add(np.delete, _delete)


def _compress(d):
    s = d.shape(min_nd=1)
    if d.flag("axis"):
        ax = d.int(-len(s), len(s) - 1)
        cond = d.rng.random(s[ax]) < 0.6
        return Call([d.arr(s)], apply=lambda fn, a: fn(cond, a, axis=ax))
    cond = d.rng.random(int(np.prod(s))) < 0.6
    return Call([d.arr(s)], apply=lambda fn, a: fn(cond, a))


add(np.compress, _compress)


def _extract(d):
    s = d.shape()
    cond = d.rng.random(s) < 0.6
    return Call([d.arr(s)], apply=lambda fn, a: fn(cond, a))


add(np.extract, _extract)


def _matvec(d, vm=False):
    n, m = d.int(1, 3), d.int(1, 3)
    b1, b2 = d.bshapes(2, max_nd=2)
    c = d.flag("complex")
    if vm:
        return Call([d.arr(b1 + (m,), cplx=c), d.arr(b2 + (m, n), cplx=c)])
    return Call([d.arr(b1 + (m, n), cplx=c), d.arr(b2 + (n,), cplx=c)])


if hasattr(np, "matvec"):
    add(np.matvec, _matvec, torch=lambda T, c, a, v: (a @ v.unsqueeze(-1)).squeeze(-1))
    add(np.vecmat, lambda d: _matvec(d, True),
        torch=lambda T, c, v, a: (v.conj().unsqueeze(-2) @ a).squeeze(-2))


def _poly2(d):
    return Call([d.arr((d.int(1, 4),)), d.arr((d.int(1, 4),))])


for _f in (np.polyadd, np.polysub, np.polymul):
    add(_f, _poly2)
def _polyder(d):
    n = d.int(1, 5)
    m = d.int(0, n + 1)  # past the degree too (test_bug_polyder_past_degree)
    return Call([d.arr((n,))], apply=lambda fn, p: fn(p, m))


add(np.polyder, _polyder)


def _polyint(d):
    m = d.int(0, 2)
    if m and d.flag("k"):
        return Call([d.arr((d.int(1, 4),)), d.arr((m,))], apply=lambda fn, p, k: fn(p, m, k))
    return Call([d.arr((d.int(1, 4),))], apply=lambda fn, p: fn(p, m))


add(np.polyint, _polyint)
add(np.poly, lambda d: Call([d.arr((d.int(1, 4),))]))


def _piecewise(d):
    s = d.shape(empty=True)
    x = d.arr(s, [(-2, -0.2), (0.2, 2)])
    conds = [x < 0, x >= 0]  # from the drawn values: fixed under small changes
    return Call([x], apply=lambda fn, x: fn(x, conds,
                                            [lambda v: v * v, lambda v: cnp.sin(v) + 1.0]))


add(np.piecewise, _piecewise)
add(np.ix_, lambda d: Call([d.arr((d.int(1, 3),)) for _ in range(d.int(1, 3))]))

# ----- more PyTorch oracles for cases above ----------------------------------------------------


def _t_quantile(scale, nan=False):
    def f(T, c, x):
        kw = c.kw
        ax = kw.get("axis")
        if isinstance(ax, tuple):
            if len(ax) != 1:
                return None
            ax = ax[0]
        q = T.as_tensor(c.p["q"] / scale, dtype=x.dtype)
        fn = T.nanquantile if nan else T.quantile
        return fn(x, q, dim=ax, keepdim=kw.get("keepdims", False), interpolation=kw["method"])
    return f


CASES[np.quantile].torch = _t_quantile(1.0)
CASES[np.percentile].torch = _t_quantile(100.0)
CASES[np.nanquantile].torch = _t_quantile(1.0, nan=True)
CASES[np.nanpercentile].torch = _t_quantile(100.0, nan=True)


def _t_median(nan=False):
    def f(T, c, x):
        ax = c.kw.get("axis")
        if isinstance(ax, tuple):
            if len(ax) != 1:
                return None
            ax = ax[0]
        fn = T.nanquantile if nan else T.quantile
        return fn(x, 0.5, dim=ax, keepdim=c.kw.get("keepdims", False))
    return f


CASES[np.median].torch = _t_median()
CASES[np.nanmedian].torch = _t_median(nan=True)
CASES[np.sort].torch = lambda T, c, x: (T.sort(x.reshape(-1)).values if c.kw.get("axis") is None
                                        else T.sort(x, dim=c.kw["axis"]).values)
CASES[np.flip].torch = lambda T, c, x: T.flip(x, dims=tuple(range(x.ndim)) if c.kw["axis"] is None
                                              else np.atleast_1d(c.kw["axis"]).tolist())
CASES[np.kron].torch = lambda T, c, a, b: T.kron(a, b)
CASES[np.inner].torch = lambda T, c, a, b: T.inner(a, b)
CASES[np.vdot].torch = lambda T, c, a, b: T.vdot(a.reshape(-1), b.reshape(-1))
CASES[np.tile].torch = lambda T, c, x: T.tile(x, c.p["reps"] if isinstance(c.p["reps"], tuple)
                                              else (c.p["reps"],))
CASES[np.cross].torch = lambda T, c, a, b: (T.linalg.cross(*T.broadcast_tensors(a, b))
                                            if a.shape[-1] == 3 and b.shape[-1] == 3 else None)
CASES[np.polyval].torch = None
CASES[np.nanprod].torch = lambda T, c, x: T_reduce(_t_prod)(T, c, T.nan_to_num(x, nan=1.0))

# ----- chainrule.scipy.linalg, .signal, .stats, .integrate ------------------------------------------
# keys: "linalg.<name>", "signal.<name>", "stats.<distribution>.<method>", "integrate.odeint"


def _tri(d):
    n = d.int(1, 3)
    lower = d.flag("lower")
    a = d.arr((n, n)) * 0.5 + 2.0 * np.eye(n)
    b = d.arr((n,) if d.flag("vector") else (n, 2))
    kw = {"lower": lower, "trans": d.pick([0, 1, "T"]), "unit_diagonal": d.flag("unit")}
    return Call([a, b], kw=kw)


add("linalg.solve_triangular", _tri)


def _banded(d):
    n, lo, up = d.int(1, 4), d.int(0, 2), d.int(0, 2)
    ab = d.arr((lo + up + 1, n)) * 0.3
    ab[up] = ab[up] + 3.0  # the diagonal row: diagonally dominant
    # the corners LAPACK never reads, fixed at 0 (their derivative is 0 either way)
    for i in range(up):
        ab[i, :up - i] = 0.0
    for i in range(lo):
        ab[up + 1 + i, n - 1 - i:] = 0.0
    mask = ab != 0
    b = d.arr((n,) if d.flag("vector") else (n, 2))
    return Call([ab[mask], b], apply=lambda fn, v, b: fn(
        (lo, up), cnp.zeros(ab.shape) + _scatter(v, mask), b))


def _scatter(v, mask):
    """An array of mask's shape holding v at the True entries (0 elsewhere), recorded."""
    idx = np.flatnonzero(mask)
    eye = np.zeros((mask.size, idx.size))
    eye[idx, np.arange(idx.size)] = 1.0
    return cnp.reshape(cnp.matmul(eye, v), mask.shape)


add("linalg.solve_banded", _banded)


def _sylvester(d):
    n, m = d.int(1, 3), d.int(1, 3)
    a = 2.0 * np.eye(n) + 0.3 * d.arr((n, n))
    b = 2.0 * np.eye(m) + 0.3 * d.arr((m, m))  # spectra of a and -b apart
    return Call([a, b, d.arr((n, m))])


add("linalg.solve_sylvester", _sylvester)


def _near_identity(scale=0.3, shift=2.0):
    def gen(d):
        n = d.int(1, 3)
        return Call([shift * np.eye(n) + scale * d.arr((n, n))])
    return gen


add("linalg.sqrtm", _near_identity(), torch=None)
add("linalg.expm", _near_identity(0.5, 0.0), torch=lambda T, c, a: T.linalg.matrix_exp(a))
add("linalg.inv", _near_identity(1.0, 3.0), torch=lambda T, c, a: T.linalg.inv(a))
add("linalg.det", _near_identity(1.0, 3.0), torch=lambda T, c, a: T.linalg.det(a))
add("linalg.pinv", lambda d: Call(_svd_in(d).arrays[:1]) if True else None)


def _sp_spd(d, extra=None):
    n = d.int(1, 3)
    a = d.arr((n, n))
    return n, a @ a.T + n * np.eye(n)


def _sp_cholesky(d):
    n, a = _sp_spd(d)
    return Call([a], kw={"lower": d.flag("lower")})


add("linalg.cholesky", _sp_cholesky)
add("linalg.cho_factor", lambda d: (lambda c: Call(c.arrays, apply=lambda fn, a: (
    cnp.tril(fn(a, **c.kw)[0]) if c.kw["lower"] else cnp.triu(fn(a, **c.kw)[0])), kw=c.kw))(
    _sp_cholesky(d)))


def _cho_solve(d):
    n, a = _sp_spd(d)
    lower = d.flag("lower")
    c = np.linalg.cholesky(a)
    c = c if lower else c.T.copy()
    b = d.arr((n,) if d.flag("vector") else (n, 2))
    # the factor's unread triangle: fixed zeros, only the factor's own entries vary
    tri = np.tril(np.ones((n, n), bool)) if lower else np.triu(np.ones((n, n), bool))
    return Call([c[tri], b], apply=lambda fn, v, b: fn((_scatter(v, tri), lower), b))


add("linalg.cho_solve", _cho_solve)


def _sp_solve(d):
    c = _near_identity(1.0, 3.0)(d)
    n = c.arrays[0].shape[0]
    return Call([c.arrays[0], d.arr((n,) if d.flag("vector") else (n, 2))])


add("linalg.solve", _sp_solve, torch=lambda T, c, a, b: T.linalg.solve(a, b))


def _sp_eigh(d):
    c = square("symmetric", batch=False)(d)
    return Call(c.arrays, kw={"lower": d.flag("lower")})


def _sp_sym_to_triangle(g, call):
    return sym_to_triangle(g, Call([], kw={"UPLO": "L" if call.kw["lower"] else "U"}))


add("linalg.eigh", _sp_eigh, post=_gauge, tgrad=_sp_sym_to_triangle,
    torch=lambda T, c, a: tuple(T.linalg.eigh(a, UPLO="L" if c.kw["lower"] else "U")))
add("linalg.eigvalsh", _sp_eigh, tgrad=_sp_sym_to_triangle,
    torch=lambda T, c, a: T.linalg.eigvalsh(a, UPLO="L" if c.kw["lower"] else "U"))


def _sp_svd(d):
    c = _svd_in(d)
    a = c.arrays[0]
    if a.ndim > 2:
        a = a[0]
    return Call([a], kw={"full_matrices": False})


add("linalg.svd", _sp_svd, post=_svd_post,
    torch=lambda T, c, a: tuple(T.linalg.svd(a, full_matrices=False)))


def _sp_qr(d):
    c = _qr(d)
    return Call(c.arrays, kw={"mode": d.pick(["economic", "r"])})


add("linalg.qr", _sp_qr, post=lambda r: r if isinstance(r, (tuple, list)) else (r,))


def _sp_norm(d):
    c = _norm(d)
    if c.arrays[0].ndim > 2 and c.kw.get("axis") is None:
        c.kw["axis"] = (-2, -1) if c.kw.get("ord") is not None else None
    return c


add("linalg.norm", _sp_norm)


def _sig(twod=False, fft=False):
    def gen(d):
        nd = 2 if twod else d.int(1, 2)
        s1 = tuple(d.int(1, 4) for _ in range(nd))
        s2 = tuple(d.int(1, 3) for _ in range(nd))
        mode = d.pick(["full", "same", "valid"])
        if mode == "valid" and not (all(a >= b for a, b in zip(s1, s2)) or
                                    all(b >= a for a, b in zip(s1, s2))):
            mode = "full"
        kw = {"mode": mode}
        if twod:
            pass  # boundary 'wrap'/'symm' are refused with a clear error (a documented gap)
        elif not fft and d.flag("method"):
            kw["method"] = d.pick(["direct", "fft"])
        c = not twod and d.int(0, 3, "complex?") == 0
        return Call([d.arr(s1, cplx=c), d.arr(s2, cplx=c)], kw=kw)
    return gen


add(["signal.convolve", "signal.correlate"], _sig())
add(["signal.fftconvolve", "signal.oaconvolve"], _sig(fft=True))
add(["signal.convolve2d", "signal.correlate2d"], _sig(twod=True))

# stats: (parameters as (name, domain)), the x domain; every method of the object
STATS = {
    "norm": ([("loc", (-1, 1)), ("scale", (0.5, 2))], (-3, 3)),
    "logistic": ([("loc", (-1, 1)), ("scale", (0.5, 2))], (-3, 3)),
    "laplace": ([("loc", (-1, 1)), ("scale", (0.5, 2))], [(-3, -1.2), (1.2, 3)]),
    "t": ([("df", (1.5, 6)), ("loc", (-1, 1)), ("scale", (0.5, 2))], (-3, 3)),
    "beta": ([("a", (0.8, 3)), ("b", (0.8, 3))], (0.1, 0.9)),
    "gamma": ([("a", (0.8, 3)), ("scale", (0.5, 2))], (0.2, 4)),
    "chi2": ([("df", (1.5, 5))], (0.2, 4)),
    "expon": ([("loc", (-1, 0)), ("scale", (0.5, 2))], (0.2, 3)),
    "uniform": ([("loc", (-1, -0.6)), ("scale", (2.0, 3.0))], (-0.5, 0.9)),
}


def _stats(dist, method):
    params, xdom = STATS[dist]

    def gen(d):
        shapes = d.bshapes(1 + len(params))
        arrays = [d.arr(shapes[0], xdom)] + [d.arr(s, dom) for s, (_, dom) in
                                             zip(shapes[1:], params)]
        names = [n for n, _ in params]
        return Call(arrays, apply=lambda fn, x, *p: fn(x, **dict(zip(names, p))))
    return gen


def _poisson(method):
    def gen(d):
        s1, s2 = d.bshapes(2)
        k = d.rng.integers(0, 6, size=s1)
        return Call([d.arr(s2, (0.5, 5))], apply=lambda fn, mu: fn(k, mu))
    return gen


def _dirichlet(method):
    def gen(d):
        k = d.int(2, 4)
        x = d.rng.dirichlet(np.ones(k), size=d.pick([None, 3]))
        x = x if x.ndim == 1 else x.T.copy()  # SciPy: quantiles along the first axis
        return Call([d.arr((k,), (0.5, 3))], apply=lambda fn, alpha: fn(x, alpha))
    return gen


def _mvn(method):
    def gen(d):
        n = d.int(1, 2 if method == "entropy" else 3)  # entropy's hessian: 13 s at n = 3
        xs = d.pick([(n,), (2, n)])
        # cov built from a free matrix inside the call: no convention for its unread triangle
        eye = np.eye(n)
        arrays = [d.arr(xs), d.arr((n,)), d.arr((n, n)) * 0.5]
        if method == "entropy":
            return Call(arrays[2:], apply=lambda fn, B: fn(cov=cnp.matmul(B, B.T) + eye))
        return Call(arrays, apply=lambda fn, x, m, B: fn(x, m, cnp.matmul(B, B.T) + eye))
    return gen


def stats_case(dist, method):
    if dist == "poisson":
        return _poisson(method)
    if dist == "dirichlet":
        return _dirichlet(method)
    if dist == "multivariate_normal":
        return _mvn(method)
    return _stats(dist, method)


def _register_stats():
    import chainrule.scipy.stats as crst
    for dist in crst.__all__:
        for method in getattr(getattr(crst, dist), "methods", ()):
            if dist in STATS or dist in ("poisson", "dirichlet", "multivariate_normal"):
                add(f"stats.{dist}.{method}", stats_case(dist, method))


_register_stats()
# norm.ppf: the quantile function, in q (0, 1) and loc/scale
add("stats.norm.ppf", lambda d: (lambda s: Call(
    [d.arr(s[0], (0.05, 0.95)), d.arr(s[1], (-1, 1)), d.arr(s[2], (0.5, 2))],
    apply=lambda fn, q, loc, scale: fn(q, loc=loc, scale=scale)))(d.bshapes(3)))


def _odeint(d):
    n = d.int(1, 2)
    t = np.cumsum(np.concatenate([[0.0], d.arr((d.int(1, 3),), (0.2, 0.6))]))
    tol = {"rtol": 1e-12, "atol": 1e-12}

    def f(y, t, k):
        return -k * y + 0.3 * cnp.sin(t + y[::-1])
    return Call([d.arr((n,)), t, d.arr((), (0.5, 1.5))],
                apply=lambda fn, y0, t, k: fn(f, y0, t, args=(k,), **tol))


add("integrate.odeint", _odeint, order=1, rtol=1e-4)

# ----- complex variants (where NumPy defines the function on complex input) ----------------------


def _absq(v):
    """|v|^2 entrywise, for chainrule/NumPy values and torch tensors alike (phase-free)."""
    if type(v).__module__.startswith("torch"):
        return (v * v.conj()).real
    return cnp.real(v * cnp.conj(v))


def complexify(gen, p=0.3):
    """gen's call, its float arrays made complex (imaginary part drawn alike) a part of the time."""
    def g(d):
        c = gen(d)
        if d.rng.random() < p:
            c.arrays = [a + 1j * d.rng.uniform(-1, 1, a.shape) if a.dtype.kind == "f" else a
                        for a in c.arrays]
        return c
    return g


for _f in (np.prod, np.cumsum, np.cumprod, np.var, np.std, np.linalg.solve,
           np.linalg.matrix_power, np.linalg.pinv, np.linalg.svd, np.linalg.qr,
           np.linalg.slogdet, np.sort_complex, np.trace, np.diagonal, np.tril, np.flip,
           np.roll, np.take, np.concatenate if np.concatenate in CASES else np.hstack):
    CASES[_f].gen = complexify(CASES[_f].gen)
CASES[np.prod].gen = complexify(reduction((0.5, 1.5)), 0.5)
CASES[np.cumprod].gen = complexify(scan((0.5, 1.5)), 0.5)
CASES[np.linalg.svd].post = lambda r: (r[1], _absq(r[0]), _absq(r[2]))
CASES[np.linalg.qr].torch = None  # the phases of a complex QR are LAPACK's choice, torch's too


def _herm(kind):
    def g(d):
        c = square(kind, cplx=True)(d)
        if kind == "symmetric" and d.flag("UPLO"):
            c.kw["UPLO"] = "U"
        return c
    return g


CASES[np.linalg.cholesky].gen = _herm("spd")
CASES[np.linalg.eigh].gen = _herm("symmetric")
CASES[np.linalg.eigvalsh].gen = _herm("symmetric")
CASES[np.linalg.eigh].post = lambda r: (r[0], _absq(r[1]))


def _herm_to_triangle(g, call):
    """torch's gradient for a Hermitian input -> the triangle NumPy reads (conj(G) conventions:
    g is already conjugated to ours); off the diagonal the pair (i, j), (j, i) contributes
    G_ij + conj(G_ji); on it only the real part is read (the derivative is real)."""
    lower = call.kw.get("UPLO", "L") == "L"
    tri = np.tril if lower else np.triu
    gt = np.conj(np.swapaxes(g, -1, -2))
    eye = np.eye(g.shape[-1])
    return tri(g + gt) * (1 - eye) + eye * np.real(g)


CASES[np.linalg.cholesky].tgrad = lambda g, c: (_herm_to_triangle if np.iscomplexobj(g)
                                                else sym_to_triangle)(g, c)
CASES[np.linalg.eigh].tgrad = CASES[np.linalg.cholesky].tgrad
CASES[np.linalg.eigvalsh].tgrad = CASES[np.linalg.cholesky].tgrad


def _empty_square(gen):
    """Sometimes a (0, 0) matrix (NumPy accepts it: inv, det, solve...)."""
    def g(d):
        if d.int(0, 7, "empty matrix?") == 0:
            return Call([np.zeros((0, 0))])
        return gen(d)
    return g


for _f in (np.linalg.inv, np.linalg.det, np.linalg.slogdet, np.linalg.cholesky,
           np.linalg.eigh, np.linalg.eigvalsh, np.linalg.pinv):
    CASES[_f].gen = _empty_square(CASES[_f].gen)
