"""The notes' computational graph: trace, from_edges, forward, backward, per-edge Jacobians,
paths and the path theorem, and every validation error of Graph.from_edges."""
import math
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import NonScalarError
from chainrule.examples import (chain_product, chain_rule, feedforward, feedforward_graph,
                                four_vertex, log_softmax)
from chainrule.graph import PATH_LIMIT, Graph, GraphError, TooManyPathsError, trace

E4 = [(1, 3), (2, 3), (2, 4), (3, 4)]
F4 = {3: lambda u1, u2: u1 + u2, 4: lambda u2, u3: u2 * u3}


def four():
    g = Graph.from_edges(4, 2, E4, F4)
    g.forward(2.0, 3.0)
    return g


# ----- the notes' worked examples, with the notes' numbers ----------------------------
def test_chain_rule_192():
    ex = chain_rule()
    g = ex.graph
    assert (g.n, g.l, g.edges) == (3, 1, [(1, 2), (2, 3)])
    assert float(g[2].value) == 8.0                    # z = x^3 = 8
    assert g.jacobian(1, 2).tolist() == [[12.0]]        # dg/dx = 3x^2 = 12
    assert float(g[3].value) == 64.0                   # f(z) = z^2 = 64
    assert g.jacobian(2, 3).tolist() == [[16.0]]        # df/dz = 2z = 16
    assert float(g.backward()[1]) == 192.0             # 12 x 16
    assert float(ex.numbers["dh/dx"]) == 192.0


@pytest.mark.parametrize("build", ["from_edges", "trace"])
def test_four_vertex_graph(build):
    if build == "from_edges":
        g = four()
    else:
        g = trace(lambda u1, u2: u2 * (u1 + u2), 2.0, 3.0)
    assert (g.n, g.l) == (4, 2)
    assert g.edges == E4
    assert g.dims == {1: 1, 2: 1, 3: 1, 4: 1}
    assert [v.parents for v in g.vertices] == [(), (), (1, 2), (2, 3)]
    assert float(g[3].value) == 5.0 and float(g[4].value) == 15.0
    p = g.backward()
    assert {i: float(x) for i, x in p.items()} == {1: 3.0, 2: 8.0, 3: 3.0, 4: 1.0}
    assert sorted(g.paths(2, 4)) == [[2, 3, 4], [2, 4]]
    # D^{2->4} + D^{3->4} D^{2->3} = u3 + u2 * 1 = 5 + 3
    assert g.jacobian(2, 4).tolist() == [[5.0]]
    assert (g.jacobian(3, 4) @ g.jacobian(2, 3)).tolist() == [[3.0]]
    assert g.path_sum(2, 4).tolist() == [[8.0]]
    assert g.path_sum(1, 4).tolist() == [[3.0]]


def test_four_vertex_example_numbers():
    nb = four_vertex().numbers
    assert float(nb["u3"]) == 5 and float(nb["u4"]) == 15
    assert float(nb["p1"]) == 3 and float(nb["p2"]) == 8
    assert sorted(nb["paths(2, 4)"]) == [[2, 3, 4], [2, 4]]


def test_log_softmax_jacobian_is_identity_minus_softmax():
    for l in ([1.0, 2.0, 0.5], [0.0, 0.0], [-3.0, 10.0, 2.0, 2.0, 0.1]):
        l = np.array(l)
        g = trace(cr.log_softmax, l)
        s = np.exp(l - l.max()) / np.exp(l - l.max()).sum()
        K = l.size
        expect = np.array([[(k == k2) - s[k2] for k2 in range(K)] for k in range(K)])
        np.testing.assert_allclose(g.jacobian(1, 2), expect, atol=1e-12)
    ex = log_softmax()
    np.testing.assert_allclose(ex.numbers["J"], ex.numbers["formula"], atol=1e-12)


def test_feedforward_products_of_jacobians_equal_backward():
    ex = feedforward()
    nb = ex.numbers
    np.testing.assert_allclose(nb["dO/dW"], nb["p_W"], atol=1e-12)
    np.testing.assert_allclose(nb["dO/dV"], nb["p_V"], atol=1e-12)
    np.testing.assert_allclose(nb["closed dO/dW"], nb["p_W"], atol=1e-12)
    np.testing.assert_allclose(nb["closed dO/dV"], nb["p_V"], atol=1e-12)
    g = ex.graph
    assert [v.name for v in g.vertices] == ["W", "x", "b", "V", "gamma", "z", "h", "l", "q", "o"]
    # one path each: the chain of the notes
    assert g.paths(1, 10) == [[1, 6, 7, 8, 9, 10]]
    assert g.paths(4, 10) == [[4, 8, 9, 10]]


