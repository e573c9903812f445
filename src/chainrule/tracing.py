"""Recording a program: a transform's stretch of the tape and the leaves it starts from.

A transform (``grad``, ``jvp``, ``trace``...) opens a ``Transform``: the
vertices recorded while it runs are appended to this thread's tape, and its
own are the ones from where it started. Its inputs become fresh *leaves*
(``leaf``); an input that is already a vertex of an outer transform is wrapped
by ``identity``, so the outer transform differentiates through it.
"""
import numpy as np

from .primitive import Primitive
from .state import state
from .tensor import Tensor

# A transform's leaf that wraps a value of an outer transform: identity, so the
# outer transform differentiates through it.
identity = Primitive(lambda x: x, "identity")
identity.defvjp(lambda g, ans, x: g)
identity.defjvp(lambda t, ans, x: t)


class Transform:
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


def differentiable_array(x, what="differentiate with respect to"):
    """x as an array a derivative can be taken with respect to.

    Floating-point and complex values are kept as they are; integers and
    booleans become float64 (a derivative with respect to an integer argument
    is the derivative of the same function of a real argument).
    """
    if type(x) is np.ndarray and x.dtype.kind in "fc":
        return x
    v = np.asarray(x)
    if v.dtype.kind not in "fc":
        if v.dtype.kind not in "iub":
            raise TypeError(f"cannot {what} a value of type {type(x).__name__} (dtype "
                            f"{v.dtype}); pass a numeric array or float")
        v = v.astype(np.float64)
    return v


def float_dtype(a):
    """The dtype of a's derivative: a's own if floating point or complex, else float64."""
    dt = np.asarray(a).dtype
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def leaf(x, requires_grad=True, copy=False, keep_type=False):
    """A fresh leaf vertex for one input entry of a transform.

    ``keep_type``: integers and booleans stay as they are (a label, an index),
    instead of becoming float64.
    """
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
    v = np.asarray(x) if keep_type else differentiable_array(x)
    if copy and v is x:
        v = v.copy()  # the caller may update x in place while the graph is alive
    t = Tensor(v, requires_grad)
    state.tape.append(t)
    return t
