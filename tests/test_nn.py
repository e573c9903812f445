"""Modules, the notes' MLP, losses, initialisers, the training loop and model files (cr.nn)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim

torch = pytest.importorskip("torch")
torch.set_default_dtype(torch.float64)


def notes_forward(P, x, g=np.tanh):
    """The notes' equations, written out in NumPy: returns l and q."""
    z = P["W"] @ x + P["b"]
    h = g(z)
    l = P["V"] @ h + P["gamma"]
    q = l - np.log(np.sum(np.exp(l - l.max()))) - l.max()
    return l, q


# ----- the notes' network -------------------------------------------------------------------
def test_one_hidden_layer_uses_the_notes_names_and_shapes():
    net = nn.MLP([5, 7, 3], seed=0)
    assert {k: p.shape for k, p in net.parameters().items()} == {
        "W": (7, 5), "b": (7,), "V": (3, 7), "gamma": (3,)}
    assert list(net.parameters()) == ["W", "b", "V", "gamma"]
    assert all(p.requires_grad for p in net.parameters().values())
    np.testing.assert_array_equal(net.b.value, 0)
    np.testing.assert_array_equal(net.gamma.value, 0)


def test_deeper_and_shallow_nets_name_their_layers():
    assert list(nn.MLP([5, 7, 6, 3]).parameters()) == ["W1", "b1", "W2", "b2", "V", "gamma"]
    assert list(nn.MLP([5, 3]).parameters()) == ["V", "gamma"]
    with pytest.raises(ValueError, match="at least"):
        nn.MLP([5])
    with pytest.raises(ValueError, match="positive"):
        nn.MLP([5, 0, 3])
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        nn.MLP([5, 3, 2], activation="gelu")


@pytest.mark.parametrize("activation, g", [
    ("tanh", np.tanh), ("relu", lambda z: np.maximum(z, 0)),
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z)))])
def test_forward_is_the_notes_equations(activation, g):
    rng = np.random.default_rng(1)
    net = nn.MLP([4, 6, 3], activation=activation, seed=2)
    P = {k: p.value for k, p in net.parameters().items()}
    P["b"] = rng.normal(size=6)
    P["gamma"] = rng.normal(size=3)
    net.load_state_dict(P)
    x = rng.normal(size=4)
    l, q = notes_forward(P, x, g)
    np.testing.assert_allclose(np.asarray(net(x)), l, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(nn.log_softmax(net(x))), q, rtol=1e-12)
    for y in range(3):  # o = -q_y
        np.testing.assert_allclose(float(nn.cross_entropy(net(x), y)), -q[y], rtol=1e-12)
    X = rng.normal(size=(5, 4))  # a batch gives the rows' results
    np.testing.assert_allclose(np.asarray(net(X)), [notes_forward(P, xr, g)[0] for xr in X],
                               rtol=1e-12)