def test_feedforward_matches_trace_and_grad():
    rng = np.random.default_rng(3)
    m, d, K, y = 5, 4, 3, 2
    W, x, b = rng.normal(size=(m, d)), rng.normal(size=d), rng.normal(size=m)
    V, gamma = rng.normal(size=(K, m)), rng.normal(size=K)
    g = feedforward_graph(W, x, b, V, gamma, y)

    def loss(W, x, b, V, gamma):
        return -cr.log_softmax(V @ cr.tanh(W @ x + b) + gamma)[y]

    grads = cr.grad(loss, argnums=(0, 1, 2, 3, 4))(W, x, b, V, gamma)
    p = g.backward()
    for i, gr in enumerate(grads, 1):
        np.testing.assert_allclose(p[i], gr, atol=1e-12)
    t = trace(loss, W, x, b, V, gamma)
    pt = t.backward()
    for i in range(1, 6):
        np.testing.assert_allclose(pt[i], p[i], atol=1e-12)
    assert [v.name for v in t.leaves] == ["W", "x", "b", "V", "gamma"]


def test_jacobian_of_matrix_leaf_is_row_major():
    # z = W x + b: dz/dW is m x (m d) with W flattened row-major: kron(I_m, x^T)
    rng = np.random.default_rng(0)
    W, x, b = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)
    g = trace(lambda W, x, b: cr.sum(cr.tanh(W @ x + b)), W, x, b)
    assert g.edges[0] == (1, 4) and g[4].op.name == "matmul"
    J = g.jacobian(1, 4)
    assert J.shape == (4, 12)
    np.testing.assert_allclose(J, np.kron(np.eye(4), x[None, :]))
    np.testing.assert_allclose(g.jacobian(2, 4), W)
    J_W = chain_product(g, [1, 4, 5, 6, 7]).reshape(4, 3)
    np.testing.assert_allclose(J_W, g.backward()[1], atol=1e-12)


def test_jacobian_equals_cr_jacobian_of_the_local_function():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    g = trace(lambda A, B: cr.sum(cr.sin(A @ B) * (A @ B)), A, B)
    mm = [v for v in g.vertices if v.op is not None and v.op.name == "matmul"]
    assert len(mm) == 2  # A @ B twice: two vertices
    i = mm[0].index
    JA = cr.jacobian(lambda a: a @ B)(A).reshape(4, 6)
    JB = cr.jacobian(lambda b: A @ b)(B).reshape(4, 6)
    np.testing.assert_allclose(g.jacobian(1, i), JA)
    np.testing.assert_allclose(g.jacobian(2, i), JB)


def test_repeated_input_gives_one_edge_with_summed_jacobian():
    g = trace(lambda x: x * x, 3.0)
    assert g.edges == [(1, 2)]
    assert g.jacobian(1, 2).tolist() == [[6.0]]
    assert float(g.backward()[1]) == 6.0


# ----- trace: numbering, constants, names ------------------------------------------------
def test_trace_numbering_and_folded_constants():
    c = np.array([1.0, 2.0])

    def f(x, y):
        a = x * 2.0 + c          # constants 2.0 and c are folded
        unused = cr.exp(y) * 7   # does not reach the output: left out
        return cr.sum(a * y)

    g = trace(f, np.array([1.0, -1.0]), np.array([0.5, 0.25]))
    assert g.l == 2 and [v.name for v in g.leaves] == ["x", "y"]
    assert [v.op.name for v in g.vertices[2:]] == ["multiply", "add", "multiply", "sum"]
    assert g.n == 6 and g.edges == [(1, 3), (2, 5), (3, 4), (4, 5), (5, 6)]
    assert all(j < i and i > g.l for j, i in g.edges)
    assert g[6].value.shape == ()
    before = float(f(np.array([1.0, -1.0]), np.array([0.5, 0.25])))
    c[0] = 100.0  # the graph copied its constant
    assert float(g.forward()) == before


def test_trace_unused_argument_stays_a_leaf_with_zero_p():
    g = trace(lambda x, y: cr.sum(x * x), np.ones(2), np.ones(3))
    assert g.l == 2 and g[2].children == ()
    p = g.backward()
    np.testing.assert_array_equal(p[2], np.zeros(3))
    assert g.path_sum(2, g.n).shape == (1, 3) and not g.path_sum(2, g.n).any()


