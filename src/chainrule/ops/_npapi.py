"""NumPy's calling conventions for the catalogue's implementations.

``numpy_function(np.f)`` wraps an implementation of ``np.f``: called without
any Tensor among its arguments (nested lists included) it is NumPy's own
function, with every option NumPy has; with a Tensor, ``out=`` is refused
(a result is a new vertex of the graph, never written into an array) and the
implementation runs on chainrule's operations.
"""
import functools
import inspect

import numpy as np

from ..tensor import Tensor


def has_tensor(args, kw=None):
    """Whether a Tensor occurs among args (and kw values), looking into lists and tuples."""
    for a in args:  # the common case first: a Tensor given directly
        if type(a) is Tensor:
            return True
    todo = [a for a in args if isinstance(a, (list, tuple))]
    if kw:
        todo.extend(kw.values())
    while todo:
        a = todo.pop()
        if type(a) is Tensor:
            return True
        if isinstance(a, (list, tuple)):
            todo.extend(a)
    return False


def numpy_function(npfun, name=None):
    """Decorator: ``impl`` implements ``npfun`` on Tensors; plain inputs run ``npfun``."""
    name = name or f"np.{npfun.__name__}"

    def deco(impl):
        # out= given by position is refused too (np.take(a, i, 0, buf))
        params = list(inspect.signature(impl).parameters)
        at = params.index("out") if "out" in params else None

        @functools.wraps(impl)
        def wrapper(*args, **kw):
            if not has_tensor(args, kw):
                return npfun(*args, **kw)
            if kw.get("out") is not None or (at is not None and len(args) > at and
                                             args[at] is not None):
                raise TypeError(
                    f"{name}: out= is not supported on Tensors (a result is a new vertex of "
                    f"the graph, not written into an existing array); write y = {name}(...) "
                    f"instead.")
            kw.pop("out", None)
            return impl(*args, **kw)
        wrapper.numpy_function = npfun
        return wrapper
    return deco


def check_dtype(name, dtype, have):
    """Refuse a dtype= the result would not have (a cast of a differentiated value)."""
    if dtype is not None and np.dtype(dtype) != np.dtype(have):
        raise TypeError(f"{name}: dtype={np.dtype(dtype)} differs from the input's {have}; "
                        f"on a Tensor the result keeps its dtype: cast the input first.")