def test_gradients_match_torch_in_both_styles():
    rng = np.random.default_rng(3)
    net = nn.MLP([4, 5, 6, 3], activation="tanh", seed=1)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    loss = nn.cross_entropy(net(X), y)
    loss.backward()
    obj = {k: p.grad for k, p in net.parameters().items()}
    fun = cr.grad(lambda P: nn.cross_entropy(net(X, P), y))(net.state_dict())

    T = {k: torch.tensor(p.value, requires_grad=True) for k, p in net.parameters().items()}
    h = torch.tanh(torch.tensor(X) @ T["W1"].T + T["b1"])
    h = torch.tanh(h @ T["W2"].T + T["b2"])
    tl = torch.nn.functional.cross_entropy(h @ T["V"].T + T["gamma"], torch.tensor(y))
    tl.backward()
    np.testing.assert_allclose(float(loss), tl.item(), rtol=1e-12)
    for k in T:
        np.testing.assert_allclose(obj[k], T[k].grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(fun[k], T[k].grad.numpy(), rtol=1e-10, atol=1e-14)


def test_calling_with_params_checks_the_names():
    net = nn.MLP([2, 3, 2])
    with pytest.raises(KeyError, match="lacks"):
        net(np.zeros(2), {"W": np.zeros((3, 2))})


# ----- losses -------------------------------------------------------------------------------
def test_nll_loss_reductions_and_labels():
    q = np.log(np.array([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]))
    y = np.array([0, 1, 1])
    per = -q[np.arange(3), y]
    np.testing.assert_allclose(np.asarray(nn.nll_loss(q, y, "none")), per)
    np.testing.assert_allclose(float(nn.nll_loss(q, y)), per.mean())
    np.testing.assert_allclose(float(nn.nll_loss(q, y, "sum")), per.sum())
    np.testing.assert_allclose(float(nn.nll_loss(q[1], 1)), -q[1, 1])
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        nn.nll_loss(q[0], 2)
    with pytest.raises(ValueError, match=r"lie in 0\.\.1"):
        nn.nll_loss(q, np.array([0, 1, 5]))
    with pytest.raises(ValueError, match="3 labels"):
        nn.nll_loss(q, np.array([0, 1]))
    with pytest.raises(TypeError, match="integers"):
        nn.nll_loss(q, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.nll_loss(q, y, "avg")


def test_cross_entropy_matches_torch_and_is_stable_for_large_scores():
    rng = np.random.default_rng(0)
    logits, y = rng.normal(size=(6, 4)) * 50, rng.integers(0, 4, 6)
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
    np.testing.assert_allclose(float(nn.cross_entropy(logits, y)), ref, rtol=1e-12)
    assert np.isfinite(float(nn.cross_entropy(np.array([1000.0, -1000.0]), 1)))


# ----- initialisers -------------------------------------------------------------------------
def test_initialisers_are_seeded_and_scaled():
    a = nn.MLP([64, 128, 10], seed=5).state_dict()
    b = nn.MLP([64, 128, 10], seed=5).state_dict()
    c = nn.MLP([64, 128, 10], seed=6).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W"], c["W"])
    limit = np.sqrt(6 / (64 + 128))
    assert np.abs(a["W"]).max() <= limit and np.abs(a["W"]).max() > 0.9 * limit
    rng = np.random.default_rng(0)
    he = nn.he_normal((400, 300), rng)
    assert abs(he.std() - np.sqrt(2 / 300)) < 0.02 * np.sqrt(2 / 300)
    gn = nn.glorot_normal((400, 300), rng)
    assert abs(gn.std() - np.sqrt(2 / 700)) < 0.02 * np.sqrt(2 / 700)
    relu_net = nn.MLP([300, 400, 2], activation="relu", seed=0)
    assert abs(relu_net.W.value.std() - np.sqrt(2 / 300)) < 0.05 * np.sqrt(2 / 300)
    with pytest.raises(ValueError, match="unknown initialiser"):
        nn.MLP([2, 2, 2], init="ones")


def test_float32_network_stays_float32():
    net = nn.MLP([3, 4, 2], dtype=np.float32)
    out = net(np.ones((2, 3), dtype=np.float32))
    assert out.dtype == np.float32
    nn.cross_entropy(out, np.array([0, 1])).backward()
    assert all(p.grad.dtype == np.float32 for p in net.parameters().values())


# ----- modules ------------------------------------------------------------------------------
class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4, seed=0)
        self.second = nn.Linear(4, 2, seed=1)
        self.scale = cr.tensor(np.ones(2), requires_grad=True)
        self.constant = cr.tensor(np.ones(2))  # no requires_grad: not a parameter

    def forward(self, x, params):
        h = nn.tanh(self.first(x, self.sub_params(params, "first")))
        return self.second(h, self.sub_params(params, "second")) * params["scale"]


def test_nested_modules_prefix_their_names_and_work_in_both_styles():
    m = Two()
    assert list(m.parameters()) == ["scale", "first.W", "first.b", "second.W", "second.b"]
    assert m.num_parameters() == 2 + 12 + 4 + 8 + 2
    x = np.arange(3.0)
    nn.cross_entropy(m(x), 1).backward()
    grads = cr.grad(lambda P: nn.cross_entropy(m(x, P), 1))(m.state_dict())
    for k, p in m.parameters().items():
        np.testing.assert_allclose(grads[k], p.grad, rtol=1e-12)
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters().values())


def test_state_dict_is_a_copy_and_load_state_dict_checks():
    net = nn.MLP([2, 3, 2])
    s = net.state_dict()
    s["W"][...] = 99.0
    assert not np.any(net.W.value == 99.0)
    net.load_state_dict(s)
    assert np.all(net.W.value == 99.0)
    with pytest.raises(ValueError, match="missing"):
        net.load_state_dict({"W": s["W"]})
    with pytest.raises(ValueError, match="shape"):
        net.load_state_dict({**s, "W": np.zeros((2, 2))})


def test_linear_is_wx_plus_b():
    layer = nn.Linear(3, 2, seed=0)
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(np.asarray(layer(x)), layer.W.value @ x + layer.b.value)
    with pytest.raises(ValueError, match="positive integer"):
        nn.Linear(0, 2)


