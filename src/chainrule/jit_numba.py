"""cr.jit's numba backend: the whole recorded program as one compiled function.

``cr.jit(f, backend="numba")`` writes the program the NumPy backend replays
as the body of one ``numba.njit`` function: the per-call price of a NumPy
call (about 0.3 us of dispatch on a 10-element array, more than the
arithmetic) is paid once per program instead of once per operation, and
numba fuses the elementwise expressions. It pays on small arrays (a
batch-1 training step, the gradient of a 10-d function); on large ones the
matmuls dominate and both backends call the same BLAS.

The source goes to a file in the cache folder (``CHAINRULE_CACHE`` or
``~/.cache/chainrule/jit``) named by its hash, and numba caches the machine
code beside it: the compile cost (seconds) is paid once per program per
machine, later processes load it (see ``Program.compile_seconds``).

An operation without a numba form here (or a program numba refuses, or one
whose compiled result differs from the NumPy replay on the traced inputs)
leaves the program on the NumPy backend; ``jit.backend_of(*args)`` says which
one runs. numba is an optional extra (``pip install chainrule[jit]``).
"""
import hashlib
import importlib.util
import os
import sys
import tempfile
import time

import numpy as np
import numba

from . import jit_passes as passes
from .ops.shape import ARRAY


class Unsupported(Exception):
    """The program has an operation this backend has no numba form for."""


# ----- kernels the generated code calls (compiled once, cached) ---------------------------
@numba.njit(cache=True)
def log_softmax_rows(x):
    out = np.empty(x.shape, x.dtype)
    for i in range(x.shape[0]):
        m = x[i, 0]
        for j in range(1, x.shape[1]):
            if x[i, j] > m:
                m = x[i, j]
        s = 0.0
        for j in range(x.shape[1]):
            s += np.exp(x[i, j] - m)
        ls = np.log(s)
        for j in range(x.shape[1]):
            out[i, j] = (x[i, j] - m) - ls
    return out


@numba.njit(cache=True)
def take2(x, i, j):
    out = np.empty(i.shape[0], x.dtype)
    for k in range(i.shape[0]):
        out[k] = x[i[k], j[k]]
    return out


@numba.njit(cache=True)
def index_add2(g, i, j, n0, n1):
    out = np.zeros((n0, n1), g.dtype)
    for k in range(i.shape[0]):
        out[i[k], j[k]] += g[k]  # a repeated index adds (np.add.at)
    return out


@numba.njit(cache=True)
def index_add2_scalar(g, i, j, n0, n1):
    out = np.zeros((n0, n1), np.asarray(g).dtype)
    for k in range(i.shape[0]):
        out[i[k], j[k]] += g
    return out


@numba.njit(cache=True)
def sigmoid(x, one):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, one / (one + e), e / (one + e))


@numba.njit(cache=True)
def sigmoid_scalar(x, one):
    e = np.exp(-abs(x))
    return one / (one + e) if x >= 0 else e / (one + e)



# ----- the source of one program -----------------------------------------------------------
def _literal(value, dtype):
    """Source for a scalar constant, typed (a bare 2.0 would make float32 code float64)."""
    if dtype.kind == "b":
        return repr(bool(value))
    if dtype.kind not in "iuf":
        raise Unsupported(f"a constant of dtype {dtype}")
    return f"np.{dtype.name}({float(value)!r})" if dtype.kind == "f" else \
        f"np.{dtype.name}({int(value)})"


def _index_source(spec):
    parts = []
    for s in spec:
        if type(s) is slice:
            parts.append(":".join("" if v is None else str(int(v))
                                  for v in (s.start, s.stop, s.step)))
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            parts.append(str(int(s)))
        else:
            raise Unsupported(f"an index part {s!r}")
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _param(n, pos, name, default):
    """A static parameter of node n, passed positionally (a constant) or by keyword."""
    if len(n.args) > pos:
        if not isinstance(n.args[pos], passes.Const):
            raise Unsupported(f"{n.name}'s {name} is not a constant")
        return n.args[pos].value
    return (n.kw or {}).get(name, default)


def _axes_of(axis, ndim):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(sorted(int(a) % ndim for a in axes))
    return None if len(axes) == ndim else axes


def _sum_source(a, shape, axes, out_shape):
    """Sum of ``a`` (of ``shape``) over ``axes`` (None: all), given ``out_shape``."""
    if shape == ():
        return a
    if axes is None:
        s = f"np.sum({a})"
        return s if out_shape == () else f"np.full({out_shape!r}, {s})"
    s = a
    for ax in sorted(axes, reverse=True):
        s = f"np.sum({s}, axis={ax})"
    return s if out_shape == () else f"np.ascontiguousarray({s}).reshape({out_shape!r})"


