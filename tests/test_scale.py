"""Scale: deep chains and wide fan-outs differentiate without recursion, in memory
proportional to the values they keep; repeated training steps do not grow memory.

Memory is measured against its floor (DESIGN.md): the same values kept as plain NumPy
arrays in a list, measured the same way in a fresh process (peak resident set size
growth per op). chainrule must stay within 2.5x of it.

test_million_op_chain is the one slow test here (about 10 s): 10^6 operations in a
child process, so a crash while freeing a deep graph could not take pytest down.
"""
import gc
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.tensor import Tensor

RATIO = 2.5
SRC = str(pathlib.Path(cr.__file__).parent.parent)

# Each scenario builds a graph of n operations on 10-element arrays (or, for "floor",
# keeps the same values in a list) and prints peak RSS growth per op, the time and the
# gradient. The recursion limit is low: a recursive graph walk would need n frames.
CHILD = textwrap.dedent(r"""
    import json, resource, sys, time
    import numpy as np
    import chainrule as cr

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    def high_water():  # this process's peak RSS (ru_maxrss would include the parent's)
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

    scenario, n = sys.argv[1], int(sys.argv[2])
    x0 = np.linspace(0.9, 1.1, 10)
    cs = (np.arange(n) % 7).astype(float).tolist()
    base = rss()
    t = time.perf_counter()
    sys.setrecursionlimit(150)
    if scenario == "chain floor":
        vals = [x0]
        for _ in range(n // 4):
            vals.append(vals[-1] * 2.0); vals.append(vals[-1] + 1.0)
            vals.append(vals[-1] * 0.5); vals.append(vals[-1] - 0.5)
        g = np.ones(10)
    elif scenario == "chain backward":
        x = cr.tensor(x0, requires_grad=True)
        y = x
        for _ in range(n // 4):
            y = y * 2.0; y = y + 1.0; y = y * 0.5; y = y - 0.5
        cr.sum(y).backward()
        g = x.grad
        del y  # frees the n-deep graph (CPython's trashcan: no C recursion)
    elif scenario == "chain grad":
        def f(y):
            for _ in range(n // 4):
                y = y * 2.0; y = y + 1.0; y = y * 0.5; y = y - 0.5
            return cr.sum(y)
        g = cr.grad(f)(x0)
    elif scenario == "fanout floor":
        h = np.tanh(x0)
        outs = [h * c for c in cs]
        s = np.stack(outs)
        g = np.zeros(10)
    elif scenario == "fanout sum floor":
        h = np.tanh(x0)
        vals, total = [h], 0.0
        for c in cs:
            vals.append(h * c)
            total = total + vals[-1]
            vals.append(total)
        g = np.zeros(10)
    elif scenario == "fanout grad":  # one vertex, n children, joined by one stack
        def f(x):
            h = cr.tanh(x)
            return cr.sum(cr.stack([h * c for c in cs]))
        g = cr.grad(f)(x0)
    elif scenario == "fanout backward":  # n children summed one by one
        x = cr.tensor(x0, requires_grad=True)
        h = cr.tanh(x)
        total = 0.0
        for c in cs:
            total = total + h * c
        cr.sum(total).backward()
        g = x.grad
    print(json.dumps({"bytes_per_op": (high_water() - base) / n,
                      "seconds": time.perf_counter() - t, "grad": np.asarray(g).tolist()}))
""")


linux = pytest.mark.skipif(not os.path.exists("/proc/self/status"),
                           reason="peak memory is read from /proc (Linux)")


def _child(scenario, n):
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", CHILD, scenario, str(n)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, f"{scenario}: exit {r.returncode}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


@linux
def test_million_op_chain():
    """10^6 ops, object style: exact gradient, no recursion, within 2.5x the floor."""
    n = 10 ** 6
    floor = _child("chain floor", n)
    got = _child("chain backward", n)
    # d/dx of ((2x + 1) / 2 - 1/2) is exactly 1, whatever the rounding of the values
    assert got["grad"] == [1.0] * 10
    ratio = got["bytes_per_op"] / floor["bytes_per_op"]
    assert ratio <= RATIO, (got, floor)
    print(f"\n10^6-op chain: {got['seconds']:.1f} s, {got['bytes_per_op']:.0f} B/op peak, "
          f"floor {floor['bytes_per_op']:.0f} B/op, ratio {ratio:.2f}")


@linux
def test_chain_through_grad():
    n = 2 * 10 ** 5
    floor = _child("chain floor", n)
    got = _child("chain grad", n)
    assert got["grad"] == [1.0] * 10
    ratio = got["bytes_per_op"] / floor["bytes_per_op"]
    assert ratio <= RATIO, (got, floor)
    print(f"\n2*10^5-op chain, cr.grad: {got['seconds']:.1f} s, {got['bytes_per_op']:.0f} B/op "
          f"peak, floor {floor['bytes_per_op']:.0f} B/op, ratio {ratio:.2f}")


@linux
@pytest.mark.parametrize("scenario,floor", [("fanout grad", "fanout floor"),
                                            ("fanout backward", "fanout sum floor")])
