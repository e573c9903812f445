"""One training step of the notes' network (z = Wx + b, h = tanh z, l = Vh + gamma,
q = log_softmax l, o = -q_y; mean over the batch) for each framework, plus the
per-op chain of tanh and *. Every builder returns a zero-argument callable that
runs one step (forward + backward + SGD update) on the same data.
"""
import numpy as np

LR = 0.01


def make_data(d, m, k, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "W": rng.normal(0, 1 / np.sqrt(d), (m, d)), "b": np.zeros(m),
        "V": rng.normal(0, 1 / np.sqrt(m), (k, m)), "gamma": np.zeros(k),
    }
    X = rng.normal(size=(batch, d))
    y = rng.integers(0, k, size=batch)
    return params, X, y


# ----- hand-written NumPy: the gradient derived by hand -------------------------------
def numpy_step(params, X, y):
    p = {k: v.copy() for k, v in params.items()}
    B = X.shape[0]
    rows = np.arange(B)

    def step():
        W, b, V, gamma = p["W"], p["b"], p["V"], p["gamma"]
        z = X @ W.T + b
        h = np.tanh(z)
        l = h @ V.T + gamma
        m = l.max(axis=1, keepdims=True)
        e = np.exp(l - m)
        s = e.sum(axis=1, keepdims=True)
        q = l - m - np.log(s)
        loss = -q[rows, y].mean()
        dl = e / s
        dl[rows, y] -= 1.0
        dl /= B
        dV = dl.T @ h
        dgamma = dl.sum(axis=0)
        dz = (dl @ V) * (1.0 - h * h)
        dW = dz.T @ X
        db = dz.sum(axis=0)
        W -= LR * dW; b -= LR * db; V -= LR * dV; gamma -= LR * dgamma
        return loss
    return step


# ----- chainrule ------------------------------------------------------------------------
def chainrule_loss(params, X, y):
    import chainrule as cr
    z = X @ params["W"].T + params["b"]
    h = cr.tanh(z)
    l = h @ params["V"].T + params["gamma"]
    q = cr.log_softmax(l, axis=-1)
    return -cr.mean(q[np.arange(X.shape[0]), y])


def chainrule_step(params, X, y):
    import chainrule as cr
    p = {k: v.copy() for k, v in params.items()}
    vg = cr.value_and_grad(chainrule_loss)

    def step():
        loss, g = vg(p, X, y)
        for k in p:
            p[k] -= LR * g[k]
        return loss
    return step


def chainrule_jit_step(params, X, y, backend="numpy"):
    """The whole SGD step traced by cr.jit, update included (as JAX's jit step below)."""
    import chainrule as cr
    vg = cr.value_and_grad(chainrule_loss)

    def sgd(p, X, y):
        loss, g = vg(p, X, y)
        return loss, {k: p[k] - LR * g[k] for k in p}
    step_fn = cr.jit(sgd, backend=backend)
    state = {"p": {k: v.copy() for k, v in params.items()}}

    def step():
        loss, state["p"] = step_fn(state["p"], X, y)
        return loss
    return step


def chainrule_jit_numba_step(params, X, y):
    return chainrule_jit_step(params, X, y, backend="numba")


def chainrule_backward_step(params, X, y):
    import chainrule as cr
    p = {k: cr.tensor(v, requires_grad=True) for k, v in params.items()}

    def step():
        loss = chainrule_loss(p, X, y)
        loss.backward()
        for t in p.values():
            t.value -= LR * t.grad
            t.grad = None
        return loss
    return step


# ----- PyTorch eager --------------------------------------------------------------------
def torch_step(params, X, y):
    import torch
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def step():
        z = Xt @ p["W"].T + p["b"]
        h = torch.tanh(z)
        l = h @ p["V"].T + p["gamma"]
        loss = torch.nn.functional.nll_loss(torch.log_softmax(l, dim=-1), yt)
        loss.backward()
        with torch.no_grad():
            for t in p.values():
                t -= LR * t.grad
                t.grad = None
        return loss
    return step


# ----- HIPS autograd --------------------------------------------------------------------
def autograd_step(params, X, y):
    import autograd
    import autograd.numpy as anp
    p = {k: v.copy() for k, v in params.items()}
    rows = np.arange(X.shape[0])

    def loss(p):
        z = anp.dot(X, p["W"].T) + p["b"]
        h = anp.tanh(z)
        l = anp.dot(h, p["V"].T) + p["gamma"]
        m = anp.max(l, axis=1, keepdims=True)
        q = l - m - anp.log(anp.sum(anp.exp(l - m), axis=1, keepdims=True))
        return -anp.mean(q[rows, y])
    vg = autograd.value_and_grad(loss)

    def step():
        v, g = vg(p)
        for k in p:
            p[k] = p[k] - LR * g[k]
        return v
    return step


