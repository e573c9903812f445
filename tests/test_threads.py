"""Threads: recording state is per thread, so concurrent differentiation is independent.

chainrule keeps the active tape, the transform depth, the forward-mode switch and the
debugging switches in a ``threading.local`` (state.py). If any of them were shared, a
transform started in one thread would append to, nest into or close another thread's
tape. The tests below force the overlap with events and barriers (rather than hoping
for a lucky thread switch): each thread is stopped in the middle of recording while
the other starts, runs and finishes its own transform.
"""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import chainrule as cr

TIMEOUT = 30


def _run_all(*fns):
    """Run each fn in its own thread, return their results (re-raising their errors)."""
    with ThreadPoolExecutor(len(fns)) as ex:
        futures = [ex.submit(f) for f in fns]
        return [f.result(timeout=TIMEOUT) for f in futures]


def test_transform_runs_start_to_end_inside_another_threads_transform():
    """B's whole cr.grad runs while A is stopped half-way through recording its own."""
    a_half, b_done = threading.Event(), threading.Event()
    xa, xb = np.array([0.5, -1.0, 2.0]), np.array([1.0, 3.0])

    def fa(x):
        y = cr.tanh(x) * x           # recorded before B runs
        a_half.set()
        assert b_done.wait(TIMEOUT)
        return cr.sum(cr.sin(y))     # recorded after B has finished

    def thread_a():
        return cr.grad(fa)(xa)

    def thread_b():
        assert a_half.wait(TIMEOUT)
        try:
            return cr.value_and_grad(lambda x: cr.sum(x ** 3))(xb)
        finally:
            b_done.set()

    ga, (vb, gb) = _run_all(thread_a, thread_b)
    y = np.tanh(xa) * xa
    expected_a = np.cos(y) * ((1 - np.tanh(xa) ** 2) * xa + np.tanh(xa))
    # A shared tape would make B a nested transform (returning Tensors, recording its
    # backward pass) and would be closed by B on exit, losing A's second half.
    assert type(ga) is np.ndarray and type(gb) is np.ndarray and type(vb) is np.ndarray
    np.testing.assert_allclose(ga, expected_a, rtol=1e-12)
    np.testing.assert_allclose(gb, 3 * xb ** 2, rtol=1e-12)
    np.testing.assert_allclose(vb, np.sum(xb ** 3), rtol=1e-12)


def test_interleaved_transforms_close_in_either_order():
    """A and B both open a transform, then close in the opposite order of opening."""
    order = threading.Barrier(2, timeout=TIMEOUT)
    a_closed = threading.Event()

    def fa(x):
        y = x * x
        order.wait()                 # both transforms are open
        return cr.sum(y * 2.0)       # A finishes first

    def fb(x):
        y = cr.exp(x)
        order.wait()
        assert a_closed.wait(TIMEOUT)  # B keeps recording after A's transform closed
        return cr.sum(y * x)

    def thread_a():
        try:
            return cr.grad(fa)(np.array([1.0, 2.0]))
        finally:
            a_closed.set()

    def thread_b():
        return cr.grad(fb)(np.array([0.0, 1.0]))

    ga, gb = _run_all(thread_a, thread_b)
    np.testing.assert_allclose(ga, [4.0, 8.0])
    np.testing.assert_allclose(gb, np.exp([0.0, 1.0]) * (1 + np.array([0.0, 1.0])))


