"""Modules: named parameters (leaf Tensors) plus a forward function, and the notes' network.

A module's parameters are a flat dict ``{name: Tensor}``; a sub-module's parameters appear
with its attribute name as prefix ("encoder.W"). The forward function can run on the
module's own Tensors (object style, then ``loss.backward()``) or on any dict with the same
names (functional style, for ``cr.grad``)::

    model = MLP([64, 32, 10])
    loss = cross_entropy(model(X), y); loss.backward()          # grads in p.grad
    grads = cr.grad(lambda p: cross_entropy(model(X, p), y))(model.state_dict())

Parameter layout follows the notes: W in R^{m x d}, b in R^m, V in R^{K x m}, gamma in R^K,
with z = W x + b, h = g(z), l = V h + gamma.
"""

from __future__ import annotations

import numpy as np

from ..ops import matmul, transpose
from ..tensor import Tensor, tensor
from .functional import ACTIVATIONS, get_activation
from .init import get_initializer, zeros


class Module:
    """Base class: register Tensors and sub-modules by assigning them as attributes.

    Subclasses implement ``forward(self, x, params)``, where ``params`` maps this module's
    parameter names to values (Tensors or arrays); calling the module fills it in.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> class Affine(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.a = cr.tensor(np.ones(3), requires_grad=True)
        ...     def forward(self, x, params):
        ...         return x * params["a"]
        >>> sorted(Affine().parameters())
        ['a']
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(f"{type(self).__name__}.__init__ must call "
                                 "super().__init__() before assigning attributes")
        params.pop(name, None)
        self._modules.pop(name, None)
        if type(value) is Tensor and value.requires_grad:
            params[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def add_parameter(self, name: str, value) -> Tensor:
        """Make ``value`` a leaf Tensor with requires_grad, register it as ``name``, return it."""
        t = value if type(value) is Tensor else tensor(value, requires_grad=True)
        t.requires_grad = True
        if t.name is None:
            t.name = name
        setattr(self, name, t)
        return t

    def parameters(self) -> dict:
        """``{name: Tensor}`` of this module and its sub-modules, in registration order."""
        out = dict(self._parameters)
        for prefix, m in self._modules.items():
            for name, p in m.parameters().items():
                out[f"{prefix}.{name}"] = p
        return out

    def state_dict(self) -> dict:
        """``{name: copy of the value}``: a snapshot, and the input of the functional style."""
        return {k: p.value.copy() for k, p in self.parameters().items()}

    def load_state_dict(self, state: dict) -> None:
        """Set every parameter's value from ``state``; names and shapes must match exactly."""
        params = self.parameters()
        missing = [k for k in params if k not in state]
        extra = [k for k in state if k not in params]
        if missing or extra:
            raise ValueError(f"load_state_dict: names differ (missing {missing}, "
                             f"unexpected {extra})")
        for k, p in params.items():
            v = np.asarray(state[k])
            if v.shape != p.value.shape:
                raise ValueError(f"load_state_dict: {k!r} has shape {v.shape}, the module "
                                 f"expects {p.value.shape}")
            p.value = np.array(v, dtype=p.value.dtype)

    def zero_grad(self) -> None:
        """Forget the accumulated ``.grad`` of every parameter."""
        for p in self.parameters().values():
            p.grad = None

    def num_parameters(self) -> int:
        return sum(p.value.size for p in self.parameters().values())

    def __call__(self, x, params=None):
        """Run ``forward``, on this module's Tensors or on ``params`` (same names)."""
        if params is None:
            params = self.parameters()
        else:
            own = self.parameters()
            missing = [k for k in own if k not in params]
            if missing:
                raise KeyError(f"{type(self).__name__}: params lacks {missing}; "
                               f"expected names {list(own)}")
        return self.forward(x, params)

    def forward(self, x, params):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, params)")

    @staticmethod
    def sub_params(params: dict, prefix: str) -> dict:
        """The entries of ``params`` under ``prefix.``, with the prefix removed."""
        p = prefix + "."
        return {k[len(p):]: v for k, v in params.items() if k.startswith(p)}

    def __repr__(self):
        shapes = ", ".join(f"{k}: {p.value.shape}" for k, p in self.parameters().items())
        return f"{type(self).__name__}({shapes})"


def _affine(x, W, b):
    """W x + b for one example x of shape (d,), or X W^T + b for a batch of shape (B, d)."""
    if np.ndim(x) == 1:
        return matmul(W, x) + b
    return matmul(x, transpose(W)) + b


