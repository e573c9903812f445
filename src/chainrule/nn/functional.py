"""Activations and losses of the notes' network, written with chainrule operations.

They take Tensors (recorded, differentiable) or plain NumPy arrays (just computed), so the
same code serves ``loss.backward()``, ``cr.grad`` and plain evaluation.

The notes' output layer: l = V h + gamma, q = LS(l) (log-softmax), o = -q_y.
"""

from __future__ import annotations

import numpy as np

from .. import ops as _ops


def log_softmax(l, axis: int = -1):
    """LS(l)_k = l_k - log sum_k' exp(l_k'), along ``axis`` (the notes' q = LS(l))."""
    return _ops.log_softmax(l, axis=axis)


def nll_loss(q, y, reduction: str = "mean"):
    """Negative log-likelihood -q_y of log-probabilities ``q`` at the true labels ``y``.

    Args:
        q: log-probabilities, shape (K,) for one example or (B, K) for a batch.
        y: the true label, an int for one example, or an int array of shape (B,).
        reduction: "mean" (default) or "sum" over the batch, or "none" for a (B,) vector.

    Returns:
        A scalar (Tensor if ``q`` is one), the notes' o = -q_y for a single example.

    Example:
        >>> q = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
        >>> float(nll_loss(q, np.array([0, 1])))  # (log 2 + log 4/3) / 2
        0.4904146265058631
    """
    shape = np.shape(q)
    y_arr = np.asarray(y)
    if len(shape) == 1:
        if y_arr.ndim != 0:
            raise ValueError(f"nll_loss: one example of log-probabilities (shape {shape}) "
                             f"needs one integer label, got labels of shape {y_arr.shape}")
        k = _check_label(y_arr, shape[0])
        return -q[k]
    if len(shape) != 2:
        raise ValueError(f"nll_loss: expected log-probabilities of shape (K,) or (B, K), "
                         f"got {shape}")
    if y_arr.shape != (shape[0],):
        raise ValueError(f"nll_loss: {shape[0]} rows of log-probabilities need {shape[0]} "
                         f"labels, got labels of shape {y_arr.shape}")
    y_arr = _check_labels(y_arr, shape[1])
    picked = q[np.arange(shape[0]), y_arr]
    if reduction == "mean":
        return -_ops.mean(picked)
    if reduction == "sum":
        return -_ops.sum(picked)
    if reduction == "none":
        return -picked
    raise ValueError(f"nll_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits, y, reduction: str = "mean"):
    """``nll_loss(log_softmax(logits), y)``: the notes' loss from the scores l."""
    return nll_loss(log_softmax(logits), y, reduction)


def _check_label(y: np.ndarray, K: int) -> int:
    if y.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: a label must be an integer 0..{K - 1}, got {y!r}")
    k = int(y)
    if not 0 <= k < K:
        raise ValueError(f"nll_loss: label {k} is outside 0..{K - 1} for {K} classes")
    return k


def _check_labels(y: np.ndarray, K: int) -> np.ndarray:
    if y.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: labels must be integers 0..{K - 1}, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"nll_loss: labels must lie in 0..{K - 1} for {K} classes, "
                         f"got values from {y.min()} to {y.max()}")
    return y


def tanh(x):
    return _ops.tanh(x)


def relu(x):
    return _ops.relu(x)


def sigmoid(x):
    return _ops.sigmoid(x)


ACTIVATIONS = {"tanh": tanh, "relu": relu, "sigmoid": sigmoid}


def get_activation(name: str):
    """The transfer function g by name: "tanh", "relu" or "sigmoid"."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; choose one of "
                         f"{', '.join(ACTIVATIONS)}") from None
