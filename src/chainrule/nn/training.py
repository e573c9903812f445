"""The training and scoring loops: one epoch of SGD-style steps, and loss/accuracy of a model.

With batch size 1 a step is literally the notes' algorithm: pick an example i, build the
graph of o = -q_{y_i} from the leaves W, x_i, b, V, gamma, run the backward pass, and move
every parameter by eta_t times its derivative.
"""

from __future__ import annotations

import numpy as np

from ..data.preprocess import minibatches
from .functional import cross_entropy


def train_epoch(model, opt, X, y, batch_size: int = 1, rng=None, replace=None,
                on_steps=None, report_every: int = 64) -> float:
    """Run one epoch of optimisation steps on (X, y); return the mean loss of its steps.

    Args:
        model: a module mapping inputs to class scores (logits).
        opt: an optimiser over ``model.parameters()``.
        X: float array (n, d); y: int labels (n,).
        batch_size: examples per step. With 1, each step sees one example x of shape (d,)
            and an int label, exactly the notes' single-example loss.
        rng: ``np.random.Generator`` choosing the examples.
        replace: sampling with replacement (the notes' "i uniformly at random"); default:
            yes for batch size 1, shuffled batches otherwise (see ``data.minibatches``).
        on_steps: called with a step count every ``report_every`` steps and at the end
            (for a progress bar).

    Returns:
        The average of the step losses (computed before each step's update).
    """
    rng = np.random.default_rng() if rng is None else rng
    n = len(X)
    total, steps, pending = 0.0, 0, 0
    for idx in minibatches(n, batch_size, rng, replace):
        if batch_size == 1:
            i = int(idx[0])
            loss = cross_entropy(model(X[i]), int(y[i]))
        else:
            loss = cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        opt.zero_grad()
        total += float(loss.value)
        steps += 1
        pending += 1
        if on_steps is not None and pending >= report_every:
            on_steps(pending)
            pending = 0
    if on_steps is not None and pending:
        on_steps(pending)
    return total / max(steps, 1)


def predict_scores(model, X) -> np.ndarray:
    """Class scores (logits) of every row of X as a NumPy array; records no graph."""
    return np.asarray(model(X, model.state_dict()))


def evaluate(model, X, y, chunk: int = 4096):
    """Mean cross-entropy loss, accuracy and predicted labels of ``model`` on (X, y).

    Returns:
        ``(loss, accuracy, predictions)`` with predictions an int array (n,).
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
    loss = float(losses.mean()) if len(losses) else float("nan")
    accuracy = float(np.mean(preds == y)) if len(preds) else float("nan")
    return loss, accuracy, preds


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts C[i, j] of examples with true class i predicted as class j."""
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return C