def test_forward_mode_in_one_thread_reverse_in_another():
    """A JVP rule running in A (state.forward_off) must not switch off B's tangents."""
    in_rule, b_done = threading.Event(), threading.Event()

    @cr.primitive
    def slow_square(x):
        return x * x

    def _jvp(t, ans, x):
        in_rule.set()                # A is inside a JVP rule now
        assert b_done.wait(TIMEOUT)
        return 2 * x * t
    slow_square.defjvp(_jvp)
    slow_square.defvjp(lambda g, ans, x: 2 * g * x)

    def thread_a():
        return cr.jvp(slow_square, (np.array([3.0]),), (np.array([1.0]),))

    def thread_b():
        assert in_rule.wait(TIMEOUT)
        try:
            out = cr.jvp(lambda x: cr.sin(x) * x, (np.array([0.5]),), (np.array([2.0]),))
            return out, cr.grad(lambda x: cr.sum(cr.sin(x) * x))(np.array([0.5]))
        finally:
            b_done.set()

    (va, ta), ((vb, tb), gb) = _run_all(thread_a, thread_b)
    np.testing.assert_allclose(ta, [6.0])
    np.testing.assert_allclose(tb, 2.0 * (np.cos(0.5) * 0.5 + np.sin(0.5)))
    np.testing.assert_allclose(gb, np.cos(0.5) * 0.5 + np.sin(0.5))


def test_object_style_recording_while_another_thread_has_a_transform_open():
    """A records .backward()-style (no transform of its own) while B's tape is open.

    Object style copies NumPy inputs on record because no transform is running on
    its thread; were the tape shared, A would see B's transform, skip the copy, and
    ``c[:] = 0`` would change A's gradient.
    """
    b_open, a_done = threading.Event(), threading.Event()
    c = np.array([1.0, 2.0])

    def fb(x):
        y = cr.log(x)
        b_open.set()
        assert a_done.wait(TIMEOUT)
        return cr.sum(y)

    def thread_a():
        assert b_open.wait(TIMEOUT)
        try:
            x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
            y = cr.tanh(x) * c
        finally:
            a_done.set()
        c[:] = 0.0
        cr.sum(y).backward()
        return x.grad

    def thread_b():
        return cr.grad(fb)(np.array([2.0, 4.0]))

    ga, gb = _run_all(thread_a, thread_b)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(ga, (1 - np.tanh(x) ** 2) * [1.0, 2.0])
    np.testing.assert_allclose(gb, [0.5, 0.25])


def test_anomaly_mode_is_per_thread():
    """detect_anomaly in A does not make B's (legitimately infinite) gradient raise."""
    a_inside, b_done = threading.Event(), threading.Event()

    def thread_a():
        with cr.detect_anomaly():
            a_inside.set()
            assert b_done.wait(TIMEOUT)
            with pytest.raises(cr.AnomalyError):
                cr.grad(lambda x: cr.sum(cr.sqrt(x)))(np.array([1.0, 0.0]))
        return True

    def thread_b():
        assert a_inside.wait(TIMEOUT)
        try:
            return cr.grad(lambda x: cr.sum(cr.sqrt(x)))(np.array([1.0, 0.0]))
        finally:
            b_done.set()

    ok, gb = _run_all(thread_a, thread_b)
    assert ok
    np.testing.assert_array_equal(gb, [0.5, np.inf])


def test_many_threads_many_steps_with_frequent_switches():
    """4 threads x 150 gradients each, the interpreter switching threads every ~1 us."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        def worker(k):
            rng = np.random.default_rng(k)
            W = rng.standard_normal((4, 3))
            for _ in range(150):
                x = rng.standard_normal(3)
                if k % 2:
                    g = cr.grad(lambda x: cr.sum(cr.tanh(W @ x) * (k + 1.0)))(x)
                else:
                    xt = cr.tensor(x, requires_grad=True)
                    cr.sum(cr.tanh(W @ xt) * (k + 1.0)).backward()
                    g = xt.grad
                expected = W.T @ ((1 - np.tanh(W @ x) ** 2) * (k + 1.0))
                np.testing.assert_allclose(g, expected, rtol=1e-12)
            return k
        assert _run_all(*[lambda k=k: worker(k) for k in range(4)]) == [0, 1, 2, 3]
    finally:
        sys.setswitchinterval(old)


def test_nothing_survives_a_finished_transform_in_any_thread():
    from chainrule.state import state

    def probe():
        cr.grad(lambda x: cr.sum(x * x))(np.ones(2))
        return state.tape, state.depth, state.levels, state.cap
    assert _run_all(probe, probe) == [(None, 0, (), 0)] * 2
    assert (state.tape, state.depth) == (None, 0)
