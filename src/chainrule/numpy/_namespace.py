"""How ``chainrule.numpy`` (and its ``linalg``, ``fft``) hand out NumPy's names.

For each public name of the NumPy module, ``resolve`` gives, in order:

1. NumPy's object itself if it is not a function (constants, dtypes, classes,
   ``newaxis``, ``ndarray``, ``errstate``...);
2. this package's own version (``array``, ``asarray``, ``where``...);
3. the chainrule implementation of that NumPy callable (the core ops of
   ``ops.dispatch`` and ``ops.catalogue.IMPLS``); an elementwise primitive is
   handed out as it is (``chainrule.numpy.tanh is cr.tanh``: no wrapper, no cost);
4. for a function without a derivative (``ops.dispatch.NO_DERIVATIVE``), NumPy's
   function on the values (a Tensor's value, lists of them included);
5. for anything else, NumPy's function behind a guard: on plain values it just
   runs NumPy, and given a Tensor being differentiated it raises a TypeError
   naming the full path (``np.linalg.qr``), why, and the nearest supported function.

Names are resolved on first use and cached in the module, so implementations
that other catalogue modules add appear without a change here.
"""
import difflib
import functools

import numpy as _np

from ..ops import catalogue, dispatch
from ..ops.dispatch import deep_values
from ..ops._util import pack
from ..primitive import ConstantPrimitive, Primitive
from ..tensor import Tensor

# Functions that take a sequence of arrays first: their list is not stacked.
_SEQUENCE_FIRST = {getattr(_np, n) for n in (
    "concatenate stack hstack vstack dstack column_stack row_stack block select "
    "broadcast_arrays einsum").split() if hasattr(_np, n)}

# Hand-written pointers for refused functions whose nearest relative is not a
# near-spelling of their name: (advice, the function the advice needs).
NEAREST = {
    "np.linalg.qr": ("np.linalg.svd", "linalg.svd"),
    "np.linalg.lstsq": ("np.linalg.pinv(a) @ b", "linalg.pinv"),
    "np.linalg.matrix_power": ("repeated @ (np.matmul)", "matmul"),
    "np.linalg.eigvalsh": ("np.linalg.eigh(a)[0]", "linalg.eigh"),
    "np.linalg.eigvals": ("np.linalg.eig(a)[0]", "linalg.eig"),
    "np.median": ("np.sort and indexing", "sort"),
    "np.percentile": ("np.sort and indexing", "sort"),
    "np.quantile": ("np.sort and indexing", "sort"),
    "np.nanmedian": ("np.sort and indexing", "sort"),
    "np.interp": ("np.where and arithmetic", "where"),
}


def _nearest_pointer(path):
    """The hand-written advice for ``path``, if the function it relies on is supported."""
    advice = NEAREST.get(path)
    if advice is None:
        return None
    mod = _np
    *subs, name = advice[1].split(".")
    for s in subs:
        mod = getattr(mod, s)
    return advice[0] if implementation(getattr(mod, name)) is not None else None


def _differentiated(x):
    """Whether x (or an entry of a list or tuple in it) is a Tensor carrying a derivative."""
    todo = [x]
    while todo:
        a = todo.pop()
        if type(a) is Tensor:
            if a.requires_grad or a.tangent is not None:
                return True
        elif isinstance(a, (list, tuple)):
            todo.extend(a)
    return False


def passthrough(fun, path):
    """NumPy's ``fun`` on values: for functions without a derivative (no gradient, as autograd)."""
    what = None if fun in dispatch.METADATA else path  # shapes and dtypes: fine under cr.jit

    @functools.wraps(fun)
    def on_values(*args, **kw):
        return fun(*deep_values(args, what), **{k: deep_values(v, what) for k, v in kw.items()})
    on_values.chainrule_kind = "no derivative"
    on_values.chainrule_path = path
    return on_values


