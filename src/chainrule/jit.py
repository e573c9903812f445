"""cr.jit: trace a function once per input signature, then replay the recorded program.

The first call with a given signature (pytree structure, array shapes and
dtypes, and the values of int/bool/str/None arguments) runs the function on
Tensors and records every operation, in creation order: the notes' forward
pass u_i = f^i(A^i) over the vertices. When the function is itself a
transform (``cr.jit(cr.value_and_grad(loss))``) its backward pass is recorded
too, as ordinary operations, because a transform running inside another one
records its own backward pass. The recording becomes one straight-line Python
function (``v7 = f7(v3, v5)``...) that later calls run on plain NumPy arrays:
no Tensors, no tape, no rule look-ups.

Between the two, the recording is shortened (jit_passes.py: constants folded,
simplified, shared subexpressions computed once, dead values dropped) and
elementwise ufuncs write over temporaries nothing reads afterwards (``_in_place``).
``backend="numba"`` compiles the whole program with numba instead of replaying
NumPy calls (jit_numba.py). docs/performance.md has what each of these buys.

Limits (as with any tracing compiler):
- Python control flow is frozen at trace time. Reading a traced value into
  Python (``float(t)``, ``bool(t)``, ``np.asarray(t)``, ``t.item()``, boolean-mask
  indexing) raises ``cr.JitError`` instead of silently freezing the value.
- Arrays and Python floats are inputs; ints, bools, strings and None are part
  of the signature (a new value traces again). Tensors closed over from outside
  are read afresh at every call; plain NumPy arrays closed over are constants.
- ``cr.jit`` runs at top level; put transforms inside it, not around it.

Example:
    >>> import numpy as np, chainrule as cr
    >>> f = cr.jit(cr.grad(lambda x: cr.sum(cr.tanh(x) * x)))
    >>> f(np.array([1.0, 2.0]))
    array([1.1815685 , 1.10532923])
"""
import functools
import importlib.util
from collections import OrderedDict

import numpy as np

from . import jit_passes as passes
from .errors import JitError
from .ops import compare as cmp, elementwise as ew, nn, reduce as red, shape as sh
from .ops.linalg import matmul
from .primitive import Primitive
from .pytree import flatten, is_leaf, unflatten
from .state import state
from .tensor import Tensor
from .tracing import Transform, identity

# The vertex that stands for one input of a traced function.
placeholder = Primitive(lambda: None, "input")
placeholder.vjps = placeholder.jvps = ()

_STATIC = (int, bool, str, type(None), np.integer, np.bool_)


class jit:
    """Compile ``fun`` by tracing: one recording per input signature, replayed afterwards.

    Args:
        fun: a function of arrays (pytrees allowed), typically a transform such
            as ``cr.value_and_grad(loss)``.
        max_cache: how many signatures to keep compiled (least recently used
            are dropped).
        backend: "numpy" (replay NumPy calls), "numba" (compile the whole
            program with numba, extra ``chainrule[jit]``; a program numba cannot
            take is replayed with NumPy, see ``backend_of``), or "auto" (numba
            where it is installed and every array has at most AUTO_NUMBA_MAX
            elements, where it pays; NumPy otherwise).
        optimize: the passes to run: True (all), False (none), or a set out of
            {"simplify", "in_place", "index", "buffers"} (for measuring what each
            buys; "index" writes indexing and scatters as direct NumPy indexing;
            "buffers", arrays kept from call to call for temporaries, is off by
            default: benchmarks/levers.py measures no gain from it here).
    """

    def __init__(self, fun, max_cache=32, backend="numpy", optimize=True):
        functools.update_wrapper(self, fun)
        if backend not in ("numpy", "numba", "auto"):
            raise ValueError(f"cr.jit: backend must be 'numpy', 'numba' or 'auto', "
                             f"not {backend!r}")
        self.fun = fun
        self.max_cache = max_cache
        self.backend = backend
        self.optimize = ({"simplify", "in_place", "index"} if optimize is True else
                         set() if optimize is False else set(optimize))
        self._cache = OrderedDict()
        self._fast = None

    def __call__(self, *args, **kwargs):
        if state.depth:
            raise JitError("cr.jit runs at top level only; put the transform inside it, "
                           "e.g. cr.jit(cr.grad(f)) rather than cr.grad(cr.jit(f))")
        fast = self._fast
        if fast is not None:  # the last signature again: one generated check, no flatten
            out = fast(args, kwargs)
            if out is not _MISS:
                return out
        leaves, treedef = flatten(args)
        key = (treedef, tuple([_signature(x) for x in leaves]), _kw_key(kwargs))
        program = self._cache.get(key)
        if program is None:
            program = _trace(self.fun, leaves, treedef, kwargs, self.backend, self.optimize)
            self._cache[key] = program
            if len(self._cache) > self.max_cache:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        if program.fast is None and key[2] == ():
            program.fast = _fast_path(program, treedef, key[1])
        self._fast = program.fast or None
        return program.run(leaves)

    @property
    def cache_size(self):
        """How many input signatures have been traced and kept."""
        return len(self._cache)

    def program(self, *args, **kwargs):
        """The compiled program for these arguments (traced now if it is not yet)."""
        leaves, treedef = flatten(args)
        self(*args, **kwargs)
        return self._cache[(treedef, tuple(_signature(x) for x in leaves),
                            _kw_key(kwargs))]

    def source(self, *args, **kwargs):
        """The Python source of the program replayed for these arguments (for reading)."""
        return self.program(*args, **kwargs).source

    def backend_of(self, *args, **kwargs):
        """Which backend runs the program for these arguments: "numpy" or "numba"."""
        return self.program(*args, **kwargs).backend


