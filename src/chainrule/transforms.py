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
import numpy as np

from .backward import Handed, backward_pass
from .errors import NonScalarError
from .primitive import Primitive
from .pytree import flatten, unflatten
from .state import state
from .tensor import Tensor

# A transform's leaf that wraps a value of an outer transform: identity, so the
# outer transform differentiates through it.
identity = Primitive(lambda x: x, "identity")
identity.defvjp(lambda g, ans, x: g)
identity.defjvp(lambda t, ans, x: t)


class _Transform:
    """Context manager: one transform's stretch of this thread's tape."""

    def __enter__(self):
        self.outermost = state.tape is None
        if self.outermost:
            state.tape = []
        self.start = len(state.tape)
        state.depth += 1
        return self

    def vertices(self):
        """The vertices recorded so far by this transform, in creation order."""
        return state.tape[self.start:]

    def __exit__(self, *exc):
        state.depth -= 1
        if self.outermost:
            state.tape = None
        return False


def _as_float_array(x):
    """Inputs are differentiated as floating point: ints and bools become float64."""
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return x
    v = np.asarray(x)
    if not np.issubdtype(v.dtype, np.inexact):
        if not (np.issubdtype(v.dtype, np.number) or v.dtype == bool):
            raise TypeError(f"cannot differentiate with respect to a value of dtype {v.dtype}; "
                            f"pass a numeric array or float")
        v = v.astype(np.float64)
    return v


def _leaf(x, requires_grad=True):
    """A fresh leaf vertex for one input entry of a transform."""
    if type(x) is Tensor:
        if not (x.requires_grad or x.op is not None or x.tangent is not None):
            x = x.value  # a constant: no history to keep
        else:
            t = Tensor(x.value, requires_grad)
            t.tangent = x.tangent
            if requires_grad:
                t.op, t.args, t.kw = identity, (x,), None
            state.tape.append(t)
            return t
    t = Tensor(_as_float_array(x), requires_grad)
    state.tape.append(t)
    return t


def _argnums(argnums, nargs, name):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(f"{name}: argnums={argnums!r} does not fit a call with {nargs} "
                             f"positional argument(s)")
    return single, tuple(i % nargs for i in nums)


def _trace_inputs(args, nums, requires_grad=True):
    """Replace args[i] (i in nums) by pytrees of leaf Tensors; returns (args, leaves, defs)."""
    args = list(args)
    leaves, defs = [], []
    for i in nums:
        flat, tdef = flatten(args[i])
        ls = [_leaf(x, requires_grad) for x in flat]
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


def _vjp_core(f, args, kwargs, nums):
    with _Transform() as tr:
        targs, leaves, defs = _trace_inputs(args, nums)
        out = f(*targs, **kwargs)
        vertices = tr.vertices()
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


def value_and_grad(f, argnums=0):
    """f and its gradient with respect to the argument(s) ``argnums``.

    Example:
        >>> import chainrule as cr
        >>> cr.value_and_grad(lambda x: x ** 3)(2.0)
        (array(8.), array(12.))
    """
    def wrapper(*args, **kwargs):
        single, nums = _argnums(argnums, len(args), "grad")
        out, outs, _, pullback = _vjp_core(f, args, kwargs, nums)
        if len(outs) != 1 or np.size(outs[0].value if type(outs[0]) is Tensor else outs[0]) != 1:
            shapes = [np.shape(o.value if type(o) is Tensor else o) for o in outs]
            raise NonScalarError(
                f"grad needs a scalar-valued function, but {getattr(f, '__name__', 'f')} "
                f"returned {'shape ' + str(shapes[0]) if len(shapes) == 1 else 'a pytree'}. "
                f"Reduce the output to a scalar (e.g. cr.sum), or use cr.jacobian for the "
                f"derivative of a non-scalar output.")
        o = outs[0]
        seed = np.ones_like(o.value if type(o) is Tensor else np.asarray(o, dtype=float))
        grads = pullback([seed])
        return _export(out), grads[0] if single else tuple(grads)
    return wrapper


def grad(f, argnums=0):
    """The gradient of a scalar-valued f with respect to argument(s) ``argnums``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.grad(lambda x: cr.sum(x * x))(np.array([1.0, 2.0]))
        array([2., 4.])
    """
    vg = value_and_grad(f, argnums)

    def wrapper(*args, **kwargs):
        return vg(*args, **kwargs)[1]
    wrapper.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return wrapper


def vjp(f, *primals):
    """Returns (f(*primals), vjp_fn) where vjp_fn(cotangent) gives one gradient per primal.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> out, vjp_fn = cr.vjp(lambda x: x * 2.0, np.ones(3))
        >>> vjp_fn(np.array([1.0, 2.0, 3.0]))
        (array([2., 4., 6.]),)
    """
    out, outs, out_def, pullback = _vjp_core(f, primals, {}, tuple(range(len(primals))))

    def vjp_fn(cotangent):
        cts, ct_def = flatten(cotangent)
        if len(cts) != len(outs):
            raise ValueError(f"vjp: the cotangent has {len(cts)} leaves but the output has "
                             f"{len(outs)}; give one array per output, in the same structure")
        cts = [_check_cotangent(c, o, i) for i, (c, o) in enumerate(zip(cts, outs))]
        return tuple(pullback(cts))
    return _export_tree(out), vjp_fn


def _export_tree(out):
    leaves, tdef = flatten(out)
    return unflatten(tdef, [_export(x) for x in leaves])


