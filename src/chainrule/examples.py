"""The worked examples of the notes (``shared/seed/``), as runnable graphs.

Each function builds its example's ``Graph``, checks it against the numbers
the notes give, and returns an ``Example``: the graph, the text that
``chainrule explain NAME`` prints, and the numbers (for the tests).

- ``chain_rule``: f(z) = z^2, g(x) = x^3 at x = 2: z = 8, dg/dx = 12,
  df/dz = 16, dh/dx = 12 x 16 = 192.
- ``four_vertex``: n = 4, l = 2, E = {(1,3), (2,3), (2,4), (3,4)},
  f^3 = u1 + u2, f^4 = u2 * u3. The notes give no leaf values; we use
  u1 = 2, u2 = 3: u3 = 5, u4 = 15, p1 = 3, p2 = 8, and the two paths 2 -> 4
  and 2 -> 3 -> 4.
- ``log_softmax``: the Jacobian of LS(l) = l - log sum exp(l) is
  [[k = k']] - softmax_k'.
- ``feedforward``: z = Wx + b, h = tanh(z), l = Vh + gamma, q = LS(l),
  o = -q_y, built vertex for vertex as in the notes (leaves W, x, b, V, gamma;
  the label y is a constant folded into f^o); dO/dW and dO/dV as products of
  Jacobians along the chain, equal to the backward pass.

Example:
    >>> from chainrule.examples import chain_rule
    >>> float(chain_rule().numbers["dh/dx"])
    192.0
"""
from dataclasses import dataclass, field

import numpy as np

from . import ops
from .explain import fmt
from .graph import Graph, trace


@dataclass
class Example:
    """One worked example: its graph, what ``chainrule explain`` prints, its numbers."""

    name: str
    title: str
    graph: Graph
    text: str
    numbers: dict = field(default_factory=dict)


def _rule(title):
    return f"{title}\n{'=' * len(title)}"


# ----- the chain rule ----------------------------------------------------------------
def chain_rule(x=2.0):
    """h(x) = f(g(x)) with f(z) = z^2, g(x) = x^3: dh/dx = df/dz * dg/dx (notes: 192 at x = 2)."""
    def h(x):
        z = x ** 3
        z.name = "z"
        y = z ** 2
        y.name = "y"
        return y

    g = trace(h, x)
    dg_dx, df_dz = g.jacobian(1, 2)[0, 0], g.jacobian(2, 3)[0, 0]
    p = g.backward()
    numbers = {"z": g[2].value, "dg/dx": dg_dx, "f(z)": g[3].value, "df/dz": df_dz,
               "dh/dx": p[1]}
    title = "The chain rule: y = f(z) = z^2, z = g(x) = x^3, h(x) = f(g(x))"
    text = "\n".join([
        _rule(title), "",
        g.explain(), "",
        "The per-edge Jacobians (each from its op's VJP rule):",
        f"  J^{{1->2}} = dg(x)/dx = 3 x^2 = {fmt(dg_dx)}",
        f"  J^{{2->3}} = df(z)/dz = 2 z   = {fmt(df_dz)}",
        f"dh(x)/dx = df(z)/dz x dg(x)/dx = {fmt(df_dz)} x {fmt(dg_dx)} = "
        f"{fmt(df_dz * dg_dx)} = p1 = {fmt(p[1])}",
    ])
    return Example("chain-rule", title, g, text, numbers)


