"""Random programs, run in chainrule and in PyTorch (float64): values and gradients agree.

A seeded generator writes small straight-line programs (6 to 16 instructions)
that mix elementwise ops with broadcasting, fan-out (values reused by later
instructions, sometimes as both operands), indexing (ints, slices, integer
arrays with repeats, boolean masks), reductions with axis/keepdims, the
softmax family, shape operations and matmul (1-D, 2-D, batched). The
generator evaluates each candidate instruction on the spot and keeps it only
if it stays in the op's domain (log/sqrt of positive values, no division by
~0, bounded magnitudes) and clear of kinks by a margin (relu/abs near 0,
near-ties in max/maximum, clip bounds): exact ties, as fan-out creates, are
kept, since both libraries follow the same convention there.

Every program's output is sum_k sum(v_k * c_k) over all its values v_k with
random constants c_k, so every instruction gets a non-trivial cotangent. It is
differentiated with ``cr.grad`` over all inputs (argnums tuple), compiled with
``cr.jit`` (traced at other inputs, replayed at these), every third
program also object style (``.backward()``), and compared with
``torch.autograd`` to 1e-7, relative to the largest entry of each array.

Run ``python tests/test_oracle.py`` to print the program count and the largest
relative error measured.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402

N_PROGRAMS = 400
RTOL = 1e-7

SHAPES = [(), (4,), (3, 1), (3, 4), (1, 4), (2, 3, 4), (2, 1, 4), (2, 3, 1)]
UNARY = ["tanh", "sigmoid", "sin", "cos", "negative", "square", "relu", "abs", "exp", "log",
         "sqrt"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power"]
OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**"}
REDUCTIONS = ["sum", "mean", "max", "min", "logsumexp"]
KINKED = {"relu", "abs", "maximum", "minimum", "max", "min", "clip"}
MARGIN = 1e-6


# ----- the two interpreters ----------------------------------------------------------
def _pyop(sym, a, b):
    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
            "**": lambda: a ** b, "@": lambda: a @ b}[sym]()


def cr_apply(kind, xs, p):
    """One instruction in chainrule (on Tensors inside a transform, or plain arrays)."""
    if kind == "unary":
        if p.get("numpy"):  # NumPy's dispatch: np.tanh(t) must record cr.tanh
            return getattr(np, p["name"])(xs[0])
        return getattr(cr, p["name"])(xs[0])
    if kind == "binary":
        if p.get("operator"):
            return _pyop(OPERATORS[p["name"]], xs[0], xs[1])
        return getattr(cr, p["name"])(xs[0], xs[1])
    if kind == "const":
        c = p["const"]
        a, b = (c, xs[0]) if p["left"] else (xs[0], c)
        return _pyop(p["sym"], a, b)
    if kind == "where":
        return cr.where(p["mask"], xs[0], xs[1])
    if kind == "clip":
        return cr.clip(xs[0], p["lo"], p["hi"])
    if kind == "reduce":
        if p.get("numpy"):
            return getattr(np, p["name"])(xs[0], axis=p["axis"], keepdims=p["keepdims"])
        return getattr(cr, p["name"])(xs[0], p["axis"], keepdims=p["keepdims"])
    if kind == "softmax":
        return getattr(cr, p["name"])(xs[0], axis=p["axis"])
    if kind == "matmul":
        if p["how"] == "operator":
            return xs[0] @ xs[1]
        return getattr(cr, p["how"])(xs[0], xs[1])
    if kind == "getitem":
        return xs[0][p["idx"]] if p.get("operator") else cr.getitem(xs[0], p["idx"])
    if kind == "reshape":
        return cr.reshape(xs[0], p["shape"])
    if kind == "transpose":
        return cr.transpose(xs[0], p["axes"])
    if kind == "expand_dims":
        return cr.expand_dims(xs[0], p["axis"])
    if kind == "squeeze":
        return cr.squeeze(xs[0], p["axis"])
    if kind == "concatenate":
        return cr.concatenate(list(xs), axis=p["axis"])
    if kind == "stack":
        return cr.stack(list(xs), axis=p["axis"])
    if kind == "broadcast_to":
        return cr.broadcast_to(xs[0], p["shape"])
    raise AssertionError(kind)


TORCH_UNARY = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "sin": torch.sin,
               "cos": torch.cos, "negative": torch.neg, "square": torch.square,
               "relu": torch.relu, "abs": torch.abs, "exp": torch.exp, "log": torch.log,
               "sqrt": torch.sqrt}
TORCH_BINARY = {"add": torch.add, "subtract": torch.sub, "multiply": torch.mul,
                "divide": torch.div, "maximum": torch.maximum, "minimum": torch.minimum,
                "power": torch.pow}


def _t(a):
    return torch.from_numpy(np.asarray(a))


def _torch_index(idx):
    if isinstance(idx, tuple):
        return tuple(_torch_index(i) for i in idx)
    if isinstance(idx, np.ndarray):
        return torch.from_numpy(idx)
    return idx


def torch_apply(kind, xs, p):
    """The same instruction in PyTorch."""
    x = xs[0]
    if kind == "unary":
        return TORCH_UNARY[p["name"]](x)
    if kind == "binary":
        return TORCH_BINARY[p["name"]](xs[0], xs[1])
    if kind == "const":
        c = p["const"]
        c = _t(c) if isinstance(c, np.ndarray) else c
        a, b = (c, x) if p["left"] else (x, c)
        return _pyop(p["sym"], a, b)
    if kind == "where":
        return torch.where(_t(p["mask"]), xs[0], xs[1])
    if kind == "clip":
        return torch.clamp(x, p["lo"], p["hi"])
    if kind == "reduce":
        if x.ndim == 0:
            return x  # every reduction of a 0-d value is the value itself
        dims = tuple(range(x.ndim)) if p["axis"] is None else p["axis"]
        dims = (dims,) if isinstance(dims, int) else dims
        fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin,
              "logsumexp": torch.logsumexp}[p["name"]]
        return fn(x, dim=dims, keepdim=p["keepdims"])
    if kind == "softmax":
        return getattr(torch, p["name"])(x, dim=p["axis"])
    if kind == "matmul":
        return torch.matmul(xs[0], xs[1]) if xs[0].ndim and xs[1].ndim else xs[0] * xs[1]
    if kind == "getitem":
        return x[_torch_index(p["idx"])]
    if kind == "reshape":
        return torch.reshape(x, p["shape"])
    if kind == "transpose":
        axes = p["axes"] if p["axes"] is not None else tuple(reversed(range(x.ndim)))
        return x.permute(axes)
    if kind == "expand_dims":
        return torch.unsqueeze(x, p["axis"])
    if kind == "squeeze":
        return torch.squeeze(x) if p["axis"] is None else torch.squeeze(x, p["axis"])
    if kind == "concatenate":
        return torch.cat(list(xs), dim=p["axis"])
    if kind == "stack":
        return torch.stack(list(xs), dim=p["axis"])
    if kind == "broadcast_to":
        return torch.broadcast_to(x, p["shape"])
    raise AssertionError(kind)


def run(program, inputs, apply):
    """All values of the program: instruction k's value is vals[k]."""
    vals = []
    for kind, ids, p in program:
        if kind == "input":
            vals.append(inputs[p["k"]])
        else:
            vals.append(apply(kind, [vals[i] for i in ids], p))
    return vals