def _signature(x):
    if type(x) is np.ndarray:  # the common case first: this runs for every leaf, every call
        return (x.shape, x.dtype)
    if type(x) is Tensor:
        x = x.value
    if isinstance(x, _STATIC):
        return ("static", type(x).__name__, x)
    if isinstance(x, float):
        return ("float",)
    a = np.asarray(x)
    if a.dtype == object:
        raise TypeError(f"cr.jit: cannot trace an argument of type {type(x).__name__}")
    return (a.shape, a.dtype)


def _kw_key(kwargs):
    try:
        key = tuple(sorted(kwargs.items()))
        hash(key)
    except TypeError:
        raise TypeError("cr.jit: keyword arguments must be hashable (they are part of the "
                        "signature); pass arrays positionally") from None
    return key


class _Program:
    """A recorded program: ``replay(*inputs)`` returns the output leaves."""

    def __init__(self, replay, source, dynamic, out_def, copies, backend="numpy"):
        self.replay = replay
        self.source = source
        self.dynamic = dynamic      # positions of the leaves that are inputs
        self.out_def = out_def
        self.copies = sorted(copies)  # outputs that are not fresh arrays of this call
        self.backend = backend
        self.fast = None  # the generated call for this signature (see _fast_path)
        self.numba_source = None    # with backend="numba": the compiled program's source,
        self.compile_seconds = None  # the seconds numba took (or loading from its cache),
        self.numba_refused = None   # or why numba did not take the program

    def run(self, leaves):
        outs = self.replay(*[_as_array(leaves[k]) for k in self.dynamic])
        if self.copies:  # outputs are arrays the caller owns, never shared
            outs = list(outs)
            for k in self.copies:
                if isinstance(outs[k], np.ndarray):
                    outs[k] = np.array(outs[k])
        return unflatten(self.out_def, outs)


_MISS = object()


