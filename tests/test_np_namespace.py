"""chainrule.numpy: NumPy's whole namespace, differentiable where chainrule has rules, values
for functions without a derivative, clear refusals otherwise; lists of Tensors kept in the graph."""
import numpy
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.numpy._namespace import kind
from chainrule.ops import catalogue, ufuncs as U
from chainrule.tensor import Tensor


def test_every_public_name_of_numpy_exists():
    missing = []
    for name in numpy.__all__:
        if name.startswith("_"):
            continue
        try:
            getattr(numpy, name)
        except AttributeError:
            continue  # listed by NumPy only for its "removed" message
        if not hasattr(np, name):
            missing.append(name)
    assert missing == []
    for sub, npsub in [(np.linalg, numpy.linalg), (np.fft, numpy.fft)]:
        for name in npsub.__all__:
            assert hasattr(sub, name), f"{sub.__name__}.{name}"


def test_all_lists_only_what_exists():
    for mod in (np, np.linalg, np.fft, np.random):
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod.__name__}.{name}"
    assert "tanh" in np.__all__ and "linalg" in np.__all__ and "qr" in np.linalg.__all__
    with pytest.raises(AttributeError, match="no attribute 'not_a_numpy_name'"):
        np.not_a_numpy_name


def test_constants_and_types_are_numpys():
    assert np.pi is numpy.pi and np.e is numpy.e and np.newaxis is None
    assert np.float64 is numpy.float64 and np.ndarray is numpy.ndarray
    assert np.inf == numpy.inf and np.errstate is numpy.errstate
    assert np.random.default_rng is numpy.random.default_rng


def _numpy_paths(obj):
    paths = []
    for prefix, mod in [("", numpy), ("linalg.", numpy.linalg), ("fft.", numpy.fft)]:
        for name in dir(mod):
            if not name.startswith("_") and getattr(mod, name, None) is obj:
                paths.append(prefix + name)
    return paths


def _get(path):
    obj = np
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_catalogue_function_is_reachable_under_its_numpy_path():
    assert catalogue.IMPLS, "the catalogue is empty"
    for npfun, impl in catalogue.IMPLS.items():
        paths = _numpy_paths(npfun)
        assert paths, f"{npfun!r}: not found under numpy, numpy.linalg or numpy.fft"
        for p in paths:
            got = _get(p)
            assert kind(got) in ("differentiable", "no derivative"), p
            if not isinstance(npfun, numpy.ufunc):
                # functions: the catalogue's own implementation (it has NumPy's signature)
                assert got is impl or getattr(got, "__wrapped__", None) is impl, p


def test_hot_ufuncs_are_the_primitives_themselves():
    # no wrapper layer: cnp.tanh(t) costs what cr.tanh(t) costs
    assert np.tanh is cr.tanh and np.exp is cr.exp and np.add is cr.add
    assert np.tan is U.tan and np.log1p is U.log1p


def test_lists_of_tensors_are_differentiated():
    assert cr.grad(lambda x: np.mean([x, x + 2]))(0.0) == 1.0
    assert cr.grad(lambda x: np.sum(np.array([x, 2 * x])))(1.0) == 3.0
    assert cr.grad(lambda x: np.sum(np.asarray([[x, 1.0], [3.0, x * x]])))(2.0) == 5.0
    assert cr.grad(lambda x: np.max((x, 2 * x)))(1.0) == 2.0
    g = cr.grad(lambda x: np.sum(np.stack([x, [1.0, 2.0]]) ** 2))(numpy.array([1.0, 3.0]))
    numpy.testing.assert_allclose(g, [2.0, 6.0])
    g = cr.grad(lambda x: np.sum(np.concatenate([[x[0], x[1]], x])))(numpy.array([1.0, 3.0]))
    numpy.testing.assert_allclose(g, [2.0, 2.0])
    if numpy.linalg.norm in catalogue.IMPLS:
        g = cr.grad(lambda x: np.linalg.norm([x, x + 2]))(1.0)
        numpy.testing.assert_allclose(g, (1 + 3) / numpy.sqrt(1 + 9))


def test_array_and_asarray_keep_the_graph():
    x = numpy.array([1.0, 2.0])
    numpy.testing.assert_allclose(cr.grad(lambda a: np.sum(np.array(a) * a))(x), 2 * x)
    numpy.testing.assert_allclose(cr.grad(lambda a: np.sum(np.asarray(a) ** 3))(x), 3 * x ** 2)
    numpy.testing.assert_allclose(cr.grad(lambda a: np.sum(np.array(a, ndmin=2)))(x), [1, 1])
    # a cast to float32 and back: the gradient comes back in the input's dtype
    g = cr.grad(lambda a: np.sum(np.array(a, dtype=numpy.float32) * 2))(x)
    assert g.dtype == numpy.float64
    numpy.testing.assert_allclose(g, [2, 2])
    # a complex cast: the real part of the cotangent reaches the real input (autograd)
    assert cr.grad(lambda a: np.real(np.asarray(a, dtype=complex) * (1 + 2j)))(1.0) == 1.0
    # an integer cast has no derivative
    assert not isinstance(np.array(cr.tensor(x, requires_grad=True), dtype=int), Tensor)
    # plain values are NumPy's
    assert type(np.array([1, 2])) is numpy.ndarray and np.asarray(3.0).ndim == 0