# ----- JAX jit --------------------------------------------------------------------------
def jax_step(params, X, y):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    p = {k: jnp.asarray(v) for k, v in params.items()}
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def loss(p):
        z = Xj @ p["W"].T + p["b"]
        h = jnp.tanh(z)
        l = h @ p["V"].T + p["gamma"]
        q = jax.nn.log_softmax(l, axis=-1)
        return -jnp.mean(q[jnp.arange(Xj.shape[0]), yj])

    @jax.jit
    def update(p):
        v, g = jax.value_and_grad(loss)(p)
        return v, jax.tree_util.tree_map(lambda a, b: a - LR * b, p, g)
    state = {"p": p}

    def step():
        v, state["p"] = update(state["p"])
        v.block_until_ready()
        return v
    return step


# ----- the per-op chain -------------------------------------------------------------------
def chain_numpy(x0, n):
    c = x0.copy()

    def run():
        x = x0
        for _ in range(n // 2):
            x = np.tanh(x)
            x = x * c
        return x.sum()
    return run


def chain_chainrule(x0, n):
    import chainrule as cr
    c = x0.copy()

    def f(x):
        for _ in range(n // 2):
            x = cr.tanh(x)
            x = x * c
        return cr.sum(x)
    g = cr.grad(f)
    return lambda: g(x0)


def chain_torch(x0, n):
    import torch
    c = torch.tensor(x0)

    def run():
        x = torch.tensor(x0, requires_grad=True)
        y = x
        for _ in range(n // 2):
            y = torch.tanh(y)
            y = y * c
        y.sum().backward()
        return x.grad
    return run


def chain_autograd(x0, n):
    import autograd
    import autograd.numpy as anp
    c = x0.copy()

    def f(x):
        for _ in range(n // 2):
            x = anp.tanh(x)
            x = x * c
        return anp.sum(x)
    g = autograd.grad(f)
    return lambda: g(x0)


# ----- tiny gradient calls: 10-d Rosenbrock, NumPy array in and out (scipy.optimize's use) --
def rosen_x0(n=10):
    return np.linspace(-1.2, 1.2, n)


def rosen_numpy(x0):
    """The gradient derived by hand (scipy.optimize.rosen_der's formula)."""
    def grad(x):
        xm, xm1, xp1 = x[1:-1], x[:-2], x[2:]
        der = np.zeros_like(x)
        der[1:-1] = 200 * (xm - xm1 ** 2) - 400 * (xp1 - xm ** 2) * xm - 2 * (1 - xm)
        der[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0])
        der[-1] = 200 * (x[-1] - x[-2] ** 2)
        return der
    return lambda: grad(x0)


def rosen_chainrule(x0):
    import chainrule as cr

    def rosen(x):
        return cr.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = cr.grad(rosen)
    return lambda: g(x0)


def rosen_chainrule_jit(x0, backend="numpy"):
    import chainrule as cr

    def rosen(x):
        return cr.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = cr.jit(cr.grad(rosen), backend=backend)
    return lambda: g(x0)


def rosen_chainrule_jit_numba(x0):
    return rosen_chainrule_jit(x0, backend="numba")


def rosen_torch(x0):
    import torch

    def grad(x):
        t = torch.from_numpy(x).requires_grad_()
        y = torch.sum(100 * (t[1:] - t[:-1] ** 2) ** 2 + (1 - t[:-1]) ** 2)
        y.backward()
        return t.grad.numpy()
    return lambda: grad(x0)


def rosen_autograd(x0):
    import autograd
    import autograd.numpy as anp

    def rosen(x):
        return anp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = autograd.grad(rosen)
    return lambda: g(x0)


def rosen_jax(x0):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def rosen(x):
        return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = jax.jit(jax.grad(rosen))
    return lambda: np.asarray(g(x0))  # NumPy in, NumPy out: what scipy.optimize hands over


# ----- the call path: the same op through chainrule.numpy and through cr -----------------
def callpath_cr(t):
    import chainrule as cr
    return lambda: cr.tanh(t)


def callpath_cnp(t):
    import chainrule.numpy as cnp
    return lambda: cnp.tanh(t)


def callpath_np_dispatch(t):
    return lambda: np.tanh(t)  # NumPy's own function on a Tensor (__array_ufunc__)