def _fast_path(program, treedef, sigs):
    """A function ``fast(args, kwargs)`` that runs ``program`` if the arguments match its
    signature (and returns _MISS otherwise): the pytree walk, the signature check and
    the output structure written out as straight-line code for this one signature.

    Saves 5.7 us per batch-1 step of the notes' network (a dict of four arrays and two
    more) and 1.7 us per Rosenbrock gradient (benchmarks/levers.py, "call path").
    Returns False when the structure has parts this does not write out.
    """
    lines, env, leaves = [], {"_MISS": _MISS, "_nd": np.ndarray, "_asarray": np.asarray,
                              "replay": program.replay}, []
    counter = [0]

    def walk(td, expr):
        if is_leaf(td):
            leaves.append(expr)
            return True
        kind, meta, children = td
        var = f"n{counter[0]}"
        counter[0] += 1
        lines.append(f"    {var} = {expr}")
        if kind == "dict":
            if not all(type(k) in (str, int) for k in meta):
                return False
            env[f"K{var}"] = frozenset(meta)
            lines.append(f"    if type({var}) is not dict or {var}.keys() != K{var}: "
                         f"return _MISS")
            return all(walk(c, f"{var}[{k!r}]") for k, c in zip(meta, children))
        if meta not in (tuple, list):
            return False
        lines.append(f"    if type({var}) is not {meta.__name__} or len({var}) != "
                     f"{len(children)}: return _MISS")
        return all(walk(c, f"{var}[{i}]") for i, c in enumerate(children))

    if not walk(treedef, "args"):
        return False
    ins = []
    for k, (expr, sig) in enumerate(zip(leaves, sigs)):
        lines.append(f"    l{k} = {expr}")
        if sig[0] == "static":  # int/bool/str/None arguments: the general path compares
            return False
        if sig[0] == "float":
            lines.append(f"    if type(l{k}) is not float: return _MISS")
            if k in program.dynamic:
                ins.append(f"_asarray(l{k})")
            continue
        env[f"S{k}"], env[f"D{k}"] = sig
        lines.append(f"    if type(l{k}) is not _nd or l{k}.shape != S{k} or "
                     f"l{k}.dtype != D{k}: return _MISS")
        ins.append(f"l{k}")
    lines.append(f"    o = replay({', '.join(ins)})")
    for k in program.copies:
        lines.append(f"    o{k} = o[{k}]")
        lines.append(f"    if type(o{k}) is _nd: o{k} = o{k}.copy()")
    outs = iter(range(10 ** 9))

    def build(td):
        if is_leaf(td):
            k = next(outs)
            return f"o{k}" if k in program.copies else f"o[{k}]"
        kind, meta, children = td
        if kind == "dict":
            return "{" + ", ".join(f"{k!r}: {build(c)}" for k, c in zip(meta, children)) + "}"
        if meta not in (tuple, list):
            raise _NoFast
        items = "".join(build(c) + ", " for c in children)
        return f"({items})" if meta is tuple else f"[{items}]"

    try:
        lines.append(f"    return {build(program.out_def)}")
    except _NoFast:
        return False
    src = "def fast(args, kwargs):\n    if kwargs: return _MISS\n" + "\n".join(lines) + "\n"
    try:
        exec(compile(src, "<cr.jit call>", "exec"), env)
    except (SyntaxError, RecursionError):  # a structure too deep to write out
        return False
    return env["fast"]


class _NoFast(Exception):
    pass


def _as_array(x):
    if type(x) is np.ndarray:
        return x
    if type(x) is Tensor:
        return x.value
    return np.asarray(x)


def _trace(fun, leaves, treedef, kwargs, backend="numpy", optimize=("simplify", "in_place")):
    with Transform() as tr:
        state.jit += 1
        try:
            dynamic, inputs, targs = [], [], []
            for k, x in enumerate(leaves):
                if _signature(x)[0] == "static":
                    targs.append(x)
                    continue
                t = Tensor(np.array(_as_array(x)))
                t.op, t.args, t.kw = placeholder, (), None
                state.tape.append(t)
                dynamic.append(k)
                inputs.append(t)
                targs.append(t)
            out = fun(*unflatten(treedef, targs), **kwargs)
            vertices = tr.vertices()
        finally:
            state.jit -= 1
    outs, out_def = flatten(out)
    replay, source, copies, nodes, out_refs = _compile(
        fun, inputs, vertices, outs, in_place="in_place" in optimize,
        optimize="simplify" in optimize, buffers="buffers" in optimize,
        index="index" in optimize)
    program = _Program(replay, source, dynamic, out_def, copies)
    if backend == "auto":
        largest = max([n.value.size if isinstance(n.value, np.ndarray) else 1
                       for n in nodes], default=0)
        if largest > AUTO_NUMBA_MAX or not _have_numba():
            program.numba_refused = (f"backend='auto': arrays of {largest} elements"
                                     if largest > AUTO_NUMBA_MAX else "numba is not installed")
            return program
        backend = "numba"
    if backend == "numba":
        try:
            from . import jit_numba  # numba loads only when asked for (it takes a second)
        except ImportError as e:
            raise ImportError(f"cr.jit(backend='numba') needs numba ({e}); install it with "
                              f"pip install 'chainrule[jit]', or use backend='auto', which "
                              f"replays with NumPy where numba is missing") from e
        jit_numba.attach(program, fun, inputs, nodes, out_refs, _ops)
    return program