def test_trace_pytree_args_keyword_constants_and_names():
    def loss(params, x, y=0):
        h = cr.tanh(params["W"] @ x)
        h.name = "h"
        return -cr.log_softmax(h)[y]

    params = {"W": np.eye(2), "b": np.zeros(2)}
    g = trace(loss, params, np.array([1.0, 2.0]), y=1)
    assert [v.name for v in g.leaves] == ["params[W]", "params[b]", "x"]
    assert "h" in [v.name for v in g.vertices]
    np.testing.assert_array_equal(g.backward()[2], np.zeros(2))  # b unused


def test_trace_relu_and_where_theorem_and_replay():
    def f(x, y):
        return cr.sum(cr.relu(x) * y + cr.where(y > 0.5, x * x, 0.0))

    rng = np.random.default_rng(11)
    x, y = rng.normal(size=5), rng.random(size=5)
    g = trace(f, x, y)
    check_theorem(g)
    gx, gy = cr.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(g.backward()[1], gx)
    np.testing.assert_allclose(g.backward()[2], gy)
    if not any(v.op is not None and v.op.name == "greater" for v in g.vertices):
        pytest.skip("this engine does not record comparisons, so a mask is a traced constant")
    x2, y2 = rng.normal(size=5), rng.random(size=5)   # the mask is recomputed on replay
    np.testing.assert_allclose(g.forward(x2, y2), f(x2, y2))
    np.testing.assert_allclose(g.backward()[1], cr.grad(f)(x2, y2))


def test_trace_copies_leaf_values():
    x = np.array([1.0, 2.0])
    g = trace(lambda x: cr.sum(x * x), x)
    x[0] = 50.0
    assert float(g[1].value[0]) == 1.0 and float(g.forward()) == 5.0


def test_trace_errors():
    with pytest.raises(GraphError, match="does not depend"):
        trace(lambda x: np.ones(2), 1.0)
    with pytest.raises(GraphError, match="unchanged"):
        trace(lambda x: x, 1.0)
    with pytest.raises(GraphError, match="single array"):
        trace(lambda x: (x * 2, x * 3), 1.0)
    with pytest.raises(GraphError, match="does not depend"):
        trace(lambda x: math.exp(x), 1.0)


def test_float32_stays_float32():
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = trace(lambda x: cr.sum(cr.tanh(x) * x), x)
    assert all(v.value.dtype == np.float32 for v in g.vertices)
    assert g.backward()[1].dtype == np.float32
    assert g.jacobian(1, 2).dtype == np.float32


# ----- forward / backward ------------------------------------------------------------------
def test_forward_recomputes_and_invalidates():
    g = four()
    p_old = g.backward()
    assert float(g.forward(1.0, 4.0)) == 20.0          # u3 = 5, u4 = 4 * 5
    assert float(g[3].value) == 5.0
    p = g.backward()
    assert float(p[1]) == 4.0 and float(p[2]) == 9.0  # p2 = u3 + u2 = 5 + 4
    assert float(p_old[2]) == 8.0                      # the caller's copy is untouched
    assert g.jacobian(2, 4).tolist() == [[5.0]]


def test_forward_traced_new_values_match_function():
    rng = np.random.default_rng(5)
    f = lambda A, v: cr.sum(cr.tanh(A @ v) ** 2)  # noqa: E731
    g = trace(f, rng.normal(size=(3, 2)), rng.normal(size=2))
    A2, v2 = rng.normal(size=(3, 2)), rng.normal(size=2)
    np.testing.assert_allclose(g.forward(A2, v2), f(A2, v2))
    gA, gv = cr.grad(f, argnums=(0, 1))(A2, v2)
    p = g.backward()
    np.testing.assert_allclose(p[1], gA)
    np.testing.assert_allclose(p[2], gv)


def test_forward_errors():
    g = trace(lambda A: cr.sum(A.reshape(-1)[:2]), np.ones((2, 2)))
    with pytest.raises(GraphError, match="takes the values of the l = 1 leaves"):
        g.forward(1.0, 2.0)
    with pytest.raises(GraphError, match="traced with shape"):
        g.forward(np.ones(3))
    h = Graph.from_edges(4, 2, E4, F4)
    with pytest.raises(GraphError, match="no values yet"):
        h.backward()
    with pytest.raises(GraphError, match="no values yet"):
        h.dims
    with pytest.raises(GraphError, match="no values yet"):
        h.forward()


