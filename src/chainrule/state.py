"""Per-thread recording state.

A transform (``grad``, ``vjp``, ``trace``...) opens a *tape*: a plain list to
which every vertex created while it runs is appended, in creation order. That
order is the seed notes' vertex numbering, so the tape *is* the graph and the
backward pass is one loop over it in reverse. Nested transforms share the list
and remember where their own part starts; the outermost one drops it on exit,
so nothing survives a finished transform. Everything lives in a
``threading.local``: two threads never see each other's tapes.
"""
import threading


class _State(threading.local):
    # Instance attributes (not class defaults): the fastest thread-local reads,
    # and the tape is read once per recorded operation.
    def __init__(self):
        self.tape = None           # vertices recorded by the active transforms, or None
        self.depth = 0             # number of transforms active on this thread
        self.forward_off = False   # True while a JVP rule runs (its ops carry no tangents)
        self.anomaly = False       # True inside cr.detect_anomaly()
        self.record_where = False  # True when vertices must remember the user's code line
        self.jit = 0               # > 0 while cr.jit traces a function on this thread


state = _State()


class hooks:
    """Process-wide switch: True while any thread has anomaly checks or line recording on.

    A plain class attribute, so the recording path pays one cheap read for the
    debugging features instead of several thread-local ones; only when it is
    set does ``apply`` look at this thread's ``state.anomaly``/``record_where``.
    """
    active = False