def _expression(n, a, ops):
    """The numba source of node n, its arguments' sources given as ``a``."""
    op, shapes = n.op, [x.shape for x in n.args]
    if type(n.fun) is np.ufunc and n.fun.signature is None and n.fun.nout == 1 and not n.kw:
        if getattr(np, n.fun.__name__, None) is not n.fun:
            raise Unsupported(f"ufunc {n.fun.__name__}")
        return f"np.{n.fun.__name__}({', '.join(a)})"
    if op is ops.matmul:
        if not all(len(s) in (1, 2) for s in shapes) or n.dtype.kind != "f":
            raise Unsupported("matmul beyond matrices")
        return f"np.dot({a[0]}, {a[1]})"
    if op is ops.transpose:
        nd = len(shapes[0])
        if nd <= 1:
            return a[0]
        if nd == 2:
            return f"{a[0]}.T"
        raise Unsupported("transpose beyond matrices")
    if op in (ops.reshape, ops.squeeze, ops.expand_dims, ops.unbroadcast):
        src = shapes[0]
        if op is ops.unbroadcast:  # sum over the broadcast axes first
            lead = len(src) - len(n.shape)
            axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(n.shape)
                                              if s == 1 and src[lead + i] != 1)
            if axes:
                return _sum_source(a[0], src, axes if len(axes) < len(src) else None,
                                   n.shape)
        if src == ():
            return f"np.full({n.shape!r}, {a[0]})"
        if n.shape == ():
            return f"np.ascontiguousarray({a[0]}).ravel()[0]"
        return f"np.ascontiguousarray({a[0]}).reshape({n.shape!r})"
    if op is ops.relu:  # relu'(0) = 0 is the rule's business; the value is max(x, 0)
        return f"np.maximum({a[0]}, {_literal(0, n.dtype)})"
    if op is ops.sigmoid:  # the forward's stable form: exp of a non-positive number only
        if n.dtype.kind != "f":
            raise Unsupported("sigmoid of a non-float")
        one = _literal(1, n.dtype)
        return (f"_k.sigmoid({a[0]}, {one})" if shapes[0] else
                f"_k.sigmoid_scalar({a[0]}, {one})")
    if op is ops.where:
        if not all(s == n.shape or s == () for s in shapes):
            raise Unsupported("where with broadcasting")
        return f"np.where({a[0]}, {a[1]}, {a[2]})"
    if op is ops.max or op is ops.min:
        src = shapes[0]
        axis = _param(n, 1, "axis", None)
        if src == () or _axes_of(axis, len(src)) is not None:
            raise Unsupported(f"{n.name} over some axes")
        s = f"np.{n.name}({a[0]})"
        return s if n.shape == () else f"np.full({n.shape!r}, {s})"
    if op is ops.sum or op is ops.mean:
        src = shapes[0]
        axis = _param(n, 1, "axis", None)
        s = _sum_source(a[0], src, _axes_of(axis, len(src)) if src else None, n.shape)
        if op is ops.mean:
            count = int(np.prod(src)) // max(int(np.prod(n.shape)), 1)
            s = f"({s}) / {_literal(count, n.dtype)}"
        return s
    if op is ops.log_softmax:
        axis = _param(n, 1, "axis", -1)
        if len(shapes[0]) == 2 and axis in (-1, 1):
            return f"_k.log_softmax_rows({a[0]})"
        if len(shapes[0]) == 2 and axis in (0, -2):  # columns: the rows of the transpose
            return f"_k.log_softmax_rows(np.ascontiguousarray({a[0]}.T)).T"
        if len(shapes[0]) == 1 and axis in (-1, 0):
            return f"_k.log_softmax_rows({a[0]}.reshape((1, -1))).ravel()"
        raise Unsupported("log_softmax beyond matrices")
    if op is ops.take:
        spec = n.kw["spec"]
        if all(s is not ARRAY for s in spec):
            return f"{a[0]}[{_index_source(spec)}]"
        if len(spec) == 2 and spec[0] is ARRAY and spec[1] is ARRAY and len(shapes[0]) == 2 \
                and len(shapes[1]) == 1 and len(shapes[2]) == 1:
            return f"_k.take2({a[0]}, {a[1]}, {a[2]})"
        raise Unsupported("indexing beyond slices and (rows, cols) pairs")
    if op is ops.index_add:
        spec, shape = n.kw["spec"], n.kw["shape"]
        if len(spec) == 2 and spec[0] is ARRAY and spec[1] is ARRAY and len(shape) == 2:
            kernel = "index_add2" if shapes[0] else "index_add2_scalar"
            return f"_k.{kernel}({a[0]}, {a[1]}, {a[2]}, {shape[0]}, {shape[1]})"
        raise Unsupported("scatter beyond (rows, cols) pairs")  # slices: see _statements
    raise Unsupported(f"operation {n.name}")