def test_backward_nonscalar_output_needs_p_n():
    g = trace(cr.log_softmax, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(NonScalarError, match="p_n"):
        g.backward()
    e = np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(g.backward(p_n=e)[1], e @ g.jacobian(1, 2))
    with pytest.raises(GraphError, match="shape"):
        g.backward(p_n=np.ones(2))


def test_backward_returns_arrays_the_caller_owns():
    g = four()
    p = g.backward()
    p[1] += 100
    assert float(g.backward()[1]) == 3.0


# ----- jacobian / paths / path_sum -------------------------------------------------------
def test_jacobian_non_edge_and_bad_vertex():
    g = four()
    with pytest.raises(GraphError, match=r"\(1, 4\) is not an edge.*path_sum\(1, 4\)"):
        g.jacobian(1, 4)
    with pytest.raises(GraphError, match="not a vertex"):
        g.jacobian(0, 3)
    with pytest.raises(GraphError, match="not a vertex"):
        g.paths(1, 5)


def test_paths_conventions():
    g = four()
    assert g.paths(4, 4) == [[4]] and g.count_paths(4, 4) == 1
    assert g.path_sum(4, 4).tolist() == [[1.0]]      # the empty path: p_n = 1
    assert g.paths(3, 2) == [] and g.count_paths(3, 2) == 0
    assert g.path_sum(3, 2).tolist() == [[0.0]]
    assert g.paths(1, 2) == []                        # leaves are not connected
    with pytest.raises(ValueError, match="method"):
        g.path_sum(1, 4, method="bogus")


def diamonds(k):
    """A chain of k diamonds: 2**k paths from 1 to the output."""
    n = 1 + 3 * k
    edges, functions = [], {}
    for t in range(k):
        a = 1 + 3 * t
        edges += [(a, a + 1), (a, a + 2), (a + 1, a + 3), (a + 2, a + 3)]
        functions[a + 1] = lambda u: cr.sin(u)
        functions[a + 2] = lambda u: 0.5 * u
        functions[a + 3] = lambda u, v: u * v
    # vertex 2 is the first non-leaf: l = 1
    return Graph.from_edges(n, 1, edges, functions)


def test_path_limit_refuses_with_the_count_and_dp_gives_the_value():
    g = diamonds(20)          # 2**20 = 1048576 paths > PATH_LIMIT
    g.forward(0.7)
    assert g.count_paths(1, g.n) == 2 ** 20 > PATH_LIMIT
    with pytest.raises(TooManyPathsError, match="1048576 directed paths.*method='dp'") as e:
        g.path_sum(1, g.n)
    assert e.value.count == 2 ** 20
    with pytest.raises(TooManyPathsError, match="1048576"):
        g.paths(1, g.n)
    dp = g.path_sum(1, g.n, method="dp")
    np.testing.assert_allclose(dp.reshape(()), g.backward()[1], rtol=1e-12)
    small = diamonds(4)
    small.forward(0.3)
    assert len(small.paths(1, small.n)) == 16
    np.testing.assert_allclose(small.path_sum(1, small.n),
                               small.path_sum(1, small.n, method="dp"), rtol=1e-12)
    with pytest.raises(TooManyPathsError):
        small.path_sum(1, small.n, limit=15)


def test_long_graph_no_recursion():
    def f(x):
        for _ in range(20000):
            x = x * 1.0001
        return cr.sum(x)

    g = trace(f, np.ones(2))
    assert g.n == 20002
    assert g.count_paths(1, g.n) == 1
    expect = 1.0001 ** 20000
    np.testing.assert_allclose(g.backward()[1], [expect, expect])
    assert len(g.paths(1, g.n)[0]) == g.n
    assert len(g.explain().splitlines()) < 70


# ----- the path theorem on random graphs ----------------------------------------------------
SHAPES = [(), (2,), (3,), (2, 3), (3, 2)]


def random_hand_graph(rng):
    """A random DAG of the notes' kind with scalar, vector and matrix vertices."""
    l = int(rng.integers(1, 4))
    n = l + int(rng.integers(1, 6))
    shapes = {i: SHAPES[int(rng.integers(len(SHAPES)))] for i in range(1, n + 1)}
    shapes[n] = ()
    edges = set()
    for i in range(l + 1, n + 1):
        k = int(rng.integers(1, min(3, i - 1) + 1))
        for j in rng.choice(np.arange(1, i), size=k, replace=False):
            edges.add((int(j), i))
    for j in range(n - 1, 0, -1):  # every vertex must reach n
        if not any(a == j for a, _ in edges):
            edges.add((j, int(rng.integers(max(j, l) + 1, n + 1))))
    parents = {i: sorted(j for j, b in edges if b == i) for i in range(l + 1, n + 1)}
    functions = {}
    for i, ps in parents.items():
        di = int(np.prod(shapes[i], dtype=int))
        Ms = [rng.normal(size=(di, int(np.prod(shapes[j], dtype=int)))) / 2 for j in ps]
        kind = int(rng.integers(3))

        def f(*A, Ms=Ms, shape=shapes[i], kind=kind):
            terms = [cr.reshape(cr.matmul(M, cr.reshape(a, (-1,))), shape)
                     for M, a in zip(Ms, A)]
            acc = terms[0]
            for t in terms[1:]:
                acc = acc + t
            if kind == 0:
                return cr.tanh(acc)
            if kind == 1:
                return cr.sin(acc) * terms[-1]
            return acc * acc + terms[0]
        functions[i] = f
    g = Graph.from_edges(n, l, sorted(edges), functions)
    g.forward(*[rng.normal(size=shapes[j]) for j in range(1, l + 1)])
    return g


def check_theorem(g):
    p = g.backward()
    for j in range(1, g.n + 1):  # p_j = sum over P(j, n) of products, every vertex
        lhs = g.path_sum(j, g.n)
        assert lhs.shape == (1, g[j].dim)
        np.testing.assert_allclose(lhs.reshape(g[j].shape), p[j], rtol=1e-9, atol=1e-12)
    for j in range(1, g.l + 1):
        np.testing.assert_allclose(g.path_sum(j, g.n, method="dp"), g.path_sum(j, g.n),
                                   rtol=1e-9, atol=1e-12)


def fd_global_jacobian(g, j, k, eps=1e-6):
    """d u_k / d u_j of the global function f-bar^k, by central differences."""
    base = [v.value.copy() for v in g.leaves]
    cols = []
    for r in range(base[j - 1].size):
        vals = []
        for s in (1, -1):
            leaves = [b.copy() for b in base]
            leaves[j - 1].reshape(-1)[r] += s * eps
            g.forward(*leaves)
            vals.append(g[k].value.reshape(-1).copy())
        cols.append((vals[0] - vals[1]) / (2 * eps))
    g.forward(*base)
    return np.stack(cols, axis=1)


def test_path_theorem_on_random_hand_built_graphs():
    rng = np.random.default_rng(2024)
    matrix_valued = 0
    for t in range(60):
        g = random_hand_graph(rng)
        matrix_valued += any(len(v.shape) == 2 for v in g.vertices)
        check_theorem(g)
        if t % 3 == 0:  # theorem for an inner k too: against finite differences
            k = int(rng.integers(g.l + 1, g.n + 1))
            for j in range(1, g.l + 1):
                np.testing.assert_allclose(g.path_sum(j, k), fd_global_jacobian(g, j, k),
                                           rtol=1e-5, atol=1e-7)
    assert matrix_valued >= 20


UNARY = [cr.tanh, cr.sin, lambda a: a * a, cr.sigmoid]


def random_program(rng, l):
    """Instructions for a random traced program over leaves of random (matrix) shapes."""
    shapes = [SHAPES[int(rng.integers(len(SHAPES)))] for _ in range(l)]
    pool = [rng.normal(size=s) for s in shapes]
    prog = []
    for _ in range(int(rng.integers(2, 9))):
        a = int(rng.integers(len(pool)))
        x = pool[a]
        choice = int(rng.integers(6))
        partners = [b for b, y in enumerate(pool) if y.shape == x.shape or y.ndim == 0]
        if choice == 0:
            ins = ("unary", a, int(rng.integers(len(UNARY))))
        elif choice == 1 and partners:
            ins = ("mul" if rng.random() < 0.5 else "add", a, int(rng.choice(partners)))
        elif choice == 2 and x.ndim == 2:
            ins = ("T", a)
        elif choice == 3 and x.ndim >= 1:
            ins = ("sum0", a)
        elif choice == 4 and x.ndim >= 1:
            ins = ("lsm", a)
        else:
            mats = [b for b, y in enumerate(pool)
                    if x.ndim == 2 and y.ndim >= 1 and y.shape[0] == x.shape[1]]
            ins = ("matmul", a, int(rng.choice(mats))) if mats else ("unary", a, 0)
        prog.append(ins)
        pool.append(np.asarray(run_instruction(ins, pool)))
    return shapes, prog


def run_instruction(ins, pool):
    kind, a = ins[0], pool[ins[1]]
    if kind == "unary":
        return UNARY[ins[2]](a)
    if kind == "mul":
        return a * pool[ins[2]]
    if kind == "add":
        return a + pool[ins[2]]
    if kind == "T":
        return cr.transpose(a)
    if kind == "sum0":
        return cr.sum(a, axis=0)
    if kind == "lsm":
        return cr.log_softmax(a)
    return cr.matmul(a, pool[ins[2]])


def program_function(prog):
    def f(*xs):
        pool = list(xs)
        for ins in prog:
            pool.append(run_instruction(ins, pool))
        out = cr.sum(pool[-1])
        for v in pool[len(xs):-1:2]:
            out = out + cr.sum(v) * 0.5
        return out
    return f


def test_path_theorem_on_random_traced_programs():
    rng = np.random.default_rng(7)
    matrix_valued = 0
    for _ in range(40):
        l = int(rng.integers(1, 4))
        shapes, prog = random_program(rng, l)
        f = program_function(prog)
        xs = [rng.normal(size=s) for s in shapes]
        g = trace(f, *xs)
        matrix_valued += any(len(v.shape) == 2 for v in g.vertices)
        check_theorem(g)
        grads = cr.grad(f, argnums=tuple(range(l)))(*xs)
        p = g.backward()
        for j in range(1, l + 1):
            np.testing.assert_allclose(p[j], grads[j - 1], rtol=1e-10, atol=1e-12)
    assert matrix_valued >= 10


# ----- from_edges: explicit Jacobians and derived ones ----------------------------------------
def test_from_edges_explicit_jacobians_are_used():
    J = {(1, 3): lambda u1, u2: np.ones((1, 1)), (2, 3): [[1.0]],
         (2, 4): lambda u2, u3: np.reshape(u3, (1, 1)),
         (3, 4): lambda u2, u3: np.reshape(u2, (1, 1))}
    g = Graph.from_edges(4, 2, E4, F4, jacobians=J)
    g.forward(2.0, 3.0)
    assert {i: float(p) for i, p in g.backward().items()} == {1: 3.0, 2: 8.0, 3: 3.0, 4: 1.0}
    # a (deliberately wrong) given Jacobian is what backward and jacobian use
    bad = Graph.from_edges(4, 2, E4, F4, jacobians={(2, 4): 100.0})
    bad.forward(2.0, 3.0)
    assert bad.jacobian(2, 4).tolist() == [[100.0]]
    assert float(bad.backward()[2]) == 103.0


def test_from_edges_vector_functions_with_numpy_and_names():
    A = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])
    g = Graph.from_edges(3, 1, [(1, 2), (2, 3)],
                         {2: lambda x: np.tanh(A @ x), 3: lambda h: np.sum(h * h)},
                         names={1: "x", 2: "h", 3: "o"})
    x = np.array([0.3, -0.2])
    g.forward(x)
    assert g.dims == {1: 2, 2: 3, 3: 1}
    h = np.tanh(A @ x)
    np.testing.assert_allclose(g.jacobian(1, 2), (1 - h ** 2)[:, None] * A)
    np.testing.assert_allclose(g.backward()[1], (2 * h * (1 - h ** 2)) @ A)
    assert [v.name for v in g.vertices] == ["x", "h", "o"]