# ----- the four-vertex graph -----------------------------------------------------------
def four_vertex(u1=2.0, u2=3.0):
    """The notes' graph n = 4, l = 2, E = {(1,3),(2,3),(2,4),(3,4)}, f^3 = u1 + u2, f^4 = u2 u3."""
    # chainrule's own add and multiply: their rules give the Jacobians, and the page
    # can write them as formulas (J^{2->4} = u3).
    g = Graph.from_edges(4, 2, [(1, 3), (2, 3), (2, 4), (3, 4)],
                         {3: ops.add, 4: ops.multiply})
    g.forward(u1, u2)
    p = g.backward()
    numbers = {"u3": g[3].value, "u4": g[4].value, "p1": p[1], "p2": p[2], "p3": p[3],
               "paths(2, 4)": g.paths(2, 4), "path_sum(2, 4)": g.path_sum(2, 4)}
    title = "The four-vertex graph: f^3(u1, u2) = u1 + u2, f^4(u2, u3) = u2 * u3"
    text = "\n".join([
        _rule(title), "",
        f"n = 4, l = 2, d_i = 1, E = {{(1, 3), (2, 3), (2, 4), (3, 4)}}; the notes give no "
        f"leaf values, we take u1 = {fmt(u1)}, u2 = {fmt(u2)}.", "",
        g.explain(), "",
        "The path theorem: du4/du_j = sum over paths from j to 4 of the product of D^{a->b}",
        g.explain_paths(2, 4),
        g.explain_paths(1, 4),
    ])
    return Example("four-vertex", title, g, text, numbers)


# ----- log-softmax ---------------------------------------------------------------------
def log_softmax(l=(1.0, 2.0, 0.5)):
    """The Jacobian of LOG-SOFTMAX: [dLS(l)/dl]_{k,k'} = [[k = k']] - softmax_k'."""
    l = np.asarray(l, dtype=float)
    g = trace(ops.log_softmax, l)
    J = g.jacobian(1, 2)
    softmax = np.exp(l - l.max()) / np.exp(l - l.max()).sum()
    formula = np.eye(l.size) - softmax[None, :]
    numbers = {"J": J, "formula": formula, "softmax": softmax}
    title = "The Jacobian of LOG-SOFTMAX: LS_k(l) = l_k - log sum_k' exp(l_k')"
    with np.printoptions(precision=6, suppress=True):
        text = "\n".join([
            _rule(title), "",
            g.explain(), "",
            "J^{1->2} from the VJP rule of log_softmax, fed the basis cotangents e_1..e_K:",
            _indent(str(J)),
            "[[k = k']] - softmax(l)_k' (the notes' formula), with softmax(l) = "
            + fmt(softmax) + ":",
            _indent(str(formula)),
            f"max |difference| = {np.abs(J - formula).max():.2e}",
        ])
    return Example("log-softmax", title, g, text, numbers)


def _indent(s, by="  "):
    return "\n".join(by + line for line in s.splitlines())


# ----- the feedforward network -----------------------------------------------------------
FEEDFORWARD_NAMES = ["W", "x", "b", "V", "gamma", "z", "h", "l", "q", "o"]


def feedforward_graph(W, x, b, V, gamma, y):
    """The notes' network as a graph, one vertex per variable, leaves W, x, b, V, gamma.

    Vertices: 1 W, 2 x, 3 b, 4 V, 5 gamma, 6 z, 7 h, 8 l, 9 q, 10 o. The local
    functions take their parents in increasing vertex order, so f^l is
    f^l(V, gamma, h) = V h + gamma. The label y is folded into f^o.
    """
    y = int(y)
    edges = [(1, 6), (2, 6), (3, 6), (6, 7), (4, 8), (5, 8), (7, 8), (8, 9), (9, 10)]
    functions = {
        6: lambda W, x, b: ops.matmul(W, x) + b,          # z = W x + b
        7: lambda z: ops.tanh(z),                          # h = g(z), g = tanh
        8: lambda V, gamma, h: ops.matmul(V, h) + gamma,   # l = V h + gamma
        9: lambda l: ops.log_softmax(l),                   # q = LS(l)
        10: lambda q: -q[y],                               # o = -q_y
    }
    g = Graph.from_edges(10, 5, edges, functions, names=FEEDFORWARD_NAMES)
    g.forward(W, x, b, V, gamma)
    return g


