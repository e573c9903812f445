"""Pytrees: nested dict / list / tuple containers of arrays.

``flatten`` turns a pytree into its leaves (in a fixed order: dict keys sorted)
and a ``treedef`` from which ``unflatten`` rebuilds the same structure.
Anything that is not a dict, list or tuple is a leaf.
"""

import numpy as np

_LEAF = "leaf"


def flatten(tree):
    """Returns (leaves, treedef); treedef is hashable (cr.jit keys its cache on it)."""
    leaves = []
    treedef = _flatten(tree, leaves)
    return leaves, treedef


def _flatten(tree, leaves):
    t = type(tree)
    if t is np.ndarray or t is float:  # the common leaves first: transforms and cr.jit
        leaves.append(tree)            # flatten their arguments at every call
        return _LEAF
    if t is dict or isinstance(tree, dict):
        keys = tuple(sorted(tree))
        return ("dict", keys, tuple([_flatten(tree[k], leaves) for k in keys]))
    if t is tuple or t is list or isinstance(tree, (list, tuple)):
        return ("seq", t, tuple([_flatten(x, leaves) for x in tree]))
    leaves.append(tree)
    return _LEAF


def is_leaf(treedef):
    """True if ``treedef`` describes a single leaf (not a container)."""
    return treedef is _LEAF


def unflatten(treedef, leaves):
    """Rebuild the structure ``treedef`` with ``leaves`` in order."""
    it = iter(leaves)
    return _unflatten(treedef, it)


def _unflatten(treedef, it):
    if treedef is _LEAF:
        return next(it)
    kind, meta, children = treedef
    if kind == "dict":
        return {k: _unflatten(c, it) for k, c in zip(meta, children)}
    items = [_unflatten(c, it) for c in children]
    if meta is tuple or meta is list:
        return meta(items)
    if hasattr(meta, "_fields"):  # namedtuple
        return meta(*items)
    return meta(items)
