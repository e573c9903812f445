"""Weight initialisers, each driven by an explicit ``numpy.random.Generator``.

A weight matrix has the notes' layout, (fan_out, fan_in): ``W`` in R^{m x d} maps R^d to R^m.
The same generator state gives the same weights, so ``MLP(..., seed=s)`` is reproducible.

Example:
    >>> rng = np.random.default_rng(0)
    >>> glorot_uniform((3, 4), rng).shape
    (3, 4)
"""

from __future__ import annotations

import numpy as np


def _fans(shape) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"initialisers expect a (fan_out, fan_in) matrix shape, got {shape}")
    fan_out, fan_in = shape
    return fan_in, fan_out


def glorot_uniform(shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). Suits tanh, sigmoid."""
    fan_in, fan_out = _fans(shape)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def glorot_normal(shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def he_uniform(shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """He/Kaiming uniform: U(-a, a), a = sqrt(6 / fan_in). Suits relu."""
    fan_in, _ = _fans(shape)
    a = np.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, size=shape).astype(dtype)


def he_normal(shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """He/Kaiming normal: N(0, 2 / fan_in)."""
    fan_in, _ = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def zeros(shape, rng: np.random.Generator | None = None, dtype=np.float64) -> np.ndarray:
    """All zeros (the default for biases b and gamma)."""
    return np.zeros(shape, dtype=dtype)


INITIALIZERS = {
    "glorot": glorot_uniform,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}


def get_initializer(init):
    """An initialiser by name ("glorot", "he", ...), or ``init`` itself if it is callable."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ValueError(f"unknown initialiser {init!r}; choose one of "
                         f"{', '.join(sorted(INITIALIZERS))} or pass a function "
                         "(shape, rng) -> array") from None