def test_copy_is_differentiable():
    g = cr.grad(lambda x: cr.sum(np.copy(x) * x))(numpy.array([1.0, 2.0]))
    numpy.testing.assert_allclose(g, [2.0, 4.0])
    g = cr.grad(lambda x: cr.sum(numpy.copy(x) * x))(numpy.array([1.0, 2.0]))  # NumPy's dispatch
    numpy.testing.assert_allclose(g, [2.0, 4.0])


def test_functions_without_derivative_run_on_values():
    x = numpy.array([0.3, -1.2, 2.5])

    def f(a):
        i = np.argmax(a)
        assert type(i) is numpy.int64 or numpy.ndim(i) == 0
        mask = np.logical_or(np.isnan(a), a > 0)
        k = np.floor(a) + np.sign(a) + np.zeros_like(a)
        assert np.shape(a) == (3,) and np.ndim(a) == 1 and np.size(a) == 3
        return np.sum(np.where(mask, a, 0.0) * a) + a[i] + np.sum(k * 0.0 + k)
    g = cr.grad(f)(x)
    numpy.testing.assert_allclose(g, [0.6, 0.0, 6.0])
    nz = np.where(cr.tensor(x, requires_grad=True) > 0)
    numpy.testing.assert_array_equal(nz[0], [0, 2])
    numpy.testing.assert_array_equal(numpy.where(cr.tensor(x) > 0)[0], [0, 2])


def test_one_argument_where_is_nonzero():
    t = cr.tensor(numpy.array([0.0, 1.0, 2.0]), requires_grad=True)
    (idx,) = numpy.where(t)
    numpy.testing.assert_array_equal(idx, [1, 2])
    (idx,) = np.where(t)
    numpy.testing.assert_array_equal(idx, [1, 2])
    with pytest.raises(ValueError, match="np.where"):
        np.where(t, t)


def _refused_names(mod):
    return [n for n in mod.__all__ if kind(getattr(mod, n)) == "refused"]


def test_refusals_name_the_full_path_and_why():
    from chainrule.numpy._namespace import Resolver, refusing
    a = numpy.eye(3) + 0.1
    # a refused function of a submodule is named with its full path
    guarded = refusing(numpy.linalg.qr, "np.linalg.qr", "np.linalg.svd")
    with pytest.raises(TypeError, match=r"np\.linalg\.qr has no derivative rule.*np\.linalg\.svd"):
        cr.grad(lambda m: np.sum(guarded(m)[0]))(a)
    q, r = guarded(a)  # plain values: NumPy's function
    numpy.testing.assert_allclose(q @ r, a)
    # the resolver does that for every name without a rule
    refused = _refused_names(np)
    assert refused, "every NumPy function has a rule: test another way"
    name = "histogram" if "histogram" in refused else refused[0]
    with pytest.raises(TypeError, match=rf"np\.{name} has no derivative rule.*t\.detach\(\)"):
        cr.grad(lambda v: np.sum(getattr(np, name)(v)[0]))(numpy.array([1.0, 2.0, 4.0]))
    assert Resolver(numpy.linalg, "np.linalg").resolve("qr").__name__ == "qr"
    # on plain values (and Tensors without a derivative) it is NumPy's function
    counts, _ = np.histogram(cr.tensor([1.0, 5.0, 2.0]), bins=2)
    numpy.testing.assert_array_equal(counts, [2, 1])
    for sub in (np.linalg, np.fft):
        for n in _refused_names(sub):
            assert getattr(sub, n).chainrule_path == f"{sub.__name__[10:].replace('numpy', 'np')}.{n}"


def test_numpy_dispatch_reaches_the_catalogue():
    x = numpy.array([0.2, 0.4])
    for npf, ours in [(numpy.tan, U.tan), (numpy.arctan2, U.arctan2), (numpy.hypot, U.hypot)]:
        args = [cr.tensor(x, requires_grad=True)] * npf.nin
        assert npf(*args).op is ours
    numpy.testing.assert_allclose(cr.grad(lambda a: numpy.sum(numpy.log1p(a)))(x), 1 / (1 + x))
    # ufunc methods with a chainrule equivalent
    numpy.testing.assert_allclose(cr.grad(lambda a: numpy.add.reduce(a * a))(x), 2 * x)
    numpy.testing.assert_allclose(cr.grad(lambda a: numpy.maximum.reduce(a))(x), [0, 1])
    with pytest.raises(TypeError, match="np.tan with out="):
        numpy.tan(cr.tensor(x, requires_grad=True), out=numpy.empty(2))


def test_complex_absolute_through_dispatch():
    z = numpy.array([1 + 2j, -0.5j])
    g = cr.grad(lambda a: numpy.sum(numpy.abs(a)))(z)
    numpy.testing.assert_allclose(g, numpy.conj(z) / numpy.abs(z))


def test_float32_stays_float32():
    x = numpy.array([0.3, 0.5], dtype=numpy.float32)
    g = cr.grad(lambda a: np.sum(np.tan(np.array([a, a * 2])) * np.float32(2)))(x)
    assert g.dtype == numpy.float32


def test_values_read_under_jit_are_refused_shapes_are_not():
    f = cr.jit(lambda x: np.sum(np.tan(x) * np.shape(x)[0]) + numpy.ndim(x))
    for x in (numpy.array([0.1, 0.3]), numpy.array([0.1, 0.3, 0.2])):
        numpy.testing.assert_allclose(f(x), numpy.sum(numpy.tan(x)) * x.size + 1)
    for g in (lambda x: np.sum(x * np.argmax(x)), lambda x: np.sum(x * numpy.argmax(x))):
        with pytest.raises(cr.JitError, match="argmax"):
            cr.jit(g)(numpy.array([1.0, 3.0, 2.0]))
