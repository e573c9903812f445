"""Preparing a dataset for training: a seeded train/test split, standardisation fitted on the
training rows only, and the order in which examples are visited.
"""

from __future__ import annotations

import numpy as np

from .sources import DataError


def train_test_split(y: np.ndarray, test_fraction: float = 0.2, seed: int = 0):
    """Split row indices into train and test, stratified by class, reproducibly.

    Each class contributes ``round(test_fraction * n_class)`` rows to the test set (but always
    leaves at least one row of it in training), chosen by ``np.random.default_rng(seed)``.

    Args:
        y: integer labels, shape (n,).
        test_fraction: share of each class held out, strictly between 0 and 1.
        seed: the split depends on nothing else (same y, same seed: same split).

    Returns:
        ``(train_idx, test_idx)``, two sorted int64 arrays that partition range(n).

    Example:
        >>> tr, te = train_test_split(np.array([0, 0, 1, 1, 1, 0, 1, 0, 1, 0]), 0.2, seed=0)
        >>> len(tr), len(te)
        (8, 2)
    """
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test fraction must be between 0 and 1, got {test_fraction}")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = min(int(round(test_fraction * len(idx))), len(idx) - 1)
        test.append(idx[:k])
        train.append(idx[k:])
    train_idx = np.sort(np.concatenate(train)) if train else np.empty(0, np.int64)
    test_idx = np.sort(np.concatenate(test)) if test else np.empty(0, np.int64)
    if len(test_idx) == 0:
        raise DataError(f"too few rows ({len(y)}) to hold out a test set of "
                        f"{test_fraction:.0%} per class; add data or raise --test-fraction")
    return train_idx.astype(np.int64), test_idx.astype(np.int64)


class Standardizer:
    """Shift and scale each feature to mean 0 and standard deviation 1 on the data it was fit on.

    Constant features (standard deviation 0, such as the always-blank corner pixels of digits)
    keep scale 1 so nothing is divided by zero.

    Example:
        >>> s = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
        >>> s.transform(np.array([[1.0, 5.0]]))
        array([[0., 0.]])
    """

    def __init__(self, mean=None, scale=None):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float64)

    def fit(self, X: np.ndarray) -> "Standardizer":
        X = np.asarray(X, dtype=np.float64)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean)), std, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.mean is None:
            raise RuntimeError("Standardizer.transform called before fit")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.mean.shape[0]:
            raise DataError(f"expected data with {self.mean.shape[0]} features, "
                            f"got shape {X.shape}")
        return (X - self.mean) / self.scale


def minibatches(n: int, batch_size: int, rng: np.random.Generator, replace: bool | None = None):
    """Row indices for one epoch of training, one array per step.

    Two ways of visiting the data:

    * ``replace=True``: each step draws its examples uniformly at random from all n rows,
      independently of the other steps. With ``batch_size=1`` this is exactly the notes'
      algorithm ("select an integer i uniformly at random from {1..n}"). An epoch is
      ``ceil(n / batch_size)`` steps.
    * ``replace=False``: shuffle the rows once per epoch and cut them into consecutive batches
      (the last one may be smaller), so every row is seen exactly once per epoch.

    ``replace=None`` (the default) picks the notes' sampling for batch size 1 and shuffled
    batches otherwise.

    Yields:
        int64 arrays of row indices.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if replace is None:
        replace = batch_size == 1
    steps = -(-n // batch_size)
    if replace:
        draws = rng.integers(0, n, size=(steps, batch_size))
        yield from draws
    else:
        order = rng.permutation(n)
        for s in range(steps):
            yield order[s * batch_size:(s + 1) * batch_size]