def test_from_edges_function_that_drops_the_graph_is_refused_when_differentiated():
    g = Graph.from_edges(2, 1, [(1, 2)], {2: lambda u: math.exp(u)})
    assert float(g.forward(0.0)) == 1.0
    with pytest.raises(GraphError, match="cannot derive the Jacobians of f\\^2.*jacobians="):
        g.backward()
    ok = Graph.from_edges(2, 1, [(1, 2)], {2: lambda u: math.exp(u)},
                          jacobians={(1, 2): lambda u: [[math.exp(u)]]})
    ok.forward(1.0)
    assert float(ok.backward()[1]) == pytest.approx(math.e)


# ----- from_edges: every validation error ------------------------------------------------------
def test_error_edge_not_increasing():
    with pytest.raises(GraphError, match=r"edge \(3, 3\) goes from 3 to 3.*j < i"):
        Graph.from_edges(4, 2, [(1, 3), (3, 3), (3, 4)], F4)
    with pytest.raises(GraphError, match=r"edge \(4, 3\).*j < i"):
        Graph.from_edges(4, 2, [(1, 3), (4, 3), (2, 4)], F4)


def test_error_edge_into_a_leaf():
    with pytest.raises(GraphError, match=r"edge \(1, 2\) ends at vertex 2, which is a leaf"):
        Graph.from_edges(4, 2, E4 + [(1, 2)], F4)


