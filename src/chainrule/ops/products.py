"""Products: einsum, tensordot, inner, outer, cross, vdot, matmul and dot on every shape.

``NUMPY_IMPLS`` maps each NumPy callable to its differentiable implementation
(NumPy's signature; Tensors, arrays, scalars and nested lists of them accepted).

One primitive does the work: ``einsum``, on subscripts made explicit (ellipsis
spelled out as letters, the implicit output written down). Its VJP for operand
k is again an einsum, of g with the other operands, producing operand k's
subscripts. Two cases need care, both handled by extra constant operands:
a letter repeated within operand k (a diagonal, ``'ii->i'``) gets a fresh
letter tied to the first by an identity matrix (the cotangent is scattered onto
the diagonal), and a letter that only operand k has (summed away, ``'ij->i'``)
gets a vector of ones (the cotangent is spread along it). tensordot, inner,
dot beyond 2-D and vdot are einsums; outer and cross are written with the core
ops. Everything is multilinear, so the rules hold unchanged for complex
operands (holomorphic: no conjugation, autograd's convention); only vdot
conjugates, as NumPy's does.
"""
import string
from collections import Counter

import numpy as np

from ..primitive import Each, Primitive
from ._util import pack, shape_of, value
from .elementwise import add, conj, multiply, negative, subtract
from .linalg import matmul
from .shape import getitem, reshape, stack, transpose

_LETTERS = string.ascii_letters


# ----- einsum ---------------------------------------------------------------------------
def _canonical(subscripts, shapes):
    """(input subscripts, output subscripts) with no ellipsis and an explicit output."""
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, out = s.split("->")
    else:
        ins, out = s, None
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"np.einsum: subscripts {subscripts!r} name {len(ins)} operand(s) "
                         f"but {len(shapes)} were given")
    for sub, shp in zip(ins, shapes):
        if len(sub.replace("...", "")) > len(shp) or ("..." not in sub and len(sub) != len(shp)):
            raise ValueError(f"np.einsum: subscripts {sub!r} do not match an operand of "
                             f"shape {tuple(shp)} (one letter per axis, '...' for the rest)")
    free = [c for c in _LETTERS if c not in s]
    widths = [len(shp) - len(sub) + 3 for sub, shp in zip(ins, shapes) if "..." in sub]
    n_ell = max(widths, default=0)
    ell = "".join(free[:n_ell])
    letters = Counter("".join(ins).replace(".", ""))
    ins = [sub.replace("...", ell[n_ell - (len(shp) - len(sub) + 3):])
           if "..." in sub else sub for sub, shp in zip(ins, shapes)]
    if out is None:
        out = ell + "".join(sorted(c for c, n in letters.items() if n == 1))
    elif "..." in out:
        out = out.replace("...", ell)
    elif n_ell:
        raise ValueError("np.einsum: output has more dimensions than subscripts given in "
                         "einstein sum, but no '...' ellipsis provided to broadcast the extra "
                         f"dimensions ({subscripts!r}); add '...' to the output")
    return ins, out


def _einsum_fun(*operands, subscripts, optimize=False):
    return np.einsum(subscripts, *operands, optimize=optimize)


def _sizes(ins, shapes):
    """The size of each letter (the largest: size-1 axes broadcast)."""
    sizes = {}
    for sub, shp in zip(ins, shapes):
        for c, n in zip(sub, shp):
            sizes[c] = max(sizes.get(c, 1), n)
    return sizes


