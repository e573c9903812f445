"""One harness for the catalogue tests (chainrule.numpy, chainrule.scipy).

``check(f, *args)`` checks a function of float64 arrays the way tests/test_ops.py
checks the core ops, in every mode, to second order:

- first order, reverse: ``cr.grad`` of sum(f * random cotangent) vs central differences;
- first order, forward: ``cr.jvp`` with random tangents vs a central directional
  difference, and ``cr.jacfwd`` == ``cr.jacobian``;
- second order: reverse over reverse (grad of <grad, w>, ``cr.hessian``) vs central
  differences of the gradient; forward over reverse (``jacfwd`` of ``grad``) and forward
  over forward (``jacfwd`` of ``jacfwd``) equal to it.

``argnums`` picks the differentiated inputs (default: all). ``order=1`` skips the
second-order checks (for functions whose second derivative is not smooth at the
test point). Complex inputs are checked along both real directions.
"""
import numpy as np

import chainrule as cr
from fd import assert_close, numeric_grad, numeric_jacobian

RTOL, ATOL = 1e-6, 1e-8


def _rng(seed):
    return np.random.default_rng(seed)


def _contract(f, c):
    def F(*a):
        out = f(*a)
        return cr.sum(cr.real(out * c)) if np.iscomplexobj(c) else cr.sum(out * c)
    return F


def _like(rng, shape, dtype=float):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x


def check(f, *args, argnums=None, order=2, seed=0, rtol=RTOL, atol=ATOL, forward=True):
    """Check every derivative of ``f`` at ``args`` (see the module docstring)."""
    args = [np.asarray(a) for a in args]
    argnums = tuple(range(len(args))) if argnums is None else tuple(argnums)
    rng = _rng(seed)
    out = np.asarray(f(*args))
    c = _like(rng, out.shape, out.dtype)
    F = _contract(f, c)
    Fv = lambda *a: np.real(np.asarray(F(*a)))  # noqa: E731
    # first order, reverse
    grads = cr.grad(F, argnums=argnums)(*args)
    for i, g in zip(argnums, grads):
        num = numeric_grad(Fv, args, i) if args[i].dtype.kind != "c" else _complex_grad(Fv, args, i)
        assert_close(g, num, rtol, atol, what=f"grad of input {i}")
    if forward:
        # first order, forward
        tangents = [_like(rng, args[i].shape, args[i].dtype) for i in argnums]

        def g_of(*ps):
            full = list(args)
            for i, p in zip(argnums, ps):
                full[i] = p
            return f(*full)
        prim = [args[i] for i in argnums]
        _, t_out = cr.jvp(g_of, prim, tangents)
        h = 1e-6
        plus = np.asarray(g_of(*[p + h * t for p, t in zip(prim, tangents)]))
        minus = np.asarray(g_of(*[p - h * t for p, t in zip(prim, tangents)]))
        assert_close(t_out, (plus - minus) / (2 * h), rtol, atol, what="jvp")
        if all(a.dtype.kind != "c" for a in args) and out.dtype.kind != "c":
            for i in argnums:
                np.testing.assert_allclose(cr.jacfwd(f, argnums=i)(*args),
                                           cr.jacobian(f, argnums=i)(*args),
                                           rtol=1e-9, atol=1e-9, err_msg=f"jacfwd {i}")
    if order < 2 or any(a.dtype.kind == "c" for a in args):
        return
    for i in argnums:
        grad_i = cr.grad(F, argnums=i)
        w = rng.standard_normal(args[i].shape)
        G = lambda *a, grad_i=grad_i, w=w: cr.sum(grad_i(*a) * w)  # noqa: E731
        rr = cr.grad(G, argnums=argnums)(*args)
        for j, g in zip(argnums, rr):
            num = numeric_grad(lambda *a: float(np.sum(grad_i(*a) * w)), args, j)
            assert_close(g, num, rtol * 10, atol * 10, what=f"d/d{j} <d/d{i}, w>")
        if forward:
            H = cr.hessian(F, argnums=i)(*args)
            assert_close(H, numeric_jacobian(grad_i, args, i), rtol * 10, atol * 10,
                         what=f"hessian {i}")
            # forward over reverse and forward over forward: the rules differentiated again
            Hfr = cr.jacfwd(grad_i, argnums=i)(*args)
            assert_close(Hfr, H, 1e-8, 1e-8, what=f"forward-over-reverse hessian {i}")
            Hff = cr.jacfwd(cr.jacfwd(F, argnums=i), argnums=i)(*args)
            assert_close(Hff, H, 1e-8, 1e-8, what=f"forward-over-forward hessian {i}")


def _complex_grad(F, args, i, h=1e-6):
    """autograd's convention for a real F of complex z = x + iy: dF/dx - i dF/dy."""
    z = np.asarray(args[i], dtype=complex)

    def along(part):
        def G(*a):
            w = a[i] + 1j * z.imag if part == "re" else z.real + 1j * a[i]
            return F(*[w if k == i else a[k] for k in range(len(a))])
        start = z.real.copy() if part == "re" else z.imag.copy()
        return numeric_grad(G, [start if k == i else a for k, a in enumerate(args)], i, h)
    return along("re") - 1j * along("im")
