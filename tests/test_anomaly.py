"""detect_anomaly: the first vertex whose value, tangent or backward message becomes
non-finite from finite inputs is named (op, inputs' ranges, user line): the root cause,
not the place the NaN was finally seen."""
import inspect
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.anomaly import AnomalyError, detect_anomaly
from chainrule.state import hooks, state

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own nan warnings


def line_of(marker):
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    return next(i for i, l in enumerate(lines, 1) if marker in l and "line_of(" not in l)


def deep(x):
    """Twenty correct operations, a log of a negative number, then more operations that
    carry the NaN to the output."""
    h = x
    for _ in range(5):
        h = cr.tanh(h * 0.9 + 0.1) * 2.0
        h = h + cr.sin(h) ** 2
    z = cr.log(h - 1.0)                 # <- the NaN is born here, where h < 1
    for _ in range(5):
        z = cr.exp(z * 0.5) + z
    return cr.sum(z * z)


X = np.array([2.0, -3.0, 1.5])  # the middle entry makes h < 1


def test_without_detect_anomaly_the_nan_is_only_seen_at_the_end():
    assert np.isnan(cr.grad(deep)(X)).any()
    assert np.isnan(np.asarray(deep(cr.tensor(X, requires_grad=True))))


def test_nan_deep_in_a_graph_is_attributed_to_its_vertex():
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            cr.grad(deep)(X)
    msg = str(info.value)
    first = msg.splitlines()[0]
    # 5 x (mul add tanh mul, sin pow add) = 35 operations, then subtract, then log
    assert "operation #37 'log' produced a non-finite value from finite inputs" in first
    assert f":{line_of('<- the NaN is born here')} in deep" in msg
    assert "z = cr.log(h - 1.0)" in msg
    assert "1 of 3 entries non-finite (first: nan at index (1,))" in msg
    assert "input 0: shape (3,), float64, finite range [-" in msg  # the negative input shows
    assert "likely cause" in msg


def test_object_style_is_checked_too():
    x = cr.tensor(X, requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError, match="'log'"):
        deep(x)


def test_backward_message_from_a_finite_forward():
    """sqrt(0) = 0 is fine; its derivative 1/(2 sqrt(0)) is not: the backward message that
    sqrt's rule produces is named, and where sqrt was called."""
    def f(x):
        r = cr.sqrt(x * x)               # <- |x|, written with a sqrt
        return cr.sum(r * 3.0)
    x = np.array([1.0, 0.0, -2.0])
    assert np.isfinite(np.asarray(f(x))) and not np.isfinite(cr.grad(f)(x)).all()
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        cr.grad(f)(x)
    msg = str(info.value)
    assert ("the backward message p for input 0 of operation #2 'sqrt' is not finite, but the "
            "message it received is finite") in msg
    assert f":{line_of('<- |x|, written with a sqrt')} in f" in msg
    assert "p received: shape (3,), float64, finite range [3, 3]" in msg
    assert "VJP rule of 'sqrt' for input 0" in msg


def test_backward_of_a_graph_recorded_before_the_context():
    x = cr.tensor(np.array([0.0, 4.0]), requires_grad=True)
    y = cr.sum(cr.sqrt(x))
    with detect_anomaly(), pytest.raises(AnomalyError, match="a 'sqrt' vertex recorded before"):
        y.backward()


def test_forward_mode_tangent():
    with detect_anomaly(), pytest.raises(AnomalyError, match="tangent of operation #1 'sqrt'"):
        cr.jvp(cr.sqrt, (np.array([0.0, 1.0]),), (np.ones(2),))


def test_overflow_is_an_anomaly():
    with detect_anomaly(), pytest.raises(AnomalyError, match="'exp' produced a non-finite"):
        cr.grad(lambda x: cr.sum(cr.exp(x * 100.0)))(np.array([1.0, 9.0]))


def test_non_finite_inputs_are_not_blamed_on_the_ops_that_carry_them():
    x = np.array([1.0, np.nan])
    with detect_anomaly():
        g = cr.grad(lambda x: cr.sum(cr.tanh(x) * 2.0))(x)
    assert np.isnan(g[1]) and np.isfinite(g[0])


def test_context_restores_state_and_records_lines_only_inside():
    def f(x):
        return cr.sin(x) * 2.0
    x = cr.tensor(np.ones(2), requires_grad=True)
    assert f(x).where is None
    with detect_anomaly():
        with detect_anomaly():  # nesting is fine
            y = f(x)
        assert state.anomaly and hooks.active
        assert y.where.function == "f" and y.where.source == "return cr.sin(x) * 2.0"
        with pytest.raises(AnomalyError):
            cr.log(-x)
    assert not (state.anomaly or state.record_where or hooks.active)
    assert np.isnan(np.asarray(cr.log(-x))).all()  # no checks outside


def test_works_as_a_decorator():
    @detect_anomaly()
    def step(x):
        return cr.grad(lambda x: cr.sum(cr.log(x)))(x)
    np.testing.assert_allclose(step(np.array([2.0])), [0.5])
    with pytest.raises(AnomalyError):
        step(np.array([-1.0]))


def test_other_threads_are_not_checked():
    results = []
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        results.append(np.asarray(cr.log(cr.tensor(-np.ones(1), requires_grad=True))))
        done.set()
    t = threading.Thread(target=other)
    t.start()
    with detect_anomaly():
        inside.set()
        done.wait(5)
    t.join()
    assert np.isnan(results[0]).all()
