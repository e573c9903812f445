"""Per-thread recording state.

A transform (``grad``, ``vjp``, ``trace``...) opens a *tape*: a plain list to
which every vertex created while it runs is appended, in creation order. That
order is the seed notes' vertex numbering, so the tape *is* the graph and the
backward pass is one loop over it in reverse. Nested transforms share the list
and remember where their own part starts; the outermost one drops it on exit,
so nothing survives a finished transform. Everything lives in a
``threading.local``: two threads never see each other's tapes.
"""
import gc
import threading

from .errors import JitError


class _State(threading.local):
    # Instance attributes (not class defaults): the fastest thread-local reads,
    # and the tape is read once per recorded operation.
    def __init__(self):
        self.tape = None           # vertices recorded by the active transforms, or None
        self.depth = 0             # number of transforms active on this thread
        # Forward mode: each running jvp has a level (a number, larger = more
        # inner); a Tensor's tangents are a dict {level: tangent}. Only the
        # levels in ``levels`` are propagated, and only those <= ``cap``: while
        # the rule for level L runs, cap = L - 1, so its own operations carry
        # the outer levels' tangents (forward over forward) and not level L.
        self.levels = ()           # levels of the jvps running on this thread
        self.cap = 0               # the highest level propagated now (0: none)
        self.next_level = 0        # the last level handed out
        self.anomaly = False       # True inside cr.detect_anomaly()
        self.record_where = False  # True when vertices must remember the user's code line
        self.jit = 0               # > 0 while cr.jit traces a function on this thread


state = _State()


def refuse_value(t, what):
    """Raise if ``t`` is a traced value of a function cr.jit is tracing.

    Reading a traced array into Python (``float(t)``, ``bool(t)``...) would
    freeze the value of the first call into the recorded program.
    """
    if state.jit and (t.op is not None or t.requires_grad):
        raise JitError(
            f"cr.jit cannot trace {what}: the value of a traced array is not known when the "
            f"program is recorded. Keep the computation in chainrule operations (e.g. "
            f"cr.where instead of Python if, integer indices instead of boolean masks), "
            f"or call the function without cr.jit.")


class hooks:
    """Process-wide switch: True while any thread has anomaly checks or line recording on.

    A plain class attribute, so the recording path pays one cheap read for the
    debugging features instead of several thread-local ones; only when it is
    set does ``apply`` look at this thread's ``state.anomaly``/``record_where``.
    """
    active = False


class paused_gc:
    """Context manager: Python's cyclic garbage collector is off while it runs.

    Recording a program allocates two container objects per vertex (the Tensor
    and its inputs' tuple), and the collector, triggered every few hundred
    allocations, then walks the whole growing graph again and again: about a
    tenth of the cost of recording and differentiating a long chain, for
    nothing, since a graph has no reference cycles (they are freed by
    reference counting). Transforms hold this pause while they run.

    The holder that turned the collector off turns it back on; a nested one
    finds it off and leaves it alone. No lock and no count (they cost 0.6 us
    per gradient call, a tenth of a tiny one): the collector never changes a
    result, so with threads the worst case is that it comes back on while
    another thread still records, which costs that thread speed, never memory
    or correctness; and it is never left off when it was on.
    """

    __slots__ = ("was_enabled",)

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        if self.was_enabled:
            gc.disable()
        return self

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()
        return False