def _einsum_vjp(k):
    def rule(g, ans, *operands, subscripts, optimize=False):
        ins, out = subscripts.split("->")
        ins = ins.split(",")
        sizes = _sizes(ins, [shape_of(o) for o in operands])
        dt = np.result_type(value(g))
        subs, ops = [out], [g]
        for j, o in enumerate(operands):
            if j != k:
                subs.append(ins[j])
                ops.append(o)
        present = set("".join(subs))
        free = iter(c for c in _LETTERS if c not in subscripts)
        target = []
        for c in ins[k]:
            if c in target:  # a diagonal: a fresh letter, tied to c by the identity
                c2 = next(free)
                subs.append(c + c2)
                ops.append(np.eye(sizes[c], dtype=dt))
                target.append(c2)
                continue
            if c not in present:  # summed over in operand k only: spread g along it
                subs.append(c)
                ops.append(np.ones(sizes[c], dtype=dt))
                present.add(c)
            target.append(c)
        return einsum_p(*ops, subscripts=",".join(subs) + "->" + "".join(target),
                        optimize=optimize)
    return rule


def _einsum_jvp(k):
    def rule(t, ans, *operands, subscripts, optimize=False):
        ops = list(operands)
        ops[k] = t
        return einsum_p(*ops, subscripts=subscripts, optimize=optimize)
    return rule


einsum_p = Primitive(_einsum_fun, "einsum", broadcasts=True)
einsum_p.vjps = Each(_einsum_vjp)
einsum_p.jvps = Each(_einsum_jvp)


def _sublist(sub):
    return "".join("..." if i is Ellipsis else _LETTERS[i] for i in sub)


def einsum(*operands, out=None, optimize=False, **kw):
    """np.einsum: any subscripts (implicit or explicit output, '...', repeated letters).

    Also the interleaved form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    Example:
        >>> import chainrule.numpy as np   # doctest: +SKIP
        >>> np.einsum('ij,jk->ik', A, B)   # doctest: +SKIP
    """
    if out is not None:
        raise TypeError("np.einsum: out= is not supported on differentiable arrays; "
                        "assign the result instead")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], operands[1:]
    else:  # interleaved: (array, sublist)*, [output sublist]
        ops = list(operands)
        arrays, subs = ops[0::2], ops[1::2]
        out_sub = None
        if len(arrays) > len(subs):
            out_sub, arrays = arrays[-1], arrays[:-1]
        subscripts = ",".join(_sublist(s) for s in subs)
        if out_sub is not None:
            subscripts += "->" + _sublist(out_sub)
    arrays = [pack(a) for a in arrays]
    ins, outs = _canonical(subscripts, [shape_of(a) for a in arrays])
    if kw.get("dtype") is not None:
        arrays = [a.astype(kw["dtype"]) if isinstance(a, np.ndarray) else a for a in arrays]
    return einsum_p(*arrays, subscripts=",".join(ins) + "->" + outs,
                    optimize=bool(optimize) if not isinstance(optimize, str) else optimize)


# ----- the products written as einsums ----------------------------------------------------
def _letters(n, skip=""):
    return "".join(c for c in _LETTERS if c not in skip)[:n]


def tensordot(a, b, axes=2):
    """np.tensordot: sum over the last ``axes`` axes of a and first of b (or given pairs)."""
    a, b = pack(a), pack(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        axes = (list(range(na - axes, na)), list(range(axes)))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError(f"np.tensordot: axes {axes} pair {len(ax_a)} axes of a with "
                         f"{len(ax_b)} of b; give the same number on both sides")
    ax_a = [x % na for x in ax_a]
    ax_b = [x % nb for x in ax_b]
    la = list(_letters(na))
    lb = list(_letters(nb, la))
    for i, j in zip(ax_a, ax_b):
        if shape_of(a)[i] != shape_of(b)[j]:
            raise ValueError(f"np.tensordot: shape-mismatch for sum: axis {i} of a (shape "
                             f"{shape_of(a)}) and axis {j} of b (shape {shape_of(b)})")
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in ax_a] + \
          [c for j, c in enumerate(lb) if j not in ax_b]
    return einsum_p(a, b, subscripts="".join(la) + "," + "".join(lb) + "->" + "".join(out))


def inner(a, b):
    """np.inner: sum over the last axes (a scalar operand multiplies)."""
    a, b = pack(a), pack(b)
    if len(shape_of(a)) == 0 or len(shape_of(b)) == 0:
        return multiply(a, b)
    return tensordot(a, b, ([-1], [-1]))