class Linear(Module):
    """An affine map z = W x + b, W of shape (d_out, d_in) as in the notes.

    Args:
        d_in, d_out: input and output sizes.
        init: weight initialiser name ("glorot", "he", ...) or function (shape, rng).
        seed: seeds ``np.random.default_rng`` when ``rng`` is not given.
        rng: a Generator to draw from (shared generators give distinct layers).

    Example:
        >>> layer = Linear(4, 3, seed=0)
        >>> layer(np.ones((2, 4))).shape
        (2, 3)
    """

    def __init__(self, d_in: int, d_out: int, init="glorot", seed: int = 0, rng=None,
                 dtype=np.float64):
        super().__init__()
        rng = np.random.default_rng(seed) if rng is None else rng
        self.d_in, self.d_out = _positive(d_in, "d_in"), _positive(d_out, "d_out")
        self.add_parameter("W", get_initializer(init)((d_out, d_in), rng, dtype=dtype))
        self.add_parameter("b", zeros(d_out, dtype=dtype))

    def forward(self, x, params):
        return _affine(x, params["W"], params["b"])


class MLP(Module):
    """The notes' feedforward network, with any number of hidden layers.

    ``MLP([d, m, K])`` is exactly the notes' network: z = W x + b, h = g(z),
    l = V h + gamma; it returns the scores l (apply ``log_softmax`` for q). Parameter names:

    * one hidden layer: ``W, b, V, gamma`` (the notes' names);
    * several hidden layers ``[d, m1, ..., mL, K]``: ``W1, b1, ..., WL, bL, V, gamma``;
    * no hidden layer ``[d, K]``: ``V, gamma`` (multinomial logistic regression).

    Args:
        sizes: layer widths, input first, number of classes last.
        activation: the transfer function g: "tanh", "relu" or "sigmoid".
        init: weight initialiser; default "he" for relu, "glorot" otherwise. Biases start at 0.
        seed: seeds the initialiser, so the same seed gives the same network.

    Example:
        >>> net = MLP([64, 32, 10], seed=0)
        >>> list(net.parameters())
        ['W', 'b', 'V', 'gamma']
        >>> net(np.zeros(64)).shape
        (10,)
    """

    def __init__(self, sizes, activation: str = "tanh", init=None, seed: int = 0,
                 dtype=np.float64):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least [d, K] sizes, got {sizes}")
        for s in sizes:
            _positive(s, "layer size")
        self.sizes = sizes
        self.activation = activation
        self.g = get_activation(activation)
        if init is None:
            init = "he" if activation == "relu" else "glorot"
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        initialise = get_initializer(init)
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.hidden_names = self.layer_names(len(sizes) - 2)
        for (wn, bn), d_in, d_out in zip(self.hidden_names, sizes[:-2], sizes[1:-1]):
            self.add_parameter(wn, initialise((d_out, d_in), rng, dtype=dtype))
            self.add_parameter(bn, zeros(d_out, dtype=dtype))
        self.add_parameter("V", initialise((sizes[-1], sizes[-2]), rng, dtype=dtype))
        self.add_parameter("gamma", zeros(sizes[-1], dtype=dtype))

    @staticmethod
    def layer_names(n_hidden: int) -> list:
        """Names of the hidden layers' (weight, bias): [("W", "b")] for one layer."""
        if n_hidden == 1:
            return [("W", "b")]
        return [(f"W{k}", f"b{k}") for k in range(1, n_hidden + 1)]

    def forward(self, x, params):
        h = x
        for wn, bn in self.hidden_names:
            h = self.g(_affine(h, params[wn], params[bn]))
        return _affine(h, params["V"], params["gamma"])

    def describe(self) -> str:
        """What the net is, in words: "MLP 64-128-10 tanh", or "softmax regression 64-10"."""
        sizes = "-".join(map(str, self.sizes))
        if len(self.sizes) == 2:  # no hidden layer, so no activation either
            return f"softmax regression {sizes}"
        return f"MLP {sizes} {self.activation}"

    def architecture(self) -> dict:
        """A JSON-ready description from which :meth:`from_architecture` rebuilds the net."""
        return {"type": "MLP", "sizes": list(self.sizes), "activation": self.activation,
                "parameters": {k: list(p.value.shape) for k, p in self.parameters().items()}}

    @classmethod
    def from_architecture(cls, arch: dict) -> "MLP":
        """Rebuild an (untrained) MLP from :meth:`architecture`'s output."""
        if not isinstance(arch, dict) or arch.get("type") != "MLP":
            raise ValueError(f"not an MLP architecture: {arch!r}")
        sizes, act = arch.get("sizes"), arch.get("activation")
        if (not isinstance(sizes, list) or len(sizes) < 2
                or not all(isinstance(s, int) and s > 0 for s in sizes)):
            raise ValueError(f"bad MLP sizes {sizes!r}")
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}")
        return cls(sizes, activation=act)


def _positive(n, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return int(n)
