"""cr.jit: trace a function once per input signature, then replay the recorded program.

The first call with a given signature (pytree structure, array shapes and
dtypes, and the values of int/bool/str/None arguments) runs the function on
Tensors and records every operation, in creation order: the notes' forward
pass u_i = f^i(A^i) over the vertices. When the function is itself a
transform (``cr.jit(cr.value_and_grad(loss))``) its backward pass is recorded
too, as ordinary operations, because a transform running inside another one
records its own backward pass. The recording becomes one straight-line Python
function (``v7 = f7(v3, v5)``...) that later calls run on plain NumPy arrays:
no Tensors, no tape, no rule look-ups. Vertices the outputs do not need are
dropped.

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
from collections import OrderedDict

import numpy as np

from .backward import Handed
from .errors import JitError
from .primitive import Primitive
from .pytree import flatten, unflatten
from .state import state
from .tensor import Tensor

# The vertex that stands for one input of a traced function.
placeholder = Primitive(lambda: None, "input")
placeholder.vjps = placeholder.jvps = ()

_STATIC = (int, bool, str, type(None), np.integer, np.bool_)


def refuse_value(t, what):
    """Raise if ``t`` is a traced value of a function cr.jit is tracing."""
    if state.jit and (t.op is not None or t.requires_grad):
        raise JitError(
            f"cr.jit cannot trace {what}: the value of a traced array is not known when the "
            f"program is recorded. Keep the computation in chainrule operations (e.g. "
            f"cr.where instead of Python if, integer indices instead of boolean masks), "
            f"or call the function without cr.jit.")


class jit:
    """Compile ``fun`` by tracing: one recording per input signature, replayed afterwards.

    Args:
        fun: a function of arrays (pytrees allowed), typically a transform such
            as ``cr.value_and_grad(loss)``.
        max_cache: how many signatures to keep compiled (least recently used
            are dropped).
    """

    def __init__(self, fun, max_cache=32):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.max_cache = max_cache
        self._cache = OrderedDict()

    def __call__(self, *args, **kwargs):
        if state.depth:
            raise JitError("cr.jit runs at top level only; put the transform inside it, "
                           "e.g. cr.jit(cr.grad(f)) rather than cr.grad(cr.jit(f))")
        leaves, treedef = flatten(args)
        key = (treedef, tuple([_signature(x) for x in leaves]), _kw_key(kwargs))
        program = self._cache.get(key)
        if program is None:
            program = _trace(self.fun, leaves, treedef, kwargs)
            self._cache[key] = program
            if len(self._cache) > self.max_cache:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return program.run(leaves)

    @property
    def cache_size(self):
        """How many input signatures have been traced and kept."""
        return len(self._cache)

    def source(self, *args, **kwargs):
        """The Python source of the program replayed for these arguments (for reading)."""
        leaves, treedef = flatten(args)
        self(*args, **kwargs)
        return self._cache[(treedef, tuple(_signature(x) for x in leaves),
                            _kw_key(kwargs))].source


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

    def __init__(self, replay, source, dynamic, out_def, out_fixed):
        self.replay = replay
        self.source = source
        self.dynamic = dynamic      # positions of the leaves that are inputs
        self.out_def = out_def
        self.out_fixed = out_fixed  # output positions not computed by the replay (constants)

    def run(self, leaves):
        ins = [_as_array(leaves[k]) for k in self.dynamic]
        outs = list(self.replay(*ins))
        handed = Handed(ins)  # outputs are arrays the caller owns, never shared
        for k, o in enumerate(outs):
            if k in self.out_fixed:
                outs[k] = np.array(o) if isinstance(o, np.ndarray) else o
            else:
                outs[k] = handed.own(o)
        return unflatten(self.out_def, outs)


def _as_array(x):
    if type(x) is np.ndarray:
        return x
    if type(x) is Tensor:
        return x.value
    return np.asarray(x)


def _trace(fun, leaves, treedef, kwargs):
    from .transforms import _Transform
    with _Transform() as tr:
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
    replay, source, out_fixed = _compile(fun, inputs, vertices, outs)
    return _Program(replay, source, dynamic, out_def, out_fixed)


def _axes(v):
    """The axes argument of a recorded transpose (positional or keyword, or None)."""
    if len(v.args) > 1:
        return v.args[1]
    return (v.kw or {}).get("axes")


def _compile(fun, inputs, vertices, outs):
    """Straight-line Python source for the recorded vertices the outputs need."""
    from .ops.shape import transpose
    from .transforms import identity
    needed = {id(o) for o in outs if type(o) is Tensor}
    keep = []
    for v in reversed(vertices):  # liveness: children before parents
        if id(v) in needed and v.op is not placeholder:
            keep.append(v)
            if v.args:
                needed.update(id(a) for a in v.args if type(a) is Tensor)
    keep.reverse()

    names = {id(t): f"x{k}" for k, t in enumerate(inputs)}
    env = {"_asarray": np.asarray}

    def const(obj, prefix="c"):
        name = f"{prefix}{len(env)}"
        env[name] = obj
        return name

    def ref(a):
        if type(a) is Tensor:
            name = names.get(id(a))
            if name is not None:
                return name
            if a.op is None and not a.requires_grad:
                return const(a.value)
            return const(a, "t") + ".value"  # recorded outside this trace: read it live
        return const(a)

    lines = []
    for i, v in enumerate(keep):
        target = f"v{i}"
        if v.op is None:  # a leaf made inside the function (a transform's input)
            lines.append(f"    {target} = {const(v.value)}")
        elif v.op is identity:  # a transform's leaf over an input: the same array
            names[id(v)] = ref(v.args[0])
            continue
        else:
            if v.op is transpose:  # a view: the method call skips two Python frames
                call = f"{ref(v.args[0])}.transpose({const(_axes(v))})"
            else:
                call = f"{const(v.op.fun, 'f')}({', '.join(ref(a) for a in v.args)}"
                call += f", **{const(v.kw, 'k')})" if v.kw else ")"
            if v.value.ndim == 0:  # NumPy gives scalars for 0-d results; keep arrays
                call = f"_asarray({call})"
            lines.append(f"    {target} = {call}  # {v.op.name}")
        names[id(v)] = target
    out_refs, out_fixed = [], set()
    for k, o in enumerate(outs):
        r = ref(o)
        out_refs.append(r)
        if not r.startswith(("v", "x")):
            out_fixed.add(k)
    name = getattr(fun, "__name__", "f").replace("(", "_").replace(")", "_")
    src = (f"def replay({', '.join(names[id(t)] for t in inputs)}):\n"
           + "\n".join(lines) + ("\n" if lines else "")
           + f"    return ({''.join(r + ', ' for r in out_refs)})\n")
    exec(compile(src, f"<cr.jit {name}>", "exec"), env)
    return env["replay"], src, out_fixed
