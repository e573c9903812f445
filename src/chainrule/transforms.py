"""Function transforms: grad, value_and_grad, vjp, jvp, jacobian, jacfwd, hessian, hvp.

Each transform runs the user's function once on Tensors (recording a tape),
then runs the backward pass (or reads the forward-mode tangents). Arguments
and results may be pytrees (nested dict/list/tuple) of arrays or floats;
results come back in the same structure as NumPy arrays the caller owns.

Higher order: a transform running inside another one (``grad(grad(f))``,
``jacfwd(grad(f))``) records its own backward pass, so the outer transform
can differentiate it. At top level nothing is recorded for the backward pass,
so first-order gradients pay nothing for this.
"""
import warnings

import numpy as np

from .backward import backward_pass
from .errors import NonScalarError
from .handed import Handed
from .ops import reshape, stack, transpose
from .primitive import _owned
from .pytree import flatten, unflatten
from .state import paused_gc, state
from .tensor import Tensor, value as _value
from .tracing import Transform, differentiable_array, float_dtype, leaf


def _name(f):
    return getattr(f, "__name__", "f")


def _argnums(argnums, nargs, name):
    if type(argnums) is int and 0 <= argnums < nargs:  # the common case, checked quickly
        return True, (argnums,)
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(f"{name}: argnums={argnums!r} does not fit a call with {nargs} "
                             f"positional argument(s)")
    return single, tuple(i % nargs for i in nums)


def _trace_inputs(args, nums, requires_grad=True, copy=False):
    """Replace args[i] (i in nums) by pytrees of leaf Tensors; returns (args, leaves, defs)."""
    args = list(args)
    leaves, defs = [], []
    for i in nums:
        flat, tdef = flatten(args[i])
        ls = [leaf(x, requires_grad, copy) for x in flat]
        args[i] = unflatten(tdef, ls)
        leaves.append(ls)
        defs.append(tdef)
    return args, leaves, defs


def _nested():
    """True while an outer transform runs: results must stay Tensors it can differentiate."""
    return state.depth > 0


def _export(x):
    """A result for the caller: a NumPy array they own, or a Tensor for an outer transform."""
    if type(x) is Tensor:
        return x if _nested() else np.array(x.value)
    return x if _nested() else np.array(x)


def _vjp_core(f, args, kwargs, nums, copy=False):
    with Transform() as tr:
        targs, leaves, defs = _trace_inputs(args, nums, copy=copy)
        out = f(*targs, **kwargs)
        vertices = tr.vertices()
    if copy:  # the pullback outlives this call: so must the NumPy constants f used
        for v in vertices:
            if v.args is not None:
                v.args, v.kw = _owned(v.args, v.kw)
    vertices.reverse()
    outs, out_def = flatten(out)
    stop = {v for ls in leaves for v in ls if v.op is not None}

    def pullback(cotangents):
        seeds = {}
        for o, c in zip(outs, cotangents):
            if type(o) is Tensor and o.requires_grad:
                seeds[o] = seeds[o] + c if o in seeds else c
        nested = _nested()
        p = backward_pass(vertices, seeds, create_graph=nested, stop=stop)
        handed = Handed(cotangents)
        grads = []
        for ls, tdef in zip(leaves, defs):
            gs = []
            for v in ls:
                g = p.get(v)
                if g is None:
                    g = np.zeros_like(v.value)
                elif not nested:
                    g = handed.own(g, v)
                gs.append(g)
            grads.append(unflatten(tdef, gs))
        return grads

    return out, outs, out_def, pullback


def _check_cotangent(c, o, i):
    if type(c) is not Tensor:
        c = np.asarray(c)
    oshape = np.shape(_value(o))
    if c.shape != oshape:
        raise ValueError(f"vjp: cotangent {i} has shape {c.shape} but the output has "
                         f"shape {oshape}; they must match")
    return c


def value_and_grad(f, argnums=0, has_aux=False):
    """f and its gradient with respect to the argument(s) ``argnums``.

    With ``has_aux=True``, f returns ``(value, aux)`` and the result is
    ``((value, aux), gradient)``, as in JAX: aux is carried along undifferentiated.

    Example:
        >>> import chainrule as cr
        >>> cr.value_and_grad(lambda x: x ** 3)(2.0)
        (array(8.), array(12.))
    """
    def wrapper(*args, **kwargs):
        with paused_gc():
            return _value_and_grad(f, argnums, args, kwargs, has_aux)
    return wrapper


