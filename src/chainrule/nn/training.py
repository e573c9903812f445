"""The training and scoring loops: one epoch of SGD-style steps, and loss/accuracy of a model.

With batch size 1 a step is literally the notes' algorithm: pick an example i, build the
graph of o = -q_{y_i} from the leaves W, x_i, b, V, gamma, run the backward pass, and move
every parameter by eta_t times its derivative.
"""

from __future__ import annotations

import numpy as np

from ..data.preprocess import minibatches
from ..tensor import value as _value
from .functional import cross_entropy


class NonFiniteLossError(ValueError):
    """A step's loss was NaN or infinite (``train_epoch(..., stop_on_nan=True)``)."""

    def __init__(self, message, step: int, ranks=(0,)):
        super().__init__(message)
        self.step, self.ranks = step, list(ranks)


def train_epoch(model, opt, X, y, batch_size: int = 1, rng=None, replace=None,
                on_steps=None, report_every: int = 64, stop_on_nan: bool = False,
                shard=(0, 1), allreduce_sum=None) -> float:
    """Run one epoch of optimisation steps on (X, y); return the mean loss of its steps.

    Args:
        model: a module mapping inputs to class scores (logits).
        opt: an optimiser over ``model.parameters()``.
        X: float array (n, d); y: int labels (n,).
        batch_size: examples per step (the global batch when data-parallel). With 1, each
            step sees one example x of shape (d,) and an int label, exactly the notes'
            single-example loss.
        rng: ``np.random.Generator`` choosing the examples (data-parallel: seeded alike
            on every rank, so that all ranks draw the same global batches).
        replace: sampling with replacement (the notes' "i uniformly at random"); default:
            yes for batch size 1, shuffled batches otherwise (see ``data.minibatches``).
        on_steps: called with a step count every ``report_every`` steps and at the end
            (for a progress bar).
        stop_on_nan: raise :class:`NonFiniteLossError` at the first step whose loss is NaN
            or infinite, before that step's update.
        shard: ``(rank, size)``: this process takes rows ``rank::size`` of every batch.
        allreduce_sum: with ``size > 1``, the function that sums a pytree of arrays over
            the processes (``chainrule.distributed.allreduce_sum``); it is called once
            per step, on the gradients, the loss and the NaN flags together.

    Returns:
        The average of the step losses (computed before each step's update).
    """
    rng = np.random.default_rng() if rng is None else rng
    rank, size = shard
    if size > 1 and allreduce_sum is None:
        raise ValueError(f"train_epoch: shard {shard} needs allreduce_sum (e.g. "
                         "chainrule.distributed.allreduce_sum)")
    n = len(X)
    total, steps, pending = 0.0, 0, 0
    for idx in minibatches(n, batch_size, rng, replace):
        if size > 1:
            loss = _shared_step(model, opt, X, y, idx, rank, size, allreduce_sum,
                                stop_on_nan, steps + 1)
        else:
            if batch_size == 1:
                i = int(idx[0])
                out = cross_entropy(model(X[i]), int(y[i]))
            else:
                out = cross_entropy(model(X[idx]), y[idx])
            loss = float(out.value)
            if stop_on_nan and not np.isfinite(loss):
                raise NonFiniteLossError(f"the loss is {loss} at step {steps + 1}",
                                         steps + 1)
            out.backward()
            opt.step()
            opt.zero_grad()
        total += loss
        steps += 1
        pending += 1
        if on_steps is not None and pending >= report_every:
            on_steps(pending)
            pending = 0
    if on_steps is not None and pending:
        on_steps(pending)
    return total / max(steps, 1)


def _shared_step(model, opt, X, y, idx, rank, size, allreduce_sum, stop_on_nan, step):
    """One data-parallel step: this rank's share of the batch, one Allreduce, the update.

    Each rank differentiates sum(its losses) / len(batch), so the ranks' gradients add up
    to the gradient of the batch's mean loss, whatever the shares' sizes (a batch smaller
    than the number of ranks leaves some ranks without rows: they add zeros).
    """
    params = model.parameters()
    mine = idx[rank::size]
    loss = 0.0
    if len(mine):
        out = cross_entropy(model(X[mine]), y[mine], reduction="sum") / len(idx)
        out.backward()
        loss = float(out.value)
    grads = {k: (np.zeros_like(p.value) if p.grad is None else np.asarray(_value(p.grad)))
             for k, p in params.items()}
    bad = np.zeros(size)
    bad[rank] = not np.isfinite(loss)
    grads, bad, loss = allreduce_sum((grads, bad, np.array(loss)))
    if stop_on_nan and bad.any():
        ranks = [int(r) for r in np.flatnonzero(bad)]
        raise NonFiniteLossError(f"the loss is not finite at step {step} on rank "
                                 f"{', '.join(map(str, ranks))} of {size}", step, ranks)
    opt.step(grads)
    opt.zero_grad()
    return float(loss)




def predict_scores(model, X) -> np.ndarray:
    """Class scores (logits) of every row of X as a NumPy array; records no graph."""
    return np.asarray(model(X, model.state_dict()))


def evaluate(model, X, y, chunk: int = 4096):
    """Mean cross-entropy loss, accuracy and predicted labels of ``model`` on (X, y).

    Returns:
        ``(loss, accuracy, predictions)`` with predictions an int array (n,).
    """
    loss_sum, correct, preds = evaluate_sums(model, X, y, chunk)
    n = len(preds)
    return (loss_sum / n if n else float("nan"), correct / n if n else float("nan"), preds)


def evaluate_sums(model, X, y, chunk: int = 4096):
    """Summed loss, number correct and predicted labels: what ranks add up to score a split.

    Returns:
        ``(loss_sum, n_correct, predictions)``.
    """
    params = model.state_dict()
    losses, preds = [], []
    for start in range(0, len(X), chunk):
        xb, yb = X[start:start + chunk], y[start:start + chunk]
        scores = np.asarray(model(xb, params))
        losses.append(np.asarray(cross_entropy(scores, yb, reduction="none")))
        preds.append(np.argmax(scores, axis=1))
    losses = np.concatenate(losses) if losses else np.empty(0)
    preds = np.concatenate(preds) if preds else np.empty(0, np.int64)
    return float(losses.sum()), int(np.sum(preds == y)), preds


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts C[i, j] of examples with true class i predicted as class j."""
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return C