def outer(a, b, out=None):
    """np.outer: a and b flattened, every product a_i b_j."""
    a, b = pack(a), pack(b)
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def dot(a, b, out=None):
    """np.dot on every shape: N-d arrays sum over a's last axis and b's second-to-last."""
    a, b = pack(a), pack(b)
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    if nb == 1 or (na <= 2 and nb <= 2) or na == 1:
        if shape_of(a)[-1] != shape_of(b)[-1 if nb == 1 else -2]:
            raise ValueError(f"np.dot: shapes {shape_of(a)} and {shape_of(b)} not aligned: "
                             f"{shape_of(a)[-1]} (dim {na - 1}) != "
                             f"{shape_of(b)[-1 if nb == 1 else -2]}")
        return matmul(a, b)  # (k) . (..., k, m) -> (..., m) and (..., k) . (k) too
    return tensordot(a, b, ([na - 1], [nb - 2]))


def np_matmul(a, b, out=None, **kw):
    """np.matmul (the @ operator): batches broadcast, 1-D operands are vectors."""
    if kw.get("axes") is not None or kw.get("axis") is not None:
        raise TypeError("np.matmul: axes= is not supported on differentiable arrays; "
                        "move the axes with np.moveaxis first")
    return matmul(pack(a), pack(b))


def vdot(a, b):
    """np.vdot: the flattened dot product, conjugating the first argument."""
    a, b = pack(a), pack(b)
    a, b = reshape(a, (-1,)), reshape(b, (-1,))
    if np.iscomplexobj(value(a)):
        a = conj(a)
    return einsum_p(a, b, subscripts="i,i->")


def _moveaxis(x, src, dst):
    nd = len(shape_of(x))
    order = [i for i in range(nd) if i != src % nd]
    order.insert(dst % nd, src % nd)
    return transpose(x, tuple(order)) if order != list(range(nd)) else x


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 2- or 3-vectors along an axis (2-vectors give the z component)."""
    a, b = pack(a), pack(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _moveaxis(a, axisa, -1)
    b = _moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"np.cross: incompatible dimensions for cross product (dimension "
                         f"must be 2 or 3), got {na} and {nb}")
    ac = [getitem(a, (Ellipsis, i)) for i in range(na)]
    bc = [getitem(b, (Ellipsis, i)) for i in range(nb)]
    z = subtract(multiply(ac[0], bc[1]), multiply(ac[1], bc[0]))
    if na == 2 and nb == 2:
        return z
    if na == 2:  # a = (a0, a1, 0)
        x = multiply(ac[1], bc[2])
        y = negative(multiply(ac[0], bc[2]))
    elif nb == 2:  # b = (b0, b1, 0)
        x = negative(multiply(ac[2], bc[1]))
        y = multiply(ac[2], bc[0])
    else:
        x = subtract(multiply(ac[1], bc[2]), multiply(ac[2], bc[1]))
        y = subtract(multiply(ac[2], bc[0]), multiply(ac[0], bc[2]))
    shape = np.broadcast_shapes(shape_of(x), shape_of(y), shape_of(z))
    # a component of a 2-vector operand may have a smaller shape: broadcast before stacking
    parts = [p if shape_of(p) == shape else add(p, np.zeros(shape, dtype=np.result_type(value(p))))
             for p in (x, y, z)]
    return _moveaxis(stack(parts, -1), -1, axisc)


def trace_last(x):
    """The sum of the diagonal of the last two axes (used by the np.linalg rules)."""
    lead = _LETTERS[1:len(shape_of(x)) - 1]
    return einsum_p(x, subscripts=lead + "aa->" + lead)


NUMPY_IMPLS = {
    np.einsum: einsum, np.tensordot: tensordot, np.inner: inner, np.outer: outer,
    np.cross: cross, np.vdot: vdot, np.dot: dot, np.matmul: np_matmul,
}