def _have_numba():
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules["numba"] is None
        return False


# backend="auto" compiles with numba only programs whose arrays are all this small:
# numba saves the ~0.3 us of dispatch per NumPy call, but its elementwise loops call
# libm per element where NumPy's are vectorised (np.tanh on 32768 float64: ~25 us in
# NumPy); at batch 128 of 784-256-10 numba was 1.3x slower than the NumPy backend, at
# batch 1 3.2x faster and on the 10-d Rosenbrock 4.6x faster (benchmarks/levers.py).
AUTO_NUMBA_MAX = 4096


class _Ops:
    """The primitives the passes rewrite, by name."""

    def __init__(self):
        self.add, self.subtract, self.multiply = ew.add, ew.subtract, ew.multiply
        self.divide, self.negative, self.power = ew.divide, ew.negative, ew.power
        self.transpose, self.reshape = sh.transpose, sh.reshape
        self.squeeze, self.expand_dims = sh.squeeze, sh.expand_dims
        self.matmul = matmul
        self.unbroadcast = sh.unbroadcast
        self.take, self.index_add = sh._take, sh._index_add
        self.sum, self.mean, self.log_softmax = red.sum, red.mean, nn.log_softmax
        self.max, self.min = red.max, red.min
        self.relu, self.sigmoid, self.where = ew.relu, ew.sigmoid, ew.where
        # ordering comparisons refuse complex input in Python first; on real input
        # (known from the signature) they are these ufuncs
        self.ordering = {cmp.greater: np.greater, cmp.greater_equal: np.greater_equal,
                         cmp.less: np.less, cmp.less_equal: np.less_equal}
        # ops whose forward function returns a fresh array that nothing else holds
        self.fresh = {red.sum, red.mean, red.logsumexp, matmul, sh._index_add}
        self.fresh.update((nn.log_softmax, nn.softmax))


_ops = _Ops()


def _build(inputs, vertices, outs):
    """The recorded vertices the outputs need, as passes.Node (identity leaves resolved)."""
    needed = {id(o) for o in outs if type(o) is Tensor}
    keep = []
    for v in reversed(vertices):  # liveness: children before parents
        if id(v) in needed and v.op is not placeholder:
            keep.append(v)
            if v.args:
                needed.update(id(a) for a in v.args if type(a) is Tensor)
    keep.reverse()
    env = {id(t): passes.Input(k, t.value) for k, t in enumerate(inputs)}

    def ref(a):
        if type(a) is Tensor:
            r = env.get(id(a))
            if r is not None:
                return r
            if a.op is None and not a.requires_grad:
                return passes.Const(a.value)
            return passes.Live(a)  # recorded outside this trace: read it live
        return passes.Const(a)

    nodes = []
    for v in keep:
        if v.op is None:  # a leaf made inside the function (a transform's input)
            env[id(v)] = passes.Const(v.value)
        elif v.op is identity:  # a transform's leaf over an input: the same array
            env[id(v)] = ref(v.args[0])
        else:
            n = passes.Node(v.op, v.op.name, v.op.fun, [ref(a) for a in v.args], v.kw or None,
                            v.value)
            env[id(v)] = n
            nodes.append(n)
    return nodes, [ref(o) for o in outs]


def _is_ufunc(fun):
    """A plain elementwise ufunc: fresh output, takes ``out`` positionally, safe in place."""
    return type(fun) is np.ufunc and fun.nout == 1 and fun.signature is None


