"""Derivative checks the catalogue tests add to tests/npcheck.py.

``complex_check``: for F(z) = sum(Re(f(z) * c)), cr.grad must give
dF/dRe z - i dF/dIm z (autograd's convention) and cr.jvp a central difference
along a complex direction. ``forward_over_forward``: jvp of jvp (npcheck runs
reverse over reverse and forward over reverse only) against a central
difference of the inner jvp.
"""
import numpy as np

import chainrule as cr

H = 1e-6


def complex_check(f, z, seed=0, rtol=1e-6, atol=1e-8):
    rng = np.random.default_rng(seed)
    z = np.asarray(z, dtype=complex)
    out = np.asarray(f(z))
    c = rng.standard_normal(out.shape)
    if out.dtype.kind == "c":
        c = c + 1j * rng.standard_normal(out.shape)

    def value(z):
        return float(np.real(np.sum(np.asarray(f(z)) * c)))

    g = cr.grad(lambda z: cr.sum(cr.real(f(z) * c)))(z)
    num = np.zeros(z.shape, dtype=complex)
    for k in np.ndindex(z.shape):
        for d, w in ((1.0, 1.0), (1j, -1j)):
            zp, zm = z.copy(), z.copy()
            zp[k] += H * d
            zm[k] -= H * d
            num[k] += w * (value(zp) - value(zm)) / (2 * H)
    np.testing.assert_allclose(g, num, rtol=rtol, atol=atol, err_msg="grad (complex input)")
    t = rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape)
    _, tout = cr.jvp(f, (z,), (t,))
    diff = (np.asarray(f(z + H * t)) - np.asarray(f(z - H * t))) / (2 * H)
    np.testing.assert_allclose(tout, diff, rtol=rtol, atol=atol, err_msg="jvp (complex input)")


def forward_over_forward(f, x, seed=0, rtol=1e-6, atol=1e-7):
    """jvp of jvp (the second directional derivative t2' H t1) vs a central difference."""
    rng = np.random.default_rng(seed)
    t1, t2 = rng.standard_normal(x.shape), rng.standard_normal(x.shape)

    def inner(x):
        return cr.jvp(f, (x,), (t1,))[1]

    _, second = cr.jvp(inner, (x,), (t2,))
    h = 1e-5
    diff = (np.asarray(inner(x + h * t2)) - np.asarray(inner(x - h * t2))) / (2 * h)
    np.testing.assert_allclose(second, diff, rtol=rtol, atol=atol, err_msg="jvp of jvp")