def _value_and_grad(f, argnums, args, kwargs, has_aux, holomorphic=False):
    single, nums = _argnums(argnums, len(args), "grad")
    g = _split_aux(f) if has_aux else f
    out, outs, _, pullback = _vjp_core(g, args, kwargs, nums)
    if has_aux:
        out, aux = out
        outs = flatten(out)[0]
    ov = np.asarray(_value(outs[0])) if len(outs) == 1 else None
    if ov is None or ov.size != 1:
        shapes = [np.shape(_value(o)) for o in outs]
        raise NonScalarError(
            f"grad needs a scalar-valued function, but {_name(f)} "
            f"returned {'shape ' + str(shapes[0]) if len(shapes) == 1 else 'a pytree'}. "
            f"Reduce the output to a scalar (e.g. cr.sum), or use cr.jacobian for the "
            f"derivative of a non-scalar output.")
    o = outs[0]
    if ov.dtype.kind == "c" and not holomorphic:
        raise TypeError(
            f"grad needs a real-valued function, but {_name(f)} returned a complex value. "
            f"For a holomorphic function use cr.holomorphic_grad; for a complex output "
            f"in general use cr.jacobian (or differentiate its real part, cr.real).")
    if type(o) is not Tensor or not o.requires_grad:
        warnings.warn(f"grad: the output of {_name(f)} does not depend on the differentiated "
                      f"input(s); the gradient is zero.", stacklevel=3)
    dt = ov.dtype if ov.dtype.kind in "fc" else np.float64
    seed = np.array(1, dt) if ov.ndim == 0 else np.ones(ov.shape, dt)  # p_n = 1
    grads = pullback([seed])
    value = _export(out)
    if has_aux:
        value = (value, _export_tree(aux))
    return value, grads[0] if single else tuple(grads)


def _split_aux(f):
    """f returning (value, aux): the pair, checked."""
    def g(*args, **kwargs):
        res = f(*args, **kwargs)
        if not (isinstance(res, tuple) and len(res) == 2):
            raise TypeError(f"has_aux=True: {getattr(f, '__name__', 'f')} must return a pair "
                            f"(value, aux), got {type(res).__name__}")
        return res
    return g