def _in_place(nodes, outs, ops):
    """{node index: argument position} where the node may write over a dead argument.

    An array is overwritten only when nothing can see it afterwards: it was made
    by this program (a ufunc's or matmul's fresh result), neither it nor anything
    that may be a view of it (a transpose, a reshape, an index...) is read after
    this node or handed out, and it has the result's shape and dtype.
    """
    _, last = passes.uses(nodes, outs)
    fresh = {id(n) for n in nodes if _is_ufunc(n.fun) or n.op in ops.fresh}
    roots = {}  # id(value) -> ids of the arrays it may share memory with
    for n in nodes:
        if id(n) in fresh:
            roots[id(n)] = {id(n)}
        else:  # may return a view of any array argument
            r = {id(n)}
            for a in n.args:
                if isinstance(a, passes.Node):
                    r |= roots[id(a)]
                elif isinstance(a, passes.Input):
                    r.add(id(a))
            roots[id(n)] = r
    end = {}  # id(array) -> the last node index at which it, or a view of it, is read
    for v, i in last.items():
        for r in roots.get(v, (v,)):
            end[r] = max(end.get(r, -1), i)
    owned = {id(n) for n in nodes if id(n) in fresh and n.shape != ()}
    plan = {}
    for i, n in enumerate(nodes):
        if not _is_ufunc(n.fun) or n.shape == () or n.kw:
            continue
        for k, a in enumerate(n.args):
            if id(a) in owned and end.get(id(a)) == i and passes._same(n, a):
                plan[i] = k
                break
    return plan


def _only_arrays(n):
    """True for indexing by index arrays only (``spec`` all ARRAY), as in q[rows, labels]."""
    spec = (n.kw or {}).get("spec", ())
    return bool(spec) and all(s is sh.ARRAY for s in spec) and len(spec) == len(n.args) - 1


def _basic(n):
    """True for basic indexing only (slices, integers, None, Ellipsis: no index array)."""
    spec = (n.kw or {}).get("spec")
    return spec is not None and len(n.args) == 1 and not any(s is sh.ARRAY for s in spec)


def _unique_pairs(n):
    """True if the index arrays of a scatter never name an entry twice, whatever the
    inputs: 1-d, of one length, and one of them a constant without repeats (the rows
    ``np.arange(B)`` of ``q[np.arange(B), y]``)."""
    idx = n.args[1:]
    if not all(len(a.shape) == 1 and a.shape == idx[0].shape for a in idx):
        return False
    # array k indexes axis k; -1 and n-1 name the same entry, so compare modulo the length
    return any(isinstance(a, passes.Const) and a.dtype.kind in "iu" and len(np.unique(
        np.asarray(a.value) % n.shape[k])) == a.value.size for k, a in enumerate(idx))


def _scatter(g, idx, shape, dtype):
    """A zero array of ``shape`` with g at ``idx`` (entries named once: assignment)."""
    out = np.zeros(shape, dtype)
    out[idx] = g
    return out


def _buffers(nodes, outs, plan, ops):
    """Indices of the nodes whose result can go to an array kept from call to call.

    Ufunc and matmul results that are not outputs and whose array does not become
    an output through a chain of in-place ops: the caller never sees them, so the
    next call may write over them.
    """
    root = {}
    for i, n in enumerate(nodes):
        root[id(n)] = root.get(id(n.args[plan[i]]), -1) if i in plan else i
    handed = {root[id(o)] for o in outs if isinstance(o, passes.Node)}
    return [i for i, n in enumerate(nodes)
            if i not in plan and i not in handed and n.shape != () and not n.kw
            and (_is_ufunc(n.fun) or n.op is ops.matmul)]


