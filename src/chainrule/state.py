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
    tape = None        # list of vertices recorded by the active transforms, or None
    depth = 0          # number of transforms active on this thread
    forward_off = False  # True while a JVP rule runs (its own ops carry no tangents)
    anomaly = False    # True inside cr.detect_anomaly()


state = _State()
