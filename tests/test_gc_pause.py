"""Transforms pause Python's cyclic collector while they run, and always give it back."""
import gc
import threading

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def gc_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_collector_off_inside_and_back_on_after(gc_on):
    seen = []

    def f(x):
        seen.append(gc.isenabled())
        return cr.sum(x * x)
    cr.grad(f)(np.ones(3))
    cr.grad(cr.grad(lambda x: cr.sum(x ** 3) if not seen.append(gc.isenabled()) else 0))(1.0)
    assert seen == [False, False]
    assert gc.isenabled()


def test_back_on_after_an_error(gc_on):
    with pytest.raises(cr.NonScalarError):
        cr.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(ZeroDivisionError):
        cr.grad(lambda x: 1 / 0)(1.0)
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled(gc_on):
    gc.disable()
    cr.grad(lambda x: cr.sum(x * x))(np.ones(3))
    cr.vjp(lambda x: x * 2.0, np.ones(2))[1](np.ones(2))
    assert not gc.isenabled()


def test_concurrent_transforms_restore_it_once_all_are_done(gc_on):
    start, inside = threading.Barrier(2, timeout=30), []

    def f(x):
        start.wait()  # both threads are inside a transform here
        inside.append(gc.isenabled())
        return cr.sum(x * x)

    threads = [threading.Thread(target=lambda: cr.grad(f)(np.ones(3))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inside == [False, False]
    assert gc.isenabled()