def test_hundred_thousand_wide_fan_out(scenario, floor):
    """One vertex with 10^5 children: joined by one stack (cr.grad), or summed one by one
    (.backward())."""
    n = 10 ** 5
    floor = _child(floor, n)
    got = _child(scenario, n)
    x0 = np.linspace(0.9, 1.1, 10)
    expected = (1 - np.tanh(x0) ** 2) * float(np.sum(np.arange(n) % 7))
    np.testing.assert_allclose(got["grad"], expected, rtol=1e-10)
    ratio = got["bytes_per_op"] / floor["bytes_per_op"]
    assert ratio <= RATIO, (got, floor)
    print(f"\n10^5-wide fan-out, {scenario}: {got['seconds']:.1f} s, {got['bytes_per_op']:.0f} "
          f"B/op peak, floor {floor['bytes_per_op']:.0f} B/op, ratio {ratio:.2f}")


def test_deep_graphs_in_process_use_no_recursion():
    """With the recursion limit just above the current depth: 10^5-deep chains, both ways,
    and a hessian-vector product (forward over reverse) of a 2*10^4-deep one."""
    x0 = np.array([0.5, -0.25])

    def f(y, n=10 ** 5):
        for _ in range(n // 2):
            y = y * 1.0
            y = -y
        return cr.sum(y)
    depth = len(__import__("inspect").stack())
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 60)
    try:
        g = cr.grad(f)(x0)
        x = cr.tensor(x0, requires_grad=True)
        f(x).backward()
        hv = cr.hvp(lambda y: f(y * y, 2 * 10 ** 4))(x0, np.array([1.0, 0.0]))
    finally:
        sys.setrecursionlimit(old)
    np.testing.assert_array_equal(g, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    np.testing.assert_array_equal(hv, [2.0, 0.0])


def test_memory_is_released_after_differentiating():
    """Nothing of a 10^4-op graph survives cr.grad or .backward() (tracemalloc)."""
    x0 = np.linspace(0.9, 1.1, 10)

    def f(y):
        for _ in range(5000):
            y = cr.tanh(y) * 1.01
        return cr.sum(y)

    def both():
        cr.grad(f)(x0)
        x = cr.tensor(x0, requires_grad=True)
        f(x).backward()
    tracemalloc.start()
    try:
        both()  # warm up (traced, so that what it caches is counted in the base)
        gc.collect()  # a full collection also empties the interpreter's free lists
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        both()
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert peak - base > 10 ** 6          # the graph was really there (~3 MB)
    assert after - base < 0.01 * (peak - base), (after - base, peak - base)


# ----- repeated training steps --------------------------------------------------------------
def _live_tensors():
    return sum(1 for o in gc.get_objects() if type(o) is Tensor)


def _training_steps():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 8)), rng.integers(0, 3, 32)
    net = cr.nn.MLP([8, 16, 3], seed=0)
    params = net.state_dict()
    vg = cr.value_and_grad(lambda p: cr.nn.cross_entropy(net(X, p), y))

    def grad_step():
        loss, g = vg(params)
        for k in params:
            params[k] -= 0.05 * g[k]

    opt = cr.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

    def backward_step():
        loss = cr.nn.cross_entropy(net(X), y)
        loss.backward()
        opt.step()
        net.zero_grad()

    w = rng.standard_normal(8)

    def hvp_step():  # forward over reverse: tangents must not tie vertices into cycles
        cr.hvp(lambda v: cr.sum(cr.tanh(X @ v) ** 2))(w, np.ones(8))

    def vjp_step():
        out, vjp_fn = cr.vjp(lambda p: cr.nn.cross_entropy(net(X, p), y), params)
        vjp_fn(np.ones(()))

    jitted = cr.jit(cr.value_and_grad(lambda p: cr.nn.cross_entropy(net(X, p), y)))

    def jit_step():
        loss, g = jitted(params)
        for k in params:
            params[k] -= 0.05 * g[k]

    return {"cr.grad + in-place update": grad_step, ".backward() + SGD momentum": backward_step,
            "cr.hvp": hvp_step, "cr.vjp": vjp_step, "cr.jit(value_and_grad)": jit_step}


@pytest.mark.parametrize("kind", list(_training_steps()))
def test_training_steps_do_not_grow_memory(kind):
    """300 steps after a warm-up: no Tensor left alive (with the cyclic collector off, so
    a graph held by a reference cycle counts) and traced memory flat."""
    step = _training_steps()[kind]
    tracemalloc.start()
    was_enabled = gc.isenabled()
    try:
        for _ in range(200):
            step()
        gc.collect()  # a full collection also empties the interpreter's free lists
        base = tracemalloc.get_traced_memory()[0]
        tensors = _live_tensors()
        gc.disable()
        for _ in range(300):
            step()
        leftover = _live_tensors() - tensors
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    print(f"\n300 steps of {kind}: {leftover} Tensors left, traced memory {grown:+d} bytes")
    assert leftover == 0, f"{kind}: {leftover} Tensors left alive after 300 steps"
    # One step's graph is tens of kB, so keeping any of it (or even one small object per
    # step) would exceed this; NumPy's and the interpreter's caches settle within it.
    assert grown < 32 * 1024, f"{kind}: traced memory grew by {grown} bytes in 300 steps"
