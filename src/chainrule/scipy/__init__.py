"""chainrule.scipy: differentiable SciPy functions (needs the extra: pip install "chainrule[scipy]").

Each submodule (special, stats, linalg, signal, integrate) defines the functions
chainrule differentiates; any other name of the SciPy module is handed out by
``passthrough``: SciPy's own function, which runs on values and refuses a Tensor
that carries a derivative (rather than silently cutting the graph).
"""
import importlib

try:
    import scipy as _scipy  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError('chainrule.scipy needs SciPy: pip install "chainrule[scipy]"') from None


def passthrough(module_name):
    """A module ``__getattr__`` that forwards unknown names to ``scipy.<module_name>``.

    The forwarded function computes on plain values; given a Tensor that is
    being differentiated (or a list holding one) it raises a TypeError naming
    the full path and saying that it has no derivative rule.
    """
    module = importlib.import_module(f"scipy.{module_name}")

    def __getattr__(name):
        try:
            obj = getattr(module, name)
        except AttributeError:
            raise AttributeError(f"scipy.{module_name} has no attribute {name!r}") from None
        if not callable(obj) or isinstance(obj, type):
            return obj
        return _refusing(obj, f"scipy.{module_name}.{name}")
    return __getattr__


def _refusing(fun, path):
    from ..ops._util import _holds_tensor
    from ..tensor import Tensor

    def wrapper(*args, **kwargs):
        vals = list(args) + list(kwargs.values())
        if any(type(a) is Tensor and (a.requires_grad or a.tangent is not None) for a in vals) \
                or _holds_tensor([a for a in vals if isinstance(a, (list, tuple))]):
            raise TypeError(f"{path} has no derivative rule in chainrule: it cannot be "
                            f"differentiated. Call it on plain values (t.detach()) if no "
                            f"gradient is needed, or see docs/numpy.md for what is supported.")
        args = [a.value if type(a) is Tensor else a for a in args]
        kwargs = {k: v.value if type(v) is Tensor else v for k, v in kwargs.items()}
        return fun(*args, **kwargs)
    wrapper.__name__ = getattr(fun, "__name__", path)
    wrapper.__doc__ = getattr(fun, "__doc__", None)
    return wrapper