def program_source(nodes, out_refs, inputs, ops):
    """(source of ``program(x0, ..., c0, ...)``, the array constants passed as c0...)."""
    names, consts, lines = {}, [], []

    def ref(x, n=None):
        if isinstance(x, passes.Input):
            return f"x{x.k}"
        if isinstance(x, passes.Node):
            return names[id(x)]
        if isinstance(x, passes.Live):
            raise Unsupported("a Tensor closed over from outside")
        if isinstance(x, passes.Const):
            v = x.value
            if isinstance(v, tuple):
                return repr(tuple(int(e) for e in v))
            if np.ndim(v) == 0 and not isinstance(v, (str, type(None))):
                dtype = np.asarray(v).dtype
                if type(v) in (int, float) and n is not None and n.dtype.kind == "f":
                    dtype = n.dtype  # a Python number takes the array's type (NumPy 2)
                return _literal(v, dtype)
            if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
                consts.append(np.ascontiguousarray(v))
                return f"c{len(consts) - 1}"
        raise Unsupported(f"a constant {type(x).__name__}")

    for i, n in enumerate(nodes):
        target = f"v{i}"
        if n.op is ops.index_add and all(s is not ARRAY for s in n.kw["spec"]):
            lines.append(f"    {target} = np.zeros({tuple(n.kw['shape'])!r}, "
                         f"np.{n.dtype.name})")
            lines.append(f"    {target}[{_index_source(n.kw['spec'])}] = {ref(n.args[0])}")
        else:
            static_tail = n.op in (ops.transpose, ops.sum, ops.mean, ops.max, ops.min,
                                   ops.log_softmax, ops.reshape, ops.squeeze,
                                   ops.expand_dims, ops.unbroadcast)
            args = [ref(x, n) for x in (n.args[:1] if static_tail else n.args)]
            lines.append(f"    {target} = {_expression(n, args, ops)}  # {n.name}")
        names[id(n)] = target
    outs = [ref(o) for o in out_refs]
    params = [f"x{k}" for k in range(len(inputs))] + [f"c{k}" for k in range(len(consts))]
    src = (f"def program({', '.join(params)}):\n" + "\n".join(lines)
           + ("\n" if lines else "") + f"    return ({''.join(o + ', ' for o in outs)})\n")
    return src, consts


# ----- compiling (cached on disk) ----------------------------------------------------------
def cache_dir():
    """Where generated programs and numba's machine code for them are kept."""
    d = os.environ.get("CHAINRULE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "chainrule", "jit")
    try:
        os.makedirs(d, exist_ok=True)
        if os.access(d, os.W_OK):
            return d
    except OSError:
        pass
    d = os.path.join(tempfile.gettempdir(), "chainrule-jit")
    os.makedirs(d, exist_ok=True)
    return d


with open(__file__, "rb") as _f:  # a changed backend must not load an old program
    _VERSION = hashlib.sha1(_f.read() + numba.__version__.encode()).hexdigest()[:12]


def load(src):
    """The numba-compiled ``program`` of ``src`` (from numba's cache when it has it)."""
    header = ("import numpy as np\nimport numba\nfrom chainrule import jit_numba as _k\n\n"
              "@numba.njit(cache=True)\n")
    full = header + src
    key = hashlib.sha1((_VERSION + full).encode()).hexdigest()[:20]
    path = os.path.join(cache_dir(), f"crjit_{key}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(full)
        os.replace(tmp, path)  # atomic: another process may be writing the same program
    name = f"_crjit_{key}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return module.program


def attach(program, fun, inputs, nodes, out_refs, ops):
    """Compile ``program`` with numba and make it the one replayed, if it gives the same."""
    try:
        src, consts = program_source(nodes, out_refs, inputs, ops)
    except Unsupported as e:
        program.numba_refused = str(e)
        return
    t0 = time.perf_counter()
    try:
        compiled = load(src)
        ins = [t.value for t in inputs]
        args = [x[()] if x.ndim == 0 else x for x in ins]
        got = compiled(*args, *consts)
        want = program.replay(*ins)
    except Exception as e:  # numba's typing errors have many classes: any refusal
        program.numba_refused = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        return
    program.compile_seconds = time.perf_counter() - t0
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        if g.shape != w.shape or g.dtype != w.dtype or not np.allclose(
                g, w, rtol=1e-12, atol=1e-300, equal_nan=True):
            program.numba_refused = "its result differs from the NumPy replay"
            return
    scalar_in = [k for k, t in enumerate(inputs) if t.value.ndim == 0]
    scalar_out = [k for k, o in enumerate(out_refs) if o.shape == ()]
    program.replay = _wrapper(compiled, consts, len(inputs), scalar_in, scalar_out)
    program.backend = "numba"
    program.numba_source = src


def _wrapper(compiled, consts, n_in, scalar_in, scalar_out):
    """The Python function that calls the compiled program with NumPy's conventions."""
    params = ", ".join(f"x{k}" for k in range(n_in))
    args = [f"x{k}[()]" if k in scalar_in else f"x{k}" for k in range(n_in)]
    args += [f"c{k}" for k in range(len(consts))]
    body = f"    o = program({', '.join(args)})\n"
    if scalar_out:
        body += "    o = list(o)\n" + "".join(
            f"    o[{k}] = _asarray(o[{k}])\n" for k in scalar_out)
    src = f"def replay({params}):\n{body}    return o\n"
    env = {"program": compiled, "_asarray": np.asarray}
    env.update({f"c{k}": c for k, c in enumerate(consts)})
    exec(compile(src, "<cr.jit numba>", "exec"), env)
    return env["replay"]