def test_error_vertex_out_of_range():
    with pytest.raises(GraphError, match=r"edge \(3, 5\): vertex 5 is out of range.*1\.\.4"):
        Graph.from_edges(4, 2, E4 + [(3, 5)], F4)
    with pytest.raises(GraphError, match=r"edge \(0, 3\): vertex 0 is out of range"):
        Graph.from_edges(4, 2, [(0, 3)] + E4, F4)
    with pytest.raises(GraphError, match="functions has an entry for 7, which is not a vertex"):
        Graph.from_edges(4, 2, E4, {**F4, 7: lambda u: u})


def test_error_duplicate_edge():
    with pytest.raises(GraphError, match=r"edge \(2, 3\) is listed twice"):
        Graph.from_edges(4, 2, E4 + [(2, 3)], F4)


def test_error_missing_function():
    with pytest.raises(GraphError, match=r"no function for vertex 4.*f\^4\(u2, u3\)"):
        Graph.from_edges(4, 2, E4, {3: F4[3]})


def test_error_function_arity():
    with pytest.raises(GraphError, match=r"functions\[4\] takes 1 argument\(s\) but vertex 4 "
                                         r"has 2 parent\(s\) \(2, 3\)"):
        Graph.from_edges(4, 2, E4, {3: F4[3], 4: lambda u: u})
    with pytest.raises(GraphError, match=r"functions\[3\] takes 3"):
        Graph.from_edges(4, 2, E4, {3: lambda a, b, c: a, 4: F4[4]})
    # *args and defaults are fine
    Graph.from_edges(4, 2, E4, {3: lambda *A: A[0] + A[1], 4: lambda a, b, c=1.0: a * b * c})


