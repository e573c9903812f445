"""ravel_pytree: a pytree of arrays as one flat vector, and back (differentiably)."""
import numpy as np

from .ops import concatenate, getitem, reshape
from .pytree import flatten, unflatten
from .tensor import Tensor, value


def ravel_pytree(tree):
    """(flat, unravel): the leaves of ``tree`` raveled and joined into one 1-d vector.

    Leaves are taken in pytree order (dict keys sorted, lists and tuples in
    order); ``unravel(v)`` rebuilds the structure, shapes and dtypes from a
    vector of the same size. Both directions are chainrule operations, so they
    can be differentiated under every transform (as JAX's ``ravel_pytree`` and
    autograd's ``flatten``), e.g. to hand a model's parameters to
    ``scipy.optimize`` as one vector.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> flat, unravel = cr.ravel_pytree({"b": np.zeros(2), "W": np.ones((2, 2))})
        >>> flat
        array([1., 1., 1., 1., 0., 0.])
        >>> unravel(np.arange(6.0))["b"]
        array([4., 5.])
    """
    leaves, tdef = flatten(tree)
    shapes = [np.shape(value(x)) for x in leaves]
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    dtypes = [np.asarray(value(x)).dtype for x in leaves]
    dtype = np.result_type(*dtypes) if leaves else np.dtype(np.float64)
    parts = [reshape(x, (-1,)) if type(x) is Tensor else np.ravel(np.asarray(x)) for x in leaves]
    if not parts:
        flat = np.zeros(0, dtype)
    elif any(type(p) is Tensor for p in parts):
        flat = concatenate(parts, 0)
    else:
        flat = np.concatenate(parts).astype(dtype, copy=False)
    total = sum(sizes)

    def unravel(vector):
        """The pytree of ``ravel_pytree``'s input, rebuilt from a vector of its size."""
        n = int(np.size(value(vector)))
        if np.ndim(value(vector)) != 1 or n != total:
            raise ValueError(f"unravel: expected a 1-d vector of {total} entries (the size of "
                             f"the raveled pytree), got shape {np.shape(value(vector))}")
        out, start = [], 0
        for shape, size in zip(shapes, sizes):
            piece = getitem(vector, slice(start, start + size))
            out.append(reshape(piece, shape))
            start += size
        return unflatten(tdef, out)
    return flat, unravel