def grad(f, argnums=0, has_aux=False):
    """The gradient of a scalar-valued f with respect to argument(s) ``argnums``.

    With ``has_aux=True`` f returns ``(value, aux)`` and grad returns
    ``(gradient, aux)``. A real function of complex arguments gets HIPS
    autograd's convention: df/dx - i df/dy for z = x + iy.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.grad(lambda x: cr.sum(x * x))(np.array([1.0, 2.0]))
        array([2., 4.])
    """
    vg = value_and_grad(f, argnums, has_aux)

    def wrapper(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    wrapper.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return wrapper


def holomorphic_grad(f, argnums=0):
    """The complex derivative f'(z) of a holomorphic scalar function (autograd's name).

    Example:
        >>> import chainrule as cr
        >>> complex(cr.holomorphic_grad(lambda z: z ** 2)(1 + 2j))
        (2+4j)
    """
    def wrapper(*args, **kwargs):
        with paused_gc():
            return _value_and_grad(f, argnums, args, kwargs, False, holomorphic=True)[1]
    wrapper.__name__ = f"holomorphic_grad({getattr(f, '__name__', 'f')})"
    return wrapper


def elementwise_grad(f, argnums=0):
    """The gradient of sum(f(x)): for an elementwise f, the derivative of each entry.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.elementwise_grad(cr.tanh)(np.array([0.0, 1.0]))
        array([1.        , 0.41997434])
    """
    def wrapper(*args, **kwargs):
        with paused_gc():
            single, nums = _argnums(argnums, len(args), "elementwise_grad")
            out, outs, _, pullback = _vjp_core(f, args, kwargs, nums)
            grads = pullback([np.ones_like(np.asarray(_value(o)), dtype=float_dtype(
                np.asarray(_value(o)))) for o in outs])
            return grads[0] if single else tuple(grads)
    wrapper.__name__ = f"elementwise_grad({getattr(f, '__name__', 'f')})"
    return wrapper


def vjp(f, *primals):
    """Returns (f(*primals), vjp_fn) where vjp_fn(cotangent) gives one gradient per primal.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> out, vjp_fn = cr.vjp(lambda x: x * 2.0, np.ones(3))
        >>> vjp_fn(np.array([1.0, 2.0, 3.0]))
        (array([2., 4., 6.]),)
    """
    # vjp_fn outlives this call, so the inputs are copied: the caller may update
    # them in place before calling it (grad's graph dies before it returns).
    with paused_gc():
        out, outs, out_def, pullback = _vjp_core(f, primals, {}, tuple(range(len(primals))),
                                                 copy=True)

    def vjp_fn(cotangent):
        cts, ct_def = flatten(cotangent)
        if len(cts) != len(outs):
            raise ValueError(f"vjp: the cotangent has {len(cts)} leaves but the output has "
                             f"{len(outs)}; give one array per output, in the same structure")
        cts = [_check_cotangent(c, o, i) for i, (c, o) in enumerate(zip(cts, outs))]
        with paused_gc():
            return tuple(pullback(cts))
    return _export_tree(out), vjp_fn


def _export_tree(out):
    leaves, tdef = flatten(out)
    return unflatten(tdef, [_export(x) for x in leaves])


def jvp(f, primals, tangents):
    """Forward mode: returns (f(*primals), J t), J the Jacobian of f at primals.

    Nests to any depth (jvp of jvp, jacfwd of jacfwd) and with the reverse-mode
    transforms in either order: each jvp's tangents carry its own level.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.jvp(cr.sin, (0.0,), (2.0,))
        (array(0.), array(2.))
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    state.next_level += 1
    level = state.next_level
    saved = state.levels, state.cap
    with Transform():
        state.levels, state.cap = saved[0] + (level,), level
        try:
            args = [_tangent_leaves(x, t, i, level) for i, (x, t) in
                    enumerate(zip(primals, tangents))]
            out = f(*args)
        finally:
            state.levels, state.cap = saved
    outs, odef = flatten(out)
    touts = []
    for o in outs:
        t = o.tangent.get(level) if type(o) is Tensor and o.tangent else None
        if t is None:  # the output does not depend on the primals: a zero tangent
            ov = np.asarray(_value(o))
            t = np.zeros(ov.shape, ov.dtype if ov.dtype.kind in "fc" else np.float64)
        touts.append(_export(t))
    return _export_tree(out), unflatten(odef, touts)


def _tangent_leaves(x, t, i, level):
    """Primal i as a pytree of leaves carrying the tangents t at ``level``."""
    xs, xdef = flatten(x)
    ts, tdef = flatten(t)
    if len(xs) != len(ts):
        raise ValueError(f"jvp: primal {i} and its tangent have different structures")
    ls = []
    for xv, tv in zip(xs, ts):
        lf = leaf(xv, requires_grad=type(xv) is Tensor and xv.requires_grad)
        if type(tv) is not Tensor:
            tv = np.asarray(tv)
            tv = tv.astype(np.result_type(tv, lf.value.dtype) if tv.dtype.kind == "c"
                           else lf.value.dtype, copy=False)
        if np.shape(_value(tv)) != lf.value.shape:
            raise ValueError(f"jvp: tangent shape {np.shape(_value(tv))} does not match "
                             f"primal shape {lf.value.shape} (argument {i})")
        lf.tangent = dict(lf.tangent or {})
        lf.tangent[level] = tv
        ls.append(lf)
    return unflatten(xdef, ls)


def _assemble(out_def, out_shapes, in_defs, in_shapes, single, block):
    """A Jacobian pytree: the output's structure outside, the arguments' inside.

    ``block(o, a, j)`` gives the block d out_o / d (leaf j of argument a), of
    shape out_shapes[o] + in_shapes[a][j].
    """
    per_out = []
    for o in range(len(out_shapes)):
        per_arg = [unflatten(in_defs[a], [block(o, a, j) for j in range(len(in_shapes[a]))])
                   for a in range(len(in_defs))]
        per_out.append(per_arg[0] if single else tuple(per_arg))
    return unflatten(out_def, per_out)


def _inputs(args, nums):
    """(tree definitions, leaf shapes) of the differentiated arguments."""
    defs, shapes = [], []
    for i in nums:
        flat, tdef = flatten(args[i])
        defs.append(tdef)
        shapes.append([np.shape(_value(x)) for x in flat])
    return defs, shapes


def jacobian(f, argnums=0):
    """Reverse-mode Jacobian: shape out.shape + arg.shape (one backward pass per output entry).

    Pytrees in and out: the result has the output's structure, each leaf holding
    the argument's structure (as in JAX).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.jacobian(lambda x: x * x)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    def wrapper(*args, **kwargs):
        single, nums = _argnums(argnums, len(args), "jacobian")
        in_defs, in_shapes = _inputs(args, nums)
        out, outs, out_def, pullback = _vjp_core(f, args, kwargs, nums)
        ovals = [np.asarray(_value(o)) for o in outs]
        rows = []  # rows[o][k][a] = the leaves of d out_o[k] / d argument a
        for o, ov in enumerate(ovals):
            rows.append([])
            for k in range(ov.size):
                cts = [np.zeros(v.shape, float_dtype(v)) for v in ovals]
                cts[o].reshape(-1)[k] = 1.0
                rows[o].append([flatten(g)[0] for g in pullback(cts)])

        def block(o, a, j):
            shape = ovals[o].shape + in_shapes[a][j]
            if not rows[o]:
                return np.zeros(shape)
            return _reshape(_stack([r[a][j] for r in rows[o]], in_shapes[a][j]), shape)
        return _assemble(out_def, [v.shape for v in ovals], in_defs, in_shapes, single, block)
    return wrapper


def jacfwd(f, argnums=0):
    """Forward-mode Jacobian (one JVP per input entry); same result as ``jacobian``."""
    def wrapper(*args, **kwargs):
        single, nums = _argnums(argnums, len(args), "jacfwd")
        in_defs, in_shapes = _inputs(args, nums)
        primals = [args[i] for i in nums]
        zeros = [[np.zeros(np.shape(_value(x)), float_dtype(differentiable_array(_value(x))))
                  for x in flatten(p)[0]] for p in primals]

        def g(*ps):
            full = list(args)
            for i, p in zip(nums, ps):
                full[i] = p
            return f(*full, **kwargs)

        def push(a, j, k):
            """The output tangents for the basis tangent e_k of leaf j of argument a."""
            tangents = [list(z) for z in zeros]
            e = np.zeros_like(tangents[a][j])
            e.reshape(-1)[k] = 1.0
            tangents[a][j] = e
            out, t = jvp(g, primals, [unflatten(d, ts) for d, ts in zip(in_defs, tangents)])
            return out, flatten(t)[0]

        cols = {}  # cols[a, j] = per input entry, the list of output-leaf tangents
        out = None
        for a in range(len(nums)):
            for j, shape in enumerate(in_shapes[a]):
                cols[a, j] = []
                for k in range(int(np.prod(shape, dtype=int))):
                    out, t = push(a, j, k)
                    cols[a, j].append(t)
        if out is None:  # every argument is empty: still need the output's structure
            out = jvp(g, primals, [unflatten(d, z) for d, z in zip(in_defs, zeros)])[0]
        outs, out_def = flatten(out)
        out_shapes = [np.shape(_value(o)) for o in outs]

        def block(o, a, j):
            shape = out_shapes[o] + in_shapes[a][j]
            if not cols[a, j]:
                return np.zeros(shape)
            stacked = _stack([c[o] for c in cols[a, j]], out_shapes[o])  # (n_in, *out)
            return _reshape(_move_first_last(stacked, len(out_shapes[o])), shape)
        return _assemble(out_def, out_shapes, in_defs, in_shapes, single, block)
    return wrapper


def hessian(f, argnums=0):
    """Hessian of a scalar f, shape arg.shape + arg.shape: reverse over reverse.

    The gradient's computation is recorded once, then each row of H is one
    backward pass through that recording (as HIPS autograd does). Forward over
    reverse (``jacfwd(grad(f))``) gives the same matrix but reruns f once per
    column: about 20x slower on a 4-parameter likelihood
    (benchmarks/bench_likelihood.py).
    """
    return jacobian(grad(f, argnums), argnums)


def hvp(f, argnums=0):
    """Hessian-vector product ``hvp(f)(*args, v) = H v`` without building H.

    H is the Hessian with respect to argument ``argnums`` (an int), v has that
    argument's shape (forward over reverse: one jvp of the gradient).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.hvp(lambda x: cr.sum(x ** 3))(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
        array([6., 0.])
    """
    if not isinstance(argnums, int):
        raise TypeError("hvp: argnums must be one int (the argument the Hessian is taken in)")

    def wrapper(*args):
        if len(args) < 2:
            raise TypeError("hvp(f)(*args, v): give f's arguments, then the vector v")
        *xs, v = args
        _, (i,) = _argnums(argnums, len(xs), "hvp")

        def g(xi):
            full = list(xs)
            full[i] = xi
            return grad(f, i)(*full)
        return jvp(g, (xs[i],), (v,))[1]
    return wrapper


# ----- small helpers that keep Tensors when nested ---------------------------------
def _stack(items, shape):
    if any(type(i) is Tensor for i in items):
        return stack(items, 0)
    return np.stack([np.asarray(i) for i in items], 0).reshape((len(items),) + tuple(shape))


def _reshape(x, shape):
    return reshape(x, shape) if type(x) is Tensor else np.reshape(x, shape)


def _move_first_last(x, out_ndim):
    """(n, *out) -> (*out, n)."""
    axes = tuple(range(1, out_ndim + 1)) + (0,)
    return transpose(x, axes) if type(x) is Tensor else np.transpose(x, axes)