def test_error_vertex_does_not_reach_output():
    with pytest.raises(GraphError, match=r"vertex 3 does not reach the output vertex n = 4"):
        Graph.from_edges(4, 2, [(1, 3), (2, 3), (1, 4), (2, 4)], {3: F4[3], 4: F4[3]})
    with pytest.raises(GraphError, match=r"vertex 1 does not reach"):
        Graph.from_edges(3, 2, [(2, 3)], {3: lambda u: u})


def test_error_jacobian_wrong_shape():
    g = Graph.from_edges(4, 2, E4, F4, jacobians={(2, 4): np.ones((2, 1))})
    with pytest.raises(GraphError, match=r"J\^\{2->4\} given in jacobians has shape \(2, 1\), "
                                         r"but must be \(d_4, d_2\) = \(1, 1\)"):
        g.forward(2.0, 3.0)
    v = Graph.from_edges(2, 1, [(1, 2)], {2: lambda x: 2 * x},
                         jacobians={(1, 2): lambda x: 2 * np.eye(3)[:2]})
    with pytest.raises(GraphError, match=r"shape \(2, 3\), but must be \(d_2, d_1\) = \(3, 3\)"):
        v.forward(np.ones(3))


def test_error_jacobian_for_a_non_edge():
    with pytest.raises(GraphError, match=r"jacobians\[\(1, 4\)\]: \(1, 4\) is not an edge"):
        Graph.from_edges(4, 2, E4, F4, jacobians={(1, 4): 1.0})


def test_error_sizes_leaf_functions_and_parentless_vertices():
    with pytest.raises(GraphError, match="1 <= l < n"):
        Graph.from_edges(3, 3, [], {})
    with pytest.raises(GraphError, match="1 <= l < n"):
        Graph.from_edges(3, 0, [(1, 2), (2, 3)], {})
    with pytest.raises(GraphError, match=r"functions\[1\]: vertex 1 is a leaf"):
        Graph.from_edges(4, 2, E4, {**F4, 1: lambda: 0})
    with pytest.raises(GraphError, match="vertex 3 is not a leaf .* has no incoming edge"):
        Graph.from_edges(4, 2, [(1, 4), (2, 4)], {3: lambda: 1.0, 4: lambda a, b: a})
    with pytest.raises(GraphError, match="not a pair"):
        Graph.from_edges(4, 2, [(1, 3, 4)], F4)
    with pytest.raises(TypeError, match="callable"):
        Graph.from_edges(4, 2, E4, {3: F4[3], 4: 5})


