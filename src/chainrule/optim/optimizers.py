"""Optimisers: SGD (the notes' update, plus momentum, Nesterov, weight decay) and Adam.

An optimiser holds a dict of parameters and updates them from gradients given either way:

* object style: after ``loss.backward()``, ``opt.step()`` reads each Tensor's ``.grad``;
* functional style: ``opt.step(grads)`` with the dict ``cr.grad`` returned (same keys).

Parameters may be leaf Tensors (their ``.value`` is replaced by a new array, so a graph
that still references the old value is left intact) or plain NumPy arrays (updated in
place, so the caller's dict and any other reference to the array see the new values).

Example (the notes' algorithm, one step):
    >>> import numpy as np, chainrule as cr
    >>> W = cr.tensor(np.ones(2), requires_grad=True)
    >>> opt = SGD({"W": W}, lr=0.5)
    >>> cr.sum(W * W).backward(); opt.step()     # W <- W - 0.5 * 2W
    >>> W.value
    array([0., 0.])
"""

from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class: parameter bookkeeping, the learning rate of step t, and ``step``.

    Args:
        params: ``{name: Tensor or ndarray}`` (e.g. ``model.parameters()``), or a list of them
            (named "0", "1", ...).
        lr: a positive float, or a schedule: any callable ``t -> float``.
        weight_decay: L2 penalty coefficient lambda; the gradient used is g + lambda * theta.

    Attributes:
        t: the number of steps taken (the next step uses ``lr(t)``).
    """

    def __init__(self, params, lr, weight_decay: float = 0.0):
        self.params = _as_param_dict(params)
        if not callable(lr):
            lr = _positive_number(lr, "lr")
        self.lr = lr
        if not isinstance(weight_decay, numbers.Real) or weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.state = {name: {} for name in self.params}

    def current_lr(self) -> float:
        """eta_t for the next step."""
        return float(self.lr(self.t)) if callable(self.lr) else self.lr

    def step(self, grads=None) -> None:
        """Update every parameter that has a gradient, then advance t.

        Args:
            grads: ``None`` to read each Tensor's ``.grad`` (after ``backward()``), or a dict
                of gradients keyed like the parameters (what ``cr.grad`` returns for a dict
                argument), or a list/tuple in parameter order. Parameters without a gradient
                (None, or a key left out) are not changed.
        """
        lr = self.current_lr()
        pairs = self._gradients(grads)
        wd = self.weight_decay
        for name, p, g in pairs:
            value = p.value if type(p) is Tensor else p
            if wd:
                g = g + wd * value
            new = self.update(name, value, g, lr, self.state[name])
            if type(p) is Tensor:
                p.value = new
            else:
                p[...] = new
        self.t += 1

    def update(self, name, value, g, lr, state):
        """Return the new value of one parameter; ``state`` is that parameter's own dict."""
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Reset ``.grad`` of every Tensor parameter (object style, between steps)."""
        for p in self.params.values():
            if type(p) is Tensor:
                p.grad = None

    def checked_gradients(self, grads=None):
        """{parameter name: gradient array, or None where it has none}, checked.

        From each Tensor parameter's ``.grad`` when ``grads`` is None, otherwise from
        a dict keyed like the parameters or a list in their order; a plain-array
        parameter without given gradients, unknown names, a wrong count or a wrong
        shape is an error naming the optimiser and the parameter.
        """
        params, kind = self.params, type(self).__name__
        if grads is None:
            out = {}
            for name, p in params.items():
                if type(p) is not Tensor:
                    raise TypeError(f"{kind}.step(): parameter {name!r} is a plain array, "
                                    "which has no .grad; pass the gradients, e.g. "
                                    "opt.step(cr.grad(loss)(params))")
                out[name] = None if p.grad is None else _as_array(p.grad)
            return out
        if isinstance(grads, (list, tuple)):
            if len(grads) != len(params):
                raise ValueError(f"{kind}.step(): got {len(grads)} gradients "
                                 f"for {len(params)} parameters")
            grads = dict(zip(params, grads))
        if not isinstance(grads, dict):
            raise TypeError(f"{kind}.step(): grads must be a dict keyed like "
                            f"the parameters, a list, or None; got {type(grads).__name__}")
        unknown = [k for k in grads if k not in params]
        if unknown:
            raise KeyError(f"{kind}.step(): gradients for unknown parameters "
                           f"{unknown}; the parameters are {list(params)}")
        out = {}
        for name, p in params.items():
            g = grads.get(name)
            if g is not None:
                g = _as_array(g)
                shape = p.value.shape if type(p) is Tensor else p.shape
                if g.shape != shape:
                    raise ValueError(f"{kind}.step(): gradient of {name!r} has "
                                     f"shape {g.shape}, the parameter has shape {shape}")
            out[name] = g
        return out

    def _gradients(self, grads):
        """[(name, parameter, gradient)] of the parameters that have one."""
        out = [(name, self.params[name], g)
               for name, g in self.checked_gradients(grads).items() if g is not None]
        if grads is None and not out:
            raise ValueError(f"{type(self).__name__}.step(): no parameter has a gradient; "
                             "call loss.backward() first, or pass gradients from cr.grad")
        return out

    def __repr__(self):
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr!r}, t={self.t})"


class SGD(Optimizer):
    """Stochastic gradient descent: theta <- theta - eta_t * d, the notes' update.

    With ``momentum=0`` (default), d is the gradient itself: exactly the notes' step
    "theta_j = theta_j - eta_t * dL/dtheta_j" for every parameter. With momentum mu, a velocity
    v <- mu v + g is kept and d = v (heavy ball) or d = g + mu v (``nesterov=True``); this
    is PyTorch's convention, so the two give the same trajectories.

    Args:
        params, lr, weight_decay: see :class:`Optimizer`.
        momentum: mu in [0, 1).
        nesterov: use Nesterov's look-ahead form (needs momentum > 0).
    """

    def __init__(self, params, lr=0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        if not isinstance(momentum, numbers.Real) or not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def update(self, name, value, g, lr, state):
        mu = self.momentum
        if mu:
            v = state.get("velocity")
            if v is None:
                v = state["velocity"] = g.copy()
            else:  # the velocity is the optimiser's own array: updated in place
                v *= mu
                v += g
            g = g + mu * v if self.nesterov else v
        return descend(value, lr, g)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with bias-corrected first and second moments.

    m <- b1 m + (1-b1) g, s <- b2 s + (1-b2) g^2,
    theta <- theta - eta_t * (m / (1-b1^k)) / (sqrt(s / (1-b2^k)) + eps), k = t + 1.

    Args:
        params, lr: see :class:`Optimizer` (default lr 1e-3).
        betas: (b1, b2).
        eps: added to the denominator.
        weight_decay: lambda; added to the gradient (L2, like ``torch.optim.Adam``), or with
            ``decoupled=True`` applied as theta <- theta - eta_t lambda theta (AdamW).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        super().__init__(params, lr, 0.0 if decoupled else weight_decay)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.betas = (float(b1), float(b2))
        self.eps = float(eps)
        self.decoupled_weight_decay = float(weight_decay) if decoupled else 0.0

    def update(self, name, value, g, lr, state):
        # The moments are the optimiser's own arrays, updated in place; the same
        # operations in the same order as the formulas above, with fewer temporaries.
        b1, b2 = self.betas
        k = self.t + 1
        m, s = state.get("m"), state.get("s")
        g2 = (1 - b2) * g
        g2 *= g
        if m is None:
            m, s = state["m"], state["s"] = (1 - b1) * g, g2
        else:
            m *= b1
            m += (1 - b1) * g
            s *= b2
            s += g2
        denom = s / (1 - b2 ** k)
        np.sqrt(denom, out=denom)
        denom += self.eps
        d = m * (lr / (1 - b1 ** k))
        d /= denom
        new = np.subtract(value, d, out=d) if d.dtype == value.dtype else value - d
        if self.decoupled_weight_decay:
            new -= lr * self.decoupled_weight_decay * value
        return new


def descend(value, lr, d):
    """value - lr * d as a new array, allocating one array instead of two.

    Why: two model-sized temporaries alive at once, then both freed, can make glibc hand
    the memory back and fault it in again on the next step: a loop of ``v - 0.01 * g`` at
    256x784 took 1.3 ms per update against 0.07 ms for this form (same bits:
    value + (-(lr d)) is value - lr d in IEEE arithmetic).
    """
    if d.dtype != value.dtype or d.shape != value.shape:
        return value - lr * d
    new = np.multiply(d, -lr)
    new += value
    return new


def _as_param_dict(params) -> dict:
    if isinstance(params, dict):
        items = list(params.items())
    elif isinstance(params, (list, tuple)):
        items = [(str(k), p) for k, p in enumerate(params)]
    else:
        raise TypeError("params must be a dict {name: Tensor or array} (e.g. "
                        f"model.parameters()) or a list; got {type(params).__name__}")
    if not items:
        raise ValueError("the optimiser got no parameters")
    out = {}
    for name, p in items:
        if type(p) is Tensor:
            if not np.issubdtype(p.value.dtype, np.inexact):
                raise TypeError(f"parameter {name!r} has dtype {p.value.dtype}; "
                                "parameters must be floating point")
        elif isinstance(p, np.ndarray):
            if not np.issubdtype(p.dtype, np.inexact):
                raise TypeError(f"parameter {name!r} has dtype {p.dtype}; "
                                "parameters must be floating point arrays")
        else:
            raise TypeError(f"parameter {name!r} is a {type(p).__name__}; expected a Tensor "
                            "or a NumPy array (updated in place)")
        out[str(name)] = p
    return out


def _as_array(g):
    return g.value if type(g) is Tensor else np.asarray(g)


def _positive_number(x, what):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x) or x <= 0:
        raise ValueError(f"{what} must be a positive number or a schedule, got {x!r}")
    return float(x)