# ----- the generator -----------------------------------------------------------------
class Generator:
    """Writes one random program; each candidate instruction is evaluated before it is kept."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.program = []
        self.vals = []      # NumPy value of each instruction
        self.inputs = []

    # -- helpers
    def add_input(self, shape, scale=1.0):
        x = self.rng.standard_normal(shape) * scale
        self.program.append(("input", (), {"k": len(self.inputs)}))
        self.inputs.append(x)
        self.vals.append(x)
        return len(self.vals) - 1

    def pick(self, where=None):
        """A value id, recent ones more likely (so chains get deep and values get reused)."""
        ids = [i for i in range(len(self.vals)) if where is None or where(self.vals[i])]
        if not ids:
            return None
        w = np.arange(1, len(ids) + 1, dtype=float) ** 1.5
        return ids[self.rng.choice(len(ids), p=w / w.sum())]

    def try_add(self, kind, ids, p):
        try:
            with np.errstate(all="ignore"):
                v = np.asarray(cr_apply(kind, [self.vals[i] for i in ids], p))
        except (ValueError, IndexError, TypeError):
            return False
        if v.size == 0 or v.size > 120 or not np.all(np.isfinite(v)) or np.max(np.abs(v)) > 1e3:
            return False
        if not self.clear_of_kinks(kind, ids, p, v):
            return False
        self.program.append((kind, tuple(ids), p))
        self.vals.append(v)
        return True

    def clear_of_kinks(self, kind, ids, p, v):
        """Distances to the kink are either exactly 0 (same convention) or > MARGIN."""
        def ok(d):
            d = np.abs(d)
            return bool(np.all((d == 0) | (d > MARGIN)))
        xs = [self.vals[i] for i in ids]
        name = p.get("name")
        if name in ("relu", "abs"):
            return ok(xs[0])
        if name in ("maximum", "minimum"):
            return ok(xs[0] - xs[1])
        if kind == "clip":
            return all(ok(xs[0] - b) for b in (p["lo"], p["hi"]) if b is not None)
        if name in ("max", "min") and kind == "reduce":
            ext = np.max if name == "max" else np.min
            return ok(xs[0] - ext(xs[0], axis=p["axis"], keepdims=True))
        if name == "power":
            return bool(np.all(xs[0] > 0.2)) and bool(np.all(np.abs(xs[1]) < 3))
        if name == "divide":
            return bool(np.all(np.abs(xs[1]) > 0.2))
        if name in ("log", "sqrt"):
            return bool(np.all(xs[0] > 0.05))
        if name == "exp":
            return bool(np.all(xs[0] < 5))
        return True

    def random_axis(self, ndim):
        """None, an int (maybe negative) or a tuple of distinct axes."""
        r = self.rng.random()
        if ndim == 0 or r < 0.25:
            return None
        if r < 0.7:
            return int(self.rng.integers(-ndim, ndim))
        k = int(self.rng.integers(1, ndim + 1))
        return tuple(int(a) for a in self.rng.choice(ndim, k, replace=False))

    # -- proposals: each returns (kind, ids, params) or None
    def p_unary(self):
        name = str(self.rng.choice(UNARY))
        cond = {"log": lambda v: np.all(v > 0.05), "sqrt": lambda v: np.all(v > 0.05),
                "exp": lambda v: np.all(v < 5)}.get(name)
        i = self.pick(cond)
        numpy = name not in ("relu", "sigmoid") and self.rng.random() < 0.3
        return i is not None and ("unary", [i], {"name": name, "numpy": numpy})

    def compatible(self, i):
        def f(v):
            try:
                np.broadcast_shapes(v.shape, self.vals[i].shape)
                return True
            except ValueError:
                return False
        return f

    def p_binary(self):
        name = str(self.rng.choice(BINARY))
        if name == "power":
            i = self.pick(lambda v: np.all(v > 0.2))
        else:
            i = self.pick()
        if i is None:
            return None
        j = i if self.rng.random() < 0.15 else self.pick(self.compatible(i))  # fan-out: x op x
        p = {"name": name, "operator": name in OPERATORS and self.rng.random() < 0.5}
        return ("binary", [i, j], p)

    def p_const(self):
        i = self.pick()
        sym = str(self.rng.choice(["+", "-", "*"]))
        if self.rng.random() < 0.5:
            c = float(self.rng.uniform(-2, 2))
        else:
            shapes = [s for s in SHAPES if self.compatible(i)(np.empty(s))]
            c = self.rng.standard_normal(shapes[self.rng.integers(len(shapes))])
        return ("const", [i], {"sym": sym, "const": c, "left": bool(self.rng.random() < 0.5)})

    def p_where(self):
        i = self.pick()
        j = self.pick(self.compatible(i))
        shape = np.broadcast_shapes(self.vals[i].shape, self.vals[j].shape)
        mask = self.rng.random(shape) < 0.5
        return ("where", [i, j], {"mask": mask})

    def p_clip(self):
        i = self.pick(lambda v: v.size > 1)
        if i is None:
            return None
        lo, hi = (float(q) for q in np.quantile(self.vals[i], [0.3, 0.7]))
        lo, hi = lo - 1e-3, hi + 1e-3
        r = self.rng.random()
        return ("clip", [i], {"lo": None if r < 0.2 else lo, "hi": None if r > 0.8 else hi})

    def p_reduce(self):
        i = self.pick()
        nd = self.vals[i].ndim
        return ("reduce", [i], {"name": str(self.rng.choice(REDUCTIONS)),
                                "axis": self.random_axis(nd),
                                "keepdims": bool(self.rng.random() < 0.5),
                                "numpy": bool(self.rng.random() < 0.2)})

    def p_reduce_np(self):
        p = self.p_reduce()
        if p[2]["name"] == "logsumexp":
            p[2]["numpy"] = False
        return p

    def p_softmax(self):
        i = self.pick(lambda v: v.ndim >= 1)
        if i is None:
            return None
        nd = self.vals[i].ndim
        return ("softmax", [i], {"name": str(self.rng.choice(["softmax", "log_softmax"])),
                                 "axis": int(self.rng.integers(-nd, nd))})

    def p_matmul(self):
        rng = self.rng
        i = self.pick(lambda v: v.ndim >= 1)
        if i is None:
            return None
        v = self.vals[i]
        how = str(rng.choice(["matmul", "operator"] + (["dot"] if v.ndim <= 2 else [])))
        r = rng.random()
        k = v.shape[-1]
        if r < 0.4:     # times a new weight matrix (k, m), or vector (k,)
            shape = (k,) if rng.random() < 0.25 else (k, int(rng.integers(2, 5)))
            j = self.add_input(shape, scale=1 / np.sqrt(k))
            return ("matmul", [i, j], {"how": how})
        if r < 0.6 and v.ndim >= 2:   # v @ v^T (fan-out through a transpose)
            axes = tuple(range(v.ndim - 2)) + (v.ndim - 1, v.ndim - 2)
            if not self.try_add("transpose", [i], {"axes": axes}):
                return None
            return ("matmul", [i, len(self.vals) - 1], {"how": how})
        if r < 0.8:     # a new vector or matrix on the left: (k,) @ v or (n, k) @ v
            if v.ndim == 1:
                j = self.add_input((int(rng.integers(1, 4)), k) if rng.random() < 0.5 else (k,))
            else:
                n = v.shape[-2]
                j = self.add_input((n,) if rng.random() < 0.5 else (2, n))
            return ("matmul", [j, i], {"how": how if self.vals[j].ndim <= 2 else "matmul"})
        # batched: a new batch of matrices (b, ..., k, m)
        j = self.add_input((2,) + (1,) * max(v.ndim - 2, 0) + (k, 3))
        return ("matmul", [i, j], {"how": "matmul"})

    def p_getitem(self):
        rng = self.rng
        i = self.pick(lambda v: v.ndim >= 1)
        if i is None:
            return None
        shape = self.vals[i].shape
        n = shape[0]
        r = rng.random()
        if r < 0.15:
            idx = int(rng.integers(-n, n))
        elif r < 0.35:
            a = int(rng.integers(0, n))
            idx = slice(a, int(rng.integers(a + 1, n + 1)), int(rng.integers(1, 3)))
            if len(shape) >= 2 and rng.random() < 0.5:
                m = shape[1]
                idx = (slice(None), slice(int(rng.integers(0, m)), None))
        elif r < 0.6:   # integer array with repeats, on the first or last axis
            arr = rng.integers(-n, n, int(rng.integers(1, 6)))
            idx = arr
            if len(shape) >= 2 and rng.random() < 0.5:
                idx = (Ellipsis, rng.integers(0, shape[-1], int(rng.integers(1, 5))))
        elif r < 0.8:   # boolean mask over everything
            mask = rng.random(shape) < 0.5
            mask.flat[rng.integers(mask.size)] = True
            idx = mask
        else:           # boolean mask over the first axis
            mask = rng.random(n) < 0.5
            mask[rng.integers(n)] = True
            idx = mask
        return ("getitem", [i], {"idx": idx, "operator": bool(rng.random() < 0.5)})

    def p_shape(self):
        rng = self.rng
        i = self.pick()
        v = self.vals[i]
        r = rng.random()
        if r < 0.25:
            shapes = [(-1,), (v.size,), (1, v.size), (v.size, 1)]
            if v.ndim >= 2:
                shapes.append((-1, v.shape[-1]))
            s = shapes[rng.integers(len(shapes))]
            return ("reshape", [i], {"shape": s})
        if r < 0.4 and v.ndim >= 2:
            axes = None if rng.random() < 0.3 else tuple(int(a) for a in rng.permutation(v.ndim))
            return ("transpose", [i], {"axes": axes})
        if r < 0.5:
            return ("expand_dims", [i], {"axis": int(rng.integers(-v.ndim - 1, v.ndim + 1))})
        if r < 0.6 and 1 in v.shape:
            ones = [a for a, s in enumerate(v.shape) if s == 1]
            return ("squeeze", [i], {"axis": None if rng.random() < 0.4 else
                                     int(ones[rng.integers(len(ones))])})
        if r < 0.75 and v.ndim >= 1:
            ax = int(rng.integers(-v.ndim, v.ndim))
            axn = ax % v.ndim

            def fits(u):
                return u.ndim == v.ndim and all(a == b for d, (a, b) in
                                                enumerate(zip(u.shape, v.shape)) if d != axn)
            j = self.pick(fits)
            return ("concatenate", [i, j], {"axis": ax})
        if r < 0.9:
            j = self.pick(lambda u: u.shape == v.shape)
            return ("stack", [i, j], {"axis": int(rng.integers(-v.ndim - 1, v.ndim + 1))})
        targets = [s for s in SHAPES + [(2,) + v.shape]
                   if s != v.shape and len(s) >= v.ndim and self._broadcasts(v.shape, s)]
        if not targets:
            return None
        return ("broadcast_to", [i], {"shape": targets[rng.integers(len(targets))]})

    @staticmethod
    def _broadcasts(a, b):
        try:
            return np.broadcast_shapes(a, b) == tuple(b)
        except ValueError:
            return False

    PROPOSALS = [("p_unary", 5), ("p_binary", 5), ("p_const", 1.5), ("p_where", 1),
                 ("p_clip", 0.7), ("p_reduce_np", 2.5), ("p_softmax", 1), ("p_matmul", 2),
                 ("p_getitem", 2.5), ("p_shape", 2.5)]

    def generate(self):
        rng = self.rng
        for _ in range(int(rng.integers(2, 4))):
            self.add_input(SHAPES[rng.integers(len(SHAPES))])
        n_instr = int(rng.integers(6, 17))
        names = [n for n, _ in self.PROPOSALS]
        w = np.array([w for _, w in self.PROPOSALS])
        kept, tries = 0, 0
        while kept < n_instr and tries < 400:
            tries += 1
            prop = getattr(self, names[rng.choice(len(names), p=w / w.sum())])()
            if prop and self.try_add(*prop):
                kept += 1
        cots = [rng.standard_normal(v.shape) for v in self.vals]
        return self.program, self.inputs, cots


def make_program(seed):
    return Generator(seed).generate()


# ----- running and comparing ---------------------------------------------------------
def cr_output(program, cots):
    def f(*inputs):
        vals = run(program, inputs, cr_apply)
        total = 0.0
        for v, c in zip(vals, cots):
            total = total + cr.sum(v * c)
        return total
    return f


def torch_run(program, inputs, cots):
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    vals = run(program, leaves, torch_apply)
    total = sum((v * _t(c)).sum() for v, c in zip(vals, cots))
    total.backward()
    return [v.detach().numpy() for v in vals], total.item(), [x.grad.numpy() for x in leaves]


def rel_err(a, b):
    """max |a - b| relative to the largest entry of b (absolute where b is all zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size == 0:
        return 0.0
    scale = float(np.max(np.abs(b)))
    return float(np.max(np.abs(a - b))) / (scale if scale > 0 else 1.0)


def describe(program):
    lines = []
    for k, (kind, ids, p) in enumerate(program):
        ps = {key: (f"array{np.shape(v)}" if isinstance(v, np.ndarray) else v)
              for key, v in p.items()}
        lines.append(f"  v{k} = {kind}{tuple(f'v{i}' for i in ids)} {ps}")
    return "\n".join(lines)


def check_program(seed):
    """Runs program ``seed`` both ways; returns the largest relative error."""
    program, inputs, cots = make_program(seed)
    t_vals, t_out, t_grads = torch_run(program, inputs, cots)
    errs = []
    # forward values of every instruction, chainrule on plain NumPy arrays
    np_vals = run(program, inputs, cr_apply)
    for k, (a, b) in enumerate(zip(np_vals, t_vals)):
        assert np.shape(a) == b.shape, f"v{k}: shape {np.shape(a)} vs torch {b.shape}"
        errs.append(rel_err(a, b))
    # gradients over all inputs at once
    f = cr_output(program, cots)
    out, grads = cr.value_and_grad(f, argnums=tuple(range(len(inputs))))(*inputs)
    errs.append(rel_err(out, t_out))
    for g, tg in zip(grads, t_grads):
        assert isinstance(g, np.ndarray) and g.dtype == np.float64
        errs.append(rel_err(g, tg))
    # the compiled replay: traced at other inputs, replayed at these
    jvg = cr.jit(cr.value_and_grad(f, argnums=tuple(range(len(inputs)))))
    rng = np.random.default_rng(seed + 10_000)
    with np.errstate(all="ignore"):  # the other inputs may leave a log's domain: no matter
        jvg(*[x + rng.uniform(0.1, 0.2, np.shape(x)) for x in inputs])
    j_out, j_grads = jvg(*inputs)
    assert jvg.cache_size == 1
    errs.append(rel_err(j_out, t_out))
    errs.extend(rel_err(g, tg) for g, tg in zip(j_grads, t_grads))
    # object style on every third program
    if seed % 3 == 0:
        leaves = [cr.tensor(x, requires_grad=True) for x in inputs]
        y = f(*leaves)
        y.backward()
        errs.extend(rel_err(x.grad, tg) for x, tg in zip(leaves, t_grads))
    return max(errs)


@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_random_program_agrees_with_torch(seed):
    err = check_program(seed)
    assert err <= RTOL, f"seed {seed}: relative error {err:.3g}\n" + describe(make_program(seed)[0])


def test_generator_covers_the_mix():
    """The programs really mix what they claim to (so the agreement means something)."""
    seen = set()
    fan_out = multi_use = 0
    for seed in range(N_PROGRAMS):
        gen = Generator(seed)
        program, inputs, _ = gen.generate()
        uses = np.zeros(len(program), dtype=int)
        for kind, ids, p in program:
            for i in ids:
                uses[i] += 1
            if len(ids) == 2 and ids[0] == ids[1]:
                fan_out += 1
            name = p.get("name") or p.get("how") or kind
            seen.add((kind, name))
            if kind == "getitem":
                idx = p["idx"]
                leaf = idx[-1] if isinstance(idx, tuple) else idx
                seen.add(("index", type(leaf).__name__ if not isinstance(leaf, np.ndarray)
                          else leaf.dtype.kind))
            if kind == "reduce":
                seen.add(("axis", type(p["axis"]).__name__, p["keepdims"]))
            if kind == "matmul":
                na, nb = (min(gen.vals[i].ndim, 3) for i in ids)
                seen.add(("matmul_ndim", na, nb))
        multi_use += int(np.any(uses >= 3))
    for name in UNARY:
        assert ("unary", name) in seen, name
    for name in BINARY:
        assert ("binary", name) in seen, name
    for name in REDUCTIONS:
        assert ("reduce", name) in seen, name
    for key in [("softmax", "softmax"), ("softmax", "log_softmax"), ("matmul", "matmul"),
                ("matmul", "dot"), ("matmul", "operator"), ("where", "where"), ("clip", "clip"),
                ("index", "int"), ("index", "slice"), ("index", "i"), ("index", "b"),
                ("reshape", "reshape"), ("transpose", "transpose"),
                ("expand_dims", "expand_dims"), ("squeeze", "squeeze"),
                ("concatenate", "concatenate"), ("stack", "stack"),
                ("broadcast_to", "broadcast_to"), ("const", "const")]:
        assert key in seen, key
    for na, nb in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (1, 3), (3, 3)]:
        assert ("matmul_ndim", na, nb) in seen, (na, nb)
    for ax in ["NoneType", "int", "tuple"]:
        for kd in (False, True):
            assert ("axis", ax, kd) in seen, (ax, kd)
    assert fan_out >= 20, fan_out
    assert multi_use >= N_PROGRAMS // 2, multi_use


if __name__ == "__main__":
    import time
    t0 = time.perf_counter()
    worst = max((check_program(s), s) for s in range(N_PROGRAMS))
    lens = [len(make_program(s)[0]) for s in range(N_PROGRAMS)]
    print(f"{N_PROGRAMS} programs ({min(lens)}-{max(lens)} instructions incl. inputs, "
          f"mean {np.mean(lens):.1f}), max relative error {worst[0]:.3g} (seed {worst[1]}), "
          f"{time.perf_counter() - t0:.1f} s")
