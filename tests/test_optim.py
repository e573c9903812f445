"""Optimisers and learning-rate schedules (cr.optim), with torch.optim as the oracle."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim

torch = pytest.importorskip("torch")


def quad_loss(P, A, c):
    """A small non-quadratic loss of two parameters, so gradients change every step."""
    return cr.sum(cr.tanh(cr.matmul(A, P["w"]) + P["b"]) ** 2) + cr.sum(c * P["w"] ** 2)


def problem(seed=0):
    rng = np.random.default_rng(seed)
    return ({"w": rng.normal(size=3), "b": rng.normal(size=2)},
            rng.normal(size=(2, 3)), rng.uniform(0.1, 1.0, size=3))


def torch_trajectory(make_opt, steps=6):
    P0, A, c = problem()
    T = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in P0.items()}
    opt = make_opt(list(T.values()))
    At, ct = torch.tensor(A), torch.tensor(c)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.sum(torch.tanh(At @ T["w"] + T["b"]) ** 2) + torch.sum(ct * T["w"] ** 2)
        loss.backward()
        opt.step()
    return {k: t.detach().numpy() for k, t in T.items()}


def ours_backward(make_opt, steps=6):
    P0, A, c = problem()
    T = {k: cr.tensor(v, requires_grad=True) for k, v in P0.items()}
    opt = make_opt(T)
    for _ in range(steps):
        quad_loss(T, A, c).backward()
        opt.step()
        opt.zero_grad()
    return {k: t.value for k, t in T.items()}


def ours_functional(make_opt, steps=6):
    P, A, c = problem()
    opt = make_opt(P)  # plain arrays, updated in place
    g = cr.grad(lambda P: quad_loss(P, A, c))
    for _ in range(steps):
        opt.step(g(P))
    return P


CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "momentum": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "nesterov": (lambda p: optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
                 lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True)),
    "sgd-wd": (lambda p: optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.3),
               lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.3)),
    "adam": (lambda p: optim.Adam(p, lr=0.05), lambda p: torch.optim.Adam(p, lr=0.05)),
    "adam-l2": (lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
                lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    "adamw": (lambda p: optim.Adam(p, lr=0.05, weight_decay=0.1, decoupled=True),
              lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_trajectories_match_torch_in_both_styles(name):
    ours, theirs = CASES[name]
    ref = torch_trajectory(theirs)
    for got in (ours_backward(ours), ours_functional(ours)):
        for k in ref:
            np.testing.assert_allclose(got[k], ref[k], rtol=1e-10, atol=1e-12)


def test_sgd_is_exactly_the_notes_update():
    """theta_j <- theta_j - eta_t dL/dtheta_j for W, b, V, gamma, with eta_t from the schedule."""
    net = nn.MLP([3, 4, 2], seed=0)
    sched = optim.InverseTime(0.5, tau=2)
    opt = optim.SGD(net.parameters(), lr=sched)
    x, y = np.array([0.1, -0.2, 0.3]), 1
    for t in range(3):
        before = net.state_dict()
        g = cr.grad(lambda P: nn.cross_entropy(net(x, P), y))(before)
        nn.cross_entropy(net(x), y).backward()
        assert opt.current_lr() == 0.5 / (1 + t / 2)
        opt.step()
        opt.zero_grad()
        for k in before:
            np.testing.assert_array_equal(net.parameters()[k].value,
                                          before[k] - (0.5 / (1 + t / 2)) * g[k])
    assert opt.t == 3


def test_tensor_parameters_get_new_arrays_and_plain_arrays_are_updated_in_place():
    w = cr.tensor(np.ones(2), requires_grad=True)
    old = w.value
    y = cr.sum(w * w)  # a graph that still holds the old value
    y.backward()
    optim.SGD({"w": w}, lr=0.25).step()
    np.testing.assert_array_equal(w.value, [0.5, 0.5])
    np.testing.assert_array_equal(old, [1.0, 1.0])  # the live graph was not changed
    arr = np.ones(2)
    params = {"w": arr}
    optim.SGD(params, lr=0.25).step({"w": np.array([2.0, 4.0])})
    assert params["w"] is arr
    np.testing.assert_array_equal(arr, [0.5, 0.0])


def test_parameters_without_gradients_are_left_alone():
    a = cr.tensor(np.ones(2), requires_grad=True)
    b = cr.tensor(np.ones(2), requires_grad=True)
    cr.sum(a * 3.0).backward()
    opt = optim.SGD({"a": a, "b": b}, lr=0.1)
    opt.step()
    np.testing.assert_allclose(a.value, 0.7)
    np.testing.assert_array_equal(b.value, 1.0)
    opt.step({"b": np.ones(2)})  # a key left out: not stepped
    np.testing.assert_allclose(a.value, 0.7)
    np.testing.assert_allclose(b.value, 0.9)


def test_step_errors_say_what_to_do():
    a = cr.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD({"a": a}, lr=0.1)
    with pytest.raises(ValueError, match="call loss.backward"):
        opt.step()
    with pytest.raises(KeyError, match="unknown parameters"):
        opt.step({"z": np.ones(2)})
    with pytest.raises(ValueError, match="shape"):
        opt.step({"a": np.ones(3)})
    with pytest.raises(TypeError, match="no .grad"):
        optim.SGD({"a": np.ones(2)}, lr=0.1).step()
    with pytest.raises(ValueError, match="lr must be a positive"):
        optim.SGD({"a": a}, lr=0.0)
    with pytest.raises(ValueError, match="lr must be a positive"):
        optim.Adam({"a": a}, lr=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD({"a": a}, momentum=1.0)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD({"a": a}, nesterov=True)
    with pytest.raises(TypeError, match="floating point"):
        optim.SGD({"a": np.ones(2, dtype=int)})
    with pytest.raises(ValueError, match="no parameters"):
        optim.SGD({})


def test_list_params_and_list_grads():
    a = np.ones(2)
    b = np.zeros(1)
    opt = optim.SGD([a, b], lr=1.0)
    opt.step([np.ones(2), np.ones(1)])
    np.testing.assert_array_equal(a, 0.0)
    np.testing.assert_array_equal(b, -1.0)


def test_schedules():
    assert optim.Constant(0.1)(1000) == 0.1
    inv = optim.InverseTime(0.2, tau=10)
    assert inv(0) == 0.2 and math.isclose(inv(10), 0.1) and math.isclose(inv(30), 0.05)
    step = optim.StepDecay(1.0, step_size=5, factor=0.5)
    assert [step(t) for t in (0, 4, 5, 9, 10)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    cos = optim.Cosine(1.0, total=100, eta_min=0.1)
    assert cos(0) == 1.0 and math.isclose(cos(50), 0.55) and cos(100) == 0.1 == cos(500)
    assert all(cos(t) >= cos(t + 1) for t in range(100))
    assert optim.make_schedule("cosine", 0.3, total_steps=10).to_dict() == {
        "name": "cosine", "eta0": 0.3, "total": 10, "eta_min": 0.0}
    assert isinstance(optim.make_schedule("step", 0.3, total_steps=100), optim.StepDecay)
    with pytest.raises(ValueError, match="unknown schedule"):
        optim.make_schedule("linear", 0.1)
    with pytest.raises(ValueError, match="positive"):
        optim.InverseTime(0.1, tau=0)


def test_any_callable_is_a_schedule_and_t_counts_steps():
    seen = []
    w = np.ones(1)
    opt = optim.SGD({"w": w}, lr=lambda t: seen.append(t) or 0.1)
    for _ in range(3):
        opt.step({"w": np.ones(1)})
    assert seen == [0, 1, 2]
    np.testing.assert_allclose(w, 0.7)
