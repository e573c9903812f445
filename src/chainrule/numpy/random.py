"""chainrule.numpy.random: NumPy's np.random, unchanged (random numbers have no derivative)."""
import numpy.random as _random

__all__ = [n for n in dir(_random) if not n.startswith("_")]


def __getattr__(name):
    return getattr(_random, name)


def __dir__():
    return __all__