def jvp(f, primals, tangents):
    """Forward mode: returns (f(*primals), J t), J the Jacobian of f at primals.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.jvp(cr.sin, (0.0,), (2.0,))
        (array(0.), array(2.))
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    with _Transform():
        args = []
        for i, (x, t) in enumerate(zip(primals, tangents)):
            xs, xdef = flatten(x)
            ts, tdef = flatten(t)
            if len(xs) != len(ts):
                raise ValueError(f"jvp: primal {i} and its tangent have different structures")
            ls = []
            for xv, tv in zip(xs, ts):
                if type(xv) is Tensor and xv.tangent is not None:
                    raise NotImplementedError(
                        "nested forward mode (jvp inside jvp/jacfwd) is not supported; "
                        "use forward over reverse (cr.hessian, cr.jacfwd(cr.grad(f))) or "
                        "reverse over reverse (cr.jacobian(cr.grad(f))).")
                leaf = _leaf(xv, requires_grad=type(xv) is Tensor and xv.requires_grad)
                tv = tv if type(tv) is Tensor else np.asarray(tv, dtype=leaf.value.dtype)
                if np.shape(tv.value if type(tv) is Tensor else tv) != leaf.value.shape:
                    raise ValueError(f"jvp: tangent shape {np.shape(tv)} does not match "
                                     f"primal shape {leaf.value.shape} (argument {i})")
                leaf.tangent = tv
                ls.append(leaf)
            args.append(unflatten(xdef, ls))
        out = f(*args)
    outs, odef = flatten(out)
    touts = []
    for o in outs:
        t = o.tangent if type(o) is Tensor else None
        if t is None:  # the output does not depend on the primals: a zero tangent
            ov = np.asarray(_value(o))
            t = np.zeros(ov.shape, ov.dtype if ov.dtype.kind in "fc" else np.float64)
        touts.append(_export(t))
    return _export_tree(out), unflatten(odef, touts)


def _out_array(out):
    if isinstance(out, (dict, list, tuple)):
        raise TypeError("jacobian: f must return a single array; for several outputs, "
                        "take the jacobian of each")
    return out.value if type(out) is Tensor else np.asarray(out)


def jacobian(f, argnums=0):
    """Reverse-mode Jacobian: shape out.shape + arg.shape (one backward pass per output entry).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.jacobian(lambda x: x * x)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    def wrapper(*args, **kwargs):
        single, nums = _argnums(argnums, len(args), "jacobian")
        out, outs, _, pullback = _vjp_core(f, args, kwargs, nums)
        oval = _out_array(out)
        if oval.size == 0:
            raise ValueError("jacobian: f returned an empty array")
        rows = []
        for k in range(oval.size):
            e = np.zeros(oval.size, dtype=oval.dtype if oval.dtype.kind == "f" else float)
            e[k] = 1.0
            rows.append(pullback([e.reshape(oval.shape)]))
        results = []
        for a in range(len(nums)):
            flats = [flatten(r[a]) for r in rows]
            tdef = flats[0][1]
            leaves = []
            for j in range(len(flats[0][0])):
                col = [fl[0][j] for fl in flats]
                lshape = np.shape(_value(col[0]))
                leaves.append(_reshape(_stack(col, lshape), oval.shape + lshape))
            results.append(unflatten(tdef, leaves))
        return results[0] if single else tuple(results)
    return wrapper


def jacfwd(f, argnums=0):
    """Forward-mode Jacobian (one JVP per input entry); same result as ``jacobian``."""
    def wrapper(*args, **kwargs):
        single, nums = _argnums(argnums, len(args), "jacfwd")
        results = []
        for i in nums:
            flat, tdef = flatten(args[i])
            leaves = []
            for j, x in enumerate(flat):
                xv = x.value if type(x) is Tensor else _as_float_array(x)
                cols = []
                for k in range(xv.size):
                    e = np.zeros(xv.size, dtype=xv.dtype)
                    e[k] = 1.0
                    tangents = [np.zeros_like(_as_float_array(_value(y))) for y in flat]
                    tangents[j] = e.reshape(xv.shape)

                    def g(*a, _i=i):
                        full = list(args)
                        full[_i] = a[0]
                        return f(*full, **kwargs)
                    out, t = jvp(g, (unflatten(tdef, flat),), (unflatten(tdef, tangents),))
                    cols.append(t)
                oshape = np.shape(_value(out))
                stacked = _stack(cols, oshape)  # (n_in, *out_shape)
                moved = _move_first_last(stacked, len(oshape))
                leaves.append(_reshape(moved, oshape + xv.shape))
            results.append(unflatten(tdef, leaves))
        return results[0] if single else tuple(results)
    return wrapper


def hessian(f, argnums=0):
    """Hessian of a scalar f: forward mode over reverse mode, shape arg.shape + arg.shape."""
    return jacfwd(grad(f, argnums), argnums)


def hvp(f, argnums=0):
    """Hessian-vector product ``hvp(f)(x, v) = H(x) v`` without building H.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.hvp(lambda x: cr.sum(x ** 3))(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
        array([6., 0.])
    """
    def wrapper(x, v):
        return jvp(grad(f, argnums), (x,), (v,))[1]
    return wrapper


# ----- small helpers that keep Tensors when nested ---------------------------------
def _value(x):
    return x.value if type(x) is Tensor else x


def _stack(items, shape):
    from .ops import stack
    if any(type(i) is Tensor for i in items):
        return stack(items, 0)
    return np.stack([np.asarray(i) for i in items], 0).reshape((len(items),) + tuple(shape))


def _reshape(x, shape):
    from .ops import reshape
    return reshape(x, shape) if type(x) is Tensor else np.reshape(x, shape)


def _move_first_last(x, out_ndim):
    """(n, *out) -> (*out, n)."""
    from .ops import transpose
    axes = tuple(range(1, out_ndim + 1)) + (0,)
    return transpose(x, axes) if type(x) is Tensor else np.transpose(x, axes)
