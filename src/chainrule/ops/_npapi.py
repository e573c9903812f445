"""NumPy's calling conventions for the catalogue's implementations.

``numpy_function(np.f)`` wraps an implementation of ``np.f``: called without
any Tensor among its arguments (nested lists included) it is NumPy's own
function, with every option NumPy has; with a Tensor, ``out=`` is refused
(a result is a new vertex of the graph, never written into an array) and the
implementation runs on chainrule's operations. ``dtype=`` becomes a
differentiable cast (``as_dtype``) to a float or complex dtype.
"""
import functools
import inspect

import numpy as np

from ..tensor import Tensor
from ._util import value
from .elementwise import cast


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


def as_dtype(name, x, dtype):
    """x in NumPy's dtype= (None: x itself): a differentiable cast to a float or complex dtype.

    A cast of a differentiated Tensor to an integer or boolean dtype has no
    derivative and is refused.
    """
    if dtype is None:
        return x
    dt = np.dtype(dtype)
    if dt == value(x).dtype:
        return x
    if type(x) is Tensor and dt.kind not in "fc":
        raise TypeError(f"{name}: dtype={dt} would cast a differentiated value to a "
                        f"non-float dtype, which has no derivative; compute in "
                        f"{value(x).dtype} and cast the result with np.asarray(t).astype()")
    return cast(x, dt)