def refusing(fun, path, nearest):
    """NumPy's ``fun`` on plain values; a clear TypeError on a Tensor being differentiated."""
    @functools.wraps(fun)
    def guarded(*args, **kw):
        if _differentiated(args) or _differentiated(list(kw.values())):
            hint = f" The nearest supported function: {nearest}." if nearest else ""
            raise TypeError(
                f"{path} has no derivative rule in chainrule yet, so it cannot be applied to "
                f"a Tensor being differentiated.{hint} Use t.detach() to compute on the "
                f"value without a gradient; docs/numpy.md lists what is supported.")
        return fun(*deep_values(args, path), **{k: deep_values(v, path) for k, v in kw.items()})
    guarded.chainrule_kind = "refused"
    guarded.chainrule_path = path
    return guarded


def packing(impl, npfun):
    """A core op with NumPy's signature, stacking lists of Tensors given as arrays."""
    if npfun in _SEQUENCE_FIRST:
        @functools.wraps(impl)
        def seq(arrays, *args, **kw):
            return impl([pack(a) for a in arrays], *args, **kw)
        return seq

    @functools.wraps(impl)
    def packed(*args, **kw):
        return impl(*[pack(a) for a in args], **{k: pack(v) for k, v in kw.items()})
    return packed


def implementation(npfun):
    """The chainrule implementation of a NumPy callable (None: none)."""
    if isinstance(npfun, _np.ufunc):
        impl = dispatch.ufunc_impl(npfun)
    else:
        impl = dispatch.function_impl(npfun)
    if impl is None:
        return None
    if isinstance(impl, Primitive) or getattr(impl, "packs", False) or \
            getattr(impl, "numpy_function", None) is not None or impl in catalogue.IMPLS.values():
        return impl  # primitives and catalogue entries take NumPy's arguments already
    return packing(impl, npfun)


class Resolver:
    """The names of one NumPy module (``np``, ``np.linalg``, ``np.fft``) for chainrule."""

    def __init__(self, npmod, prefix, own=None):
        self.npmod = npmod
        self.prefix = prefix  # "np" or "np.linalg": how error messages name things
        self.own = own or {}

    def names(self):
        """NumPy's public names of the module that this NumPy version really has."""
        listed = getattr(self.npmod, "__all__", None) or dir(self.npmod)
        out = []
        for n in listed:
            if n.startswith("_"):
                continue
            try:
                getattr(self.npmod, n)
            except AttributeError:  # removed names NumPy still lists for its messages
                continue
            out.append(n)
        return sorted(set(out) | set(self.own))

    def supported(self):
        """Names of the module's functions with a derivative (for the nearest-name hint)."""
        out = []
        for n in self.names():
            obj = getattr(self.npmod, n, None)
            if callable(obj) and not isinstance(obj, type) and (
                    n in self.own or implementation(obj) is not None):
                out.append(n)
        return out

    def resolve(self, name):
        if name in self.own:
            return self.own[name]
        try:
            obj = getattr(self.npmod, name)
        except AttributeError:
            raise AttributeError(
                f"module 'chainrule.{self.prefix.replace('np', 'numpy', 1)}' has no attribute "
                f"{name!r} (NumPy's {self.prefix} has none either)") from None
        if not callable(obj) or isinstance(obj, type):
            return obj  # constants, dtypes, classes, submodules
        impl = implementation(obj)
        if impl is not None:
            return impl
        path = f"{self.prefix}.{name}"
        if obj in dispatch.NO_DERIVATIVE:
            return passthrough(obj, path)
        nearest = _nearest_pointer(path)
        if nearest is None:
            close = difflib.get_close_matches(name, self.supported(), n=1, cutoff=0.6)
            nearest = f"{self.prefix}.{close[0]}" if close else None
        return refusing(obj, path, nearest)

    def module_getattr(self, namespace):
        """A module ``__getattr__`` (PEP 562) resolving names once and caching them."""
        def __getattr__(name):
            if name.startswith("__"):
                raise AttributeError(name)
            obj = self.resolve(name)
            namespace[name] = obj
            return obj
        return __getattr__


def kind(obj):
    """How chainrule.numpy treats a name: 'differentiable', 'no derivative', 'refused', 'value'."""
    k = getattr(obj, "chainrule_kind", None)
    if k is not None:
        return k
    if isinstance(obj, ConstantPrimitive):
        return "no derivative"
    if isinstance(obj, Primitive) or callable(obj) and not isinstance(obj, type) and \
            getattr(obj, "__module__", "").startswith("chainrule"):
        return "differentiable"
    return "value"