def chain_product(g, path):
    """D^{path[-2] -> path[-1]} ... D^{path[0] -> path[1]}: the Jacobians along a path."""
    prod = None
    for a, b in zip(path, path[1:]):
        J = g.jacobian(a, b)
        prod = J if prod is None else J @ prod
    return prod


def feedforward(d=3, m=4, K=3, y=1, seed=0):
    """dO/dW and dO/dV as products of Jacobians along the chain, checked against backward."""
    rng = np.random.default_rng(seed)
    W, x, b = rng.normal(size=(m, d)), rng.normal(size=d), rng.normal(size=m)
    V, gamma = rng.normal(size=(K, m)), rng.normal(size=K)
    g = feedforward_graph(W, x, b, V, gamma, y)
    p = g.backward()
    chain_W = [1, 6, 7, 8, 9, 10]     # W -> z -> h -> l -> q -> o
    chain_V = [4, 8, 9, 10]           # V -> l -> q -> o
    dO_dW = chain_product(g, chain_W).reshape(m, d)
    dO_dV = chain_product(g, chain_V).reshape(K, m)
    # The closed form, independent of the rules: dO/dl = softmax(l) - onehot(y).
    h, l = g[7].value, g[8].value
    dl = np.exp(l - l.max()) / np.exp(l - l.max()).sum()
    dl[y] -= 1
    closed_V = np.outer(dl, h)
    closed_W = np.outer((V.T @ dl) * (1 - h ** 2), x)
    closed_diff = max(np.abs(closed_W - p[1]).max(), np.abs(closed_V - p[4]).max())
    numbers = {"dO/dW": dO_dW, "dO/dV": dO_dV, "p_W": p[1], "p_V": p[4],
               "closed dO/dW": closed_W, "closed dO/dV": closed_V, "o": g[10].value}
    shapes = {i: g[i].dim for i in range(1, 11)}

    def dims(path):
        edges = list(zip(path, path[1:]))
        return " ".join(f"({shapes[b_]}x{shapes[a_]})" for a_, b_ in reversed(edges))

    title = "Derivatives in a feedforward network: o = -LS(V tanh(W x + b) + gamma)_y"
    with np.printoptions(precision=5, suppress=True):
        text = "\n".join([
            _rule(title), "",
            f"d = {d} inputs, m = {m} hidden units, K = {K} labels, y = {y}, g = tanh; random "
            f"parameters (seed {seed}). Vertices: "
            + ", ".join(f"{i} {nm}" for i, nm in enumerate(FEEDFORWARD_NAMES, 1)) + ".",
            "Local functions: f^z(W, x, b) = W x + b, f^h(z) = tanh(z), "
            "f^l(V, gamma, h) = V h + gamma, f^q(l) = LS(l), f^o(q) = -q_y.",
            "W is treated as a vector of m*d entries (row-major), so J^{W->z} is m x (m*d).", "",
            g.explain(), "",
            "do/dW = do/dq x dq/dl x dl/dh x dh/dz x dz/dW",
            "      = D^{9->10} D^{8->9} D^{7->8} D^{6->7} D^{1->6}   shapes " + dims(chain_W),
            _indent(str(dO_dW), "      "),
            "p_W from the backward pass:",
            _indent(str(p[1]), "      "),
            f"  max |difference| = {np.abs(dO_dW - p[1]).max():.2e}", "",
            "do/dV = do/dq x dq/dl x dl/dV = D^{9->10} D^{8->9} D^{4->8}   shapes "
            + dims(chain_V),
            _indent(str(dO_dV), "      "),
            "p_V from the backward pass:",
            _indent(str(p[4]), "      "),
            f"  max |difference| = {np.abs(dO_dV - p[4]).max():.2e}", "",
            "Closed form, independent of the rules (dO/dl = softmax(l) - onehot(y)): "
            f"max |difference| = {closed_diff:.2e}",
        ])
    return Example("feedforward", title, g, text, numbers)


EXAMPLES = {"chain-rule": chain_rule, "four-vertex": four_vertex,
            "log-softmax": log_softmax, "feedforward": feedforward}