# ----- training loop ------------------------------------------------------------------------
def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[3, 0], [-3, 0], [0, 3]])
    return centres[y] + rng.normal(size=(n, 2)), y


@pytest.mark.parametrize("batch_size", [1, 16])
def test_train_epoch_learns_separable_blobs(batch_size):
    X, y = blobs()
    net = nn.MLP([2, 8, 3], seed=0)
    opt = optim.SGD(net.parameters(), lr=0.05)
    before = nn.evaluate(net, X, y)[0]
    counted = []
    rng = np.random.default_rng(0)
    for _ in range(5):
        mean_loss = nn.train_epoch(net, opt, X, y, batch_size, rng, on_steps=counted.append)
    loss, acc, pred = nn.evaluate(net, X, y)
    assert loss < before / 3 and acc > 0.95 and np.isfinite(mean_loss)
    assert sum(counted) == 5 * -(-120 // batch_size)  # every step reported
    assert opt.t == 5 * -(-120 // batch_size)


def test_training_is_reproducible():
    X, y = blobs()

    def run():
        net = nn.MLP([2, 8, 3], seed=4)
        opt = optim.SGD(net.parameters(), lr=0.05)
        nn.train_epoch(net, opt, X, y, 1, np.random.default_rng(7))
        return net.state_dict()

    a, b = run(), run()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_confusion_matrix_counts():
    C = nn.confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    np.testing.assert_array_equal(C, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])


# ----- model files --------------------------------------------------------------------------
def test_save_and_load_roundtrip_without_pickle(tmp_path):
    net = nn.MLP([3, 4, 5, 2], activation="relu", seed=3)
    p = str(tmp_path / "m.npz")
    nn.save_model(p, net, ["no", "yes"], mean=np.arange(3.0), scale=np.ones(3) * 2,
                  feature_names=["a", "b", "c"], extra={"config": {"lr": 0.1}})
    with np.load(p, allow_pickle=False) as z:
        assert set(z.files) >= {"meta", "param:W1", "param:V", "preprocess:mean"}
    model, meta, mean, scale = nn.load_model(p)
    assert model.sizes == [3, 4, 5, 2] and model.activation == "relu"
    assert meta["classes"] == ["no", "yes"] and meta["config"] == {"lr": 0.1}
    assert meta["feature_names"] == ["a", "b", "c"]
    np.testing.assert_array_equal(mean, [0, 1, 2])
    np.testing.assert_array_equal(scale, [2, 2, 2])
    x = np.ones((2, 3))
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(net(x)))


def saved(tmp_path):
    p = str(tmp_path / "m.npz")
    nn.save_model(p, nn.MLP([3, 4, 2]), [0, 1])
    with np.load(p) as z:
        return p, dict(z)


@pytest.mark.parametrize("change, match", [
    (lambda a: a.pop("meta"), "without chainrule metadata"),
    (lambda a: a.update(meta=np.array('{"format": "other"}')), "not a chainrule model"),
    (lambda a: a.update(meta=np.array("{oops")), "not valid JSON"),
    (lambda a: a.update(meta=np.arange(3)), "not text"),
    (lambda a: a.pop("param:V"), "'V' is missing"),
    (lambda a: a.update({"param:W": np.zeros((2, 2))}), "'W' has shape"),
    (lambda a: a.update({"preprocess:scale": np.zeros(3)}), "non-positive"),
])
def test_load_model_rejects_damaged_files(tmp_path, change, match):
    p, arrays = saved(tmp_path)
    change(arrays)
    np.savez(p, **arrays)
    with pytest.raises(nn.ModelFileError, match=match):
        nn.load_model(p)


def test_load_model_rejects_foreign_and_broken_files(tmp_path):
    with pytest.raises(nn.ModelFileError, match="not found"):
        nn.load_model(str(tmp_path / "missing.npz"))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(nn.ModelFileError, match="not a chainrule model"):
        nn.load_model(str(junk))
    p, _ = saved(tmp_path)
    data = open(p, "rb").read()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(nn.ModelFileError):
        nn.load_model(str(cut))
    pickled = str(tmp_path / "pickled.npz")
    np.savez(pickled, meta=np.array([{"format": "chainrule-model"}], dtype=object))
    with pytest.raises(nn.ModelFileError):
        nn.load_model(pickled)


def test_describe_names_what_the_net_is():
    assert nn.MLP([64, 10]).describe() == "softmax regression 64-10"
    assert nn.MLP([64, 128, 10]).describe() == "MLP 64-128-10 tanh"
    assert nn.MLP([4, 6, 5, 3], activation="relu").describe() == "MLP 4-6-5-3 relu"
