"""Handing gradients to the caller as NumPy arrays they own, copying only when needed."""
import numpy as np

from .tensor import Tensor


class Handed:
    """Gives out arrays the caller owns, copying only what might be shared.

    A gradient the backward pass computed is usually a fresh array nobody else
    holds; copying it (a 1.6 MB weight gradient, every step) would be waste.
    Ownership is decided by construction, not by counting references: every
    array a rule returns is either fresh, a view of an array made earlier in
    the same pass, or derived from a cotangent the caller passed in (rules are
    linear in their cotangent). So an array is copied when it is read-only (a
    broadcast view), not in the leaf's dtype, the leaf's own value, or when it
    (or the array it views) is a cotangent the caller passed in or was already
    handed out for another leaf (``x + y`` gives both the same g; ``x + y.T``
    gives y a view of x's).
    """

    def __init__(self, cotangents=()):
        self.seen = {id(c) for c in cotangents}

    def own(self, g, leaf=None):
        """g as an array the caller owns (in the leaf's dtype when a leaf is given)."""
        if type(g) is Tensor:
            g = g.value
        root = _root(g) if type(g) is np.ndarray else None
        if (root is None or id(g) in self.seen or id(root) in self.seen
                or not g.flags.writeable
                or (leaf is not None and (g.dtype != leaf.value.dtype or root is _root(leaf.value)))):
            g = np.array(g, dtype=None if leaf is None else leaf.value.dtype)
            root = g
        self.seen.add(id(g))
        self.seen.add(id(root))
        return g


def _root(a):
    """The array that owns the memory a view looks at (a itself if it is not a view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a