# ----- misc -------------------------------------------------------------------------------------
def test_vertex_objects():
    g = four()
    v = g[3]
    assert (v.index, v.name, v.parents, v.children, v.dim) == (3, "u3", (1, 2), (4,), 1)
    assert v.op.name == "f^3" and float(v.f(2.0, 3.0)) == 5.0
    assert g[1].op is None and g[1].is_leaf
    assert "Vertex 3" in repr(v) and "n=4" in repr(g)
    t = trace(lambda x: x ** 3, 2.0)
    assert float(t[2].f(3.0)) == 27.0   # the constant 3 is folded into f^2


def test_tracing_in_threads_is_independent():
    results = {}

    def work(k):
        g = trace(lambda x: cr.sum(x ** 2) * k, np.arange(3.0))
        results[k] = g.backward()[1]

    ts = [threading.Thread(target=work, args=(k,)) for k in (1.0, 2.0, 3.0)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k, p in results.items():
        np.testing.assert_allclose(p, 2 * k * np.arange(3.0))


def test_docstring_examples_of_the_graph_modules():
    import doctest

    import chainrule.examples
    import chainrule.explain
    import chainrule.graph
    import chainrule.graph_build
    import chainrule.page
    attempted = 0
    for mod in (chainrule.graph, chainrule.graph_build, chainrule.explain, chainrule.examples,
                chainrule.page):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, mod.__name__
        attempted += result.attempted
    assert attempted >= 25


# ----- graph_build: from_edges' checks in their own module ---------------------------------------
def test_graph_build_checks_and_the_error_type():
    from chainrule import graph_build
    assert GraphError is graph_build.GraphError is cr.GraphError
    assert issubclass(TooManyPathsError, GraphError) and issubclass(GraphError, ValueError)
    b = graph_build.check(4, 2, [(2, 4), (1, 3), (3, 4), (2, 3)], F4, names=["a", "b", "c", "d"])
    assert b.edges == E4 and b.parents == {1: [], 2: [], 3: [1, 2], 4: [2, 3]}
    assert b.names == {1: "a", 2: "b", 3: "c", 4: "d"} and b.jacobians == {}
    with pytest.raises(GraphError, match="no function for vertex 4"):
        graph_build.check(4, 2, E4, {3: F4[3]})


def test_from_edges_with_chainrule_primitives_uses_their_rules():
    g = Graph.from_edges(4, 2, E4, {3: cr.add, 4: cr.multiply})
    assert g[3].op is cr.add and g[4].op is cr.multiply
    assert float(g.forward(2.0, 3.0)) == 15.0
    assert {i: float(p) for i, p in g.backward().items()} == {1: 3.0, 2: 8.0, 3: 3.0, 4: 1.0}
    assert "u4 = f^4(u2, u3) = multiply(u2, u3) = 15" in g.explain()
    # given Jacobians still win: the primitive is wrapped so that they are used
    h = Graph.from_edges(4, 2, E4, {3: cr.add, 4: cr.multiply}, jacobians={(2, 4): [[10.0]]})
    h.forward(2.0, 3.0)
    assert h[4].op is not cr.multiply and float(h.backward()[2]) == 3.0 + 10.0


def test_edge_vjp_and_has_values():
    g = Graph.from_edges(4, 2, E4, F4)
    assert not g.has_values
    with pytest.raises(GraphError, match="no values yet"):
        g.edge_vjp(2, 4, 1.0)
    g.forward(2.0, 3.0)
    assert g.has_values
    assert float(g.edge_vjp(2, 4, 1.0)) == 5.0          # p4 J^{2->4} = 1 * u3
    assert float(g.edge_vjp(2, 3, 3.0)) == 3.0          # p3 J^{2->3} = 3 * 1
    with pytest.raises(GraphError, match=r"\(1, 4\) is not an edge"):
        g.edge_vjp(1, 4, 1.0)
    t = trace(lambda x: cr.sum(cr.tanh(x)), np.array([0.0, 1.0]))
    np.testing.assert_allclose(t.edge_vjp(1, 2, np.ones(2)), 1 - np.tanh([0.0, 1.0]) ** 2)
    with pytest.raises(GraphError, match=r"p_i has shape \(3,\) but u2 has shape \(2,\)"):
        t.edge_vjp(1, 2, np.ones(3))