def _compile(fun, inputs, vertices, outs, in_place=True, optimize=True, buffers=False,
             index=True):
    """Straight-line Python source for the recorded vertices the outputs need.

    Returns (replay, source, copies, nodes, out_refs): ``copies`` are the output
    positions to copy before handing them out (constants, inputs, views and
    arrays handed out twice); the others are fresh arrays the caller owns.
    """
    ops = _ops
    nodes, out_refs = _build(inputs, vertices, outs)
    if optimize:
        nodes, out_refs = passes.simplify(nodes, out_refs, ops)
    else:
        nodes = passes.dead(nodes, out_refs)
    plan = _in_place(nodes, out_refs, ops) if in_place else {}
    pooled = _buffers(nodes, out_refs, plan, ops) if buffers else []

    names = {}
    env = {"_asarray": np.asarray, "_scatter": _scatter}
    consts = set()  # the names bound to values fixed at trace time (or read live)

    def const(obj, prefix="c"):
        name = f"{prefix}{len(env)}"
        env[name] = obj
        consts.add(name)
        return name

    def ref(a):
        if isinstance(a, passes.Input):
            return f"x{a.k}"
        if isinstance(a, passes.Node):
            return names[id(a)]
        if isinstance(a, passes.Live):
            return const(a.tensor, "t") + ".value"
        return const(a.value)

    lines = []
    for i, n in enumerate(nodes):
        target = f"v{i}"
        if n.op is ops.transpose:  # a view: the method call skips two Python frames
            call = f"{ref(n.args[0])}.transpose({const(passes.transpose_axes(n))})"
        elif not index and n.op in (ops.take, ops.index_add):  # the op's own function
            call = f"{const(n.fun, 'f')}({', '.join(ref(a) for a in n.args)}"
            call += f", **{const(n.kw, 'k')})" if n.kw else ")"
        elif n.op is ops.take and _only_arrays(n):  # q[rows, labels]: index directly
            call = f"{ref(n.args[0])}[{', '.join(ref(a) for a in n.args[1:])},]"
        elif n.op is ops.take and _basic(n):  # x[1:], x[:, 0]: index directly
            call = f"{ref(n.args[0])}[{const(tuple(n.kw['spec']))}]"
        elif n.op is ops.index_add and _basic(n):  # basic indexing never hits an entry twice
            call = (f"_scatter({ref(n.args[0])}, {const(tuple(n.kw['spec']))}, "
                    f"{const(tuple(n.shape))}, {const(n.dtype)})")
        elif n.op is ops.index_add and _only_arrays(n) and _unique_pairs(n):
            # no entry is hit twice: assign (np.add.at, for repeats, costs ~2 us more)
            call = (f"_scatter({ref(n.args[0])}, ({''.join(ref(a) + ', ' for a in n.args[1:])}),"
                    f" {const(tuple(n.shape))}, {const(n.dtype)})")
        else:
            args = [ref(a) for a in n.args]
            if i in plan:  # write over the dead argument: no new array
                args.append(args[plan[i]])
            elif i in pooled:
                args.append(f"B{pooled.index(i)}")
            call = f"{const(n.fun, 'f')}({', '.join(args)}"
            call += f", **{const(n.kw, 'k')})" if n.kw else ")"
        if n.shape == ():  # NumPy gives scalars for 0-d results; keep arrays
            call = f"_asarray({call})"
        note = (f"{n.name}, in place" if i in plan else
                 f"{n.name}, into a kept array" if i in pooled else n.name)
        lines.append(f"    {target} = {call}  # {note}")
        names[id(n)] = target
    fresh = {id(n) for n in nodes if _is_ufunc(n.fun) or n.op in ops.fresh}
    out_names, copies, handed = [], set(), set()
    for k, o in enumerate(out_refs):
        r = ref(o)
        out_names.append(r)
        if r in consts or id(o) not in fresh or id(o) in handed:
            copies.add(k)  # a constant, an input, a view, or an array already handed out
        handed.add(id(o))
    name = getattr(fun, "__name__", "f").replace("(", "_").replace(")", "_")
    if pooled:  # one set of kept arrays per concurrent call: a thread takes a set or makes one
        shapes = [(nodes[i].shape, nodes[i].dtype) for i in pooled]
        env["_pool"] = []
        env["_new"] = lambda: [np.empty(s, d) for s, d in shapes]
        lines.insert(0, "    _b = _pool.pop() if _pool else _new()\n    "
                     + "".join(f"B{k}, " for k in range(len(pooled))) + "= _b")
        lines.append("    _pool.append(_b)")
    src = (f"def replay({', '.join(f'x{k}' for k in range(len(inputs)))}):\n"
           + "\n".join(lines) + ("\n" if lines else "")
           + f"    return ({''.join(r + ', ' for r in out_names)})\n")
    exec(compile(src, f"<cr.jit {name}>", "exec"), env)
    return env["replay"], src, copies, nodes, out_refs
