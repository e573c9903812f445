"""The notes' computational graph as an object you can build, run and look at.

A ``Graph`` has n vertices numbered 1..n, leaves 1..l, the output n, edges
(j, i) with j < i, a local function f^i per non-leaf vertex, a value u_i in
R^{d_i} per vertex, and a Jacobian J^{j->i} per edge. Two ways to get one:

- ``trace(f, *args)`` records one evaluation of ``f``: the arguments become the
  leaves 1..l (in order), every operation that depends on them becomes a
  vertex in creation order (already a topological order), the result is n.
- ``Graph.from_edges(n, l, edges, functions)`` builds the notes' graphs by
  hand, with plain Python functions on values as the f^i.

Then ``forward`` is the notes' forward pass, ``backward`` the backward pass
(the library's engine, ``backward.backward_pass``), ``jacobian(j, i)`` the
explicit J^{j->i}, ``paths``/``path_sum`` the right-hand side of the path
theorem.

Conventions (the notes leave them open):

- **Constants are folded.** An input of an operation that is not a traced
  vertex (a Python number, a NumPy array, a tensor created inside ``f``, a
  keyword argument of ``trace``) is part of that vertex's local function, not
  a vertex: ``x ** 3`` is one vertex with f^i(u) = u^3. Keyword arguments of
  ``trace`` are passed to ``f`` unchanged, so labels such as the notes' y_i
  are constants too.
- **Only what reaches the output.** Operations whose result does not lead to
  the output are left out of a traced graph. Every argument stays a leaf (an
  unused one has no edges and p = 0).
- **Row-major flattening.** A matrix-valued u_i counts as a vector of
  d_i = size entries in row-major (C) order, as the notes treat W as a vector
  of m*d entries; J^{j->i} is a (d_i x d_j) matrix in that order.
- **p_i has the shape of u_i** (the notes' row vector 1 x d_i, reshaped).
- **The empty path.** ``paths(k, k)`` is ``[[k]]``, a path with no edges
  whose product is the identity; it is the convention behind the notes'
  p_n = 1, so that p_i = path_sum(i, n) for every i, the output included.

Example:
    >>> import numpy as np, chainrule as cr
    >>> from chainrule.graph import trace
    >>> g = trace(lambda x: (x ** 3) ** 2, 2.0)    # the notes' chain-rule example
    >>> g.n, g.l, g.edges
    (3, 1, [(1, 2), (2, 3)])
    >>> float(g.jacobian(1, 2)[0, 0]), float(g.jacobian(2, 3)[0, 0])
    (12.0, 16.0)
    >>> float(g.backward()[1])
    192.0
"""
import inspect

import numpy as np

from .backward import backward_pass, fit_cotangent
from .errors import MissingRuleError, NonScalarError
from .primitive import rule_of
from .tensor import Tensor
from .tracing import Transform, differentiable_array, float_dtype, leaf
from .graph_build import GraphError, check, given_matrix, local_op

#: Most paths that ``paths`` and ``path_sum`` list one by one. Beyond it they
#: refuse (``TooManyPathsError``, which gives the count); ``path_sum(...,
#: method="dp")`` computes the same sum by dynamic programming for any graph.
PATH_LIMIT = 10_000


class TooManyPathsError(GraphError):
    """More directed paths than the limit; ``.count`` holds how many there are."""

    def __init__(self, message, count):
        super().__init__(message)
        self.count = count


class Ref:
    """Marks an input of a vertex's operation that is vertex ``j`` (1-based)."""

    __slots__ = ("j",)

    def __init__(self, j):
        self.j = j

    def __repr__(self):
        return f"u{self.j}"


_Ref = Ref  # the name trace() uses


class Vertex:
    """One vertex i of the graph: u_i, the local function f^i, the parents pi(i).

    Attributes:
        index: i, 1-based.
        name: a label ("x", "W", "z"...; "u<i>" when nothing better is known).
        op: the ``Primitive`` that computes f^i (None for a leaf).
        value: u_i as a NumPy array (None before the first forward pass of a
            hand-built graph). It belongs to the graph: do not modify it.
        parents: pi(i), the parents' indices in increasing order.
        children: the indices of the vertices that take u_i as an input.
    """

    __slots__ = ("index", "name", "op", "value", "parents", "children", "args", "kw")

    def __init__(self, index, name, op, args=(), kw=None, value=None):
        self.index = index
        self.name = name
        self.op = op
        self.value = value
        # The op's inputs: Ref(j) for vertex j, anything else is a folded constant.
        self.args = tuple(args)
        self.kw = kw or {}
        self.parents = tuple(sorted({a.j for a in self.args if type(a) is Ref}))
        self.children = ()

    @property
    def is_leaf(self):
        return self.op is None

    @property
    def shape(self):
        return None if self.value is None else self.value.shape

    @property
    def dim(self):
        """d_i: the number of entries of u_i."""
        return None if self.value is None else int(self.value.size)

    def f(self, *A):
        """The local function f^i applied to A^i, the parents' values in increasing order."""
        if self.op is None:
            raise GraphError(f"vertex {self.index} is a leaf: it has a value, not a function")
        if len(A) != len(self.parents):
            raise GraphError(f"f^{self.index} takes {len(self.parents)} value(s), one per "
                             f"parent {self.parents}, got {len(A)}")
        by = dict(zip(self.parents, A))
        return self.op.fun(*[by[a.j] if type(a) is Ref else a for a in self.args], **self.kw)

    def __repr__(self):
        what = "leaf" if self.op is None else f"op={self.op.name}, parents={self.parents}"
        shape = "" if self.value is None else f", shape={self.value.shape}"
        return f"<Vertex {self.index} {self.name!r}: {what}{shape}>"


class Graph:
    """A computational graph of the notes: vertices 1..n, leaves 1..l, output n.

    Build one with ``trace(f, *args)`` or ``Graph.from_edges(...)``; see the
    module docstring for the conventions.

    Attributes:
        n, l: the number of vertices and of leaves.
        vertices: the ``Vertex`` objects in order (``g[i]`` is vertex i).
    """

    def __init__(self, vertices, l, fixed_shapes=False):
        self.vertices = list(vertices)
        self.n = len(self.vertices)
        self.l = l
        children = [[] for _ in range(self.n + 1)]
        for v in self.vertices:
            for j in v.parents:
                children[j].append(v.index)
        for v in self.vertices:
            v.children = tuple(children[v.index])
        # A traced graph's constants (shapes in reshape, indices...) were
        # recorded for the traced shapes, so new leaf values must keep them.
        self._fixed_shapes = fixed_shapes
        self._p = None     # {i: p_i} of the last backward pass at the current values
        self._J = {}       # {(j, i): J^{j->i}} at the current values
        self._given = {}   # explicit Jacobians of a hand-built graph {(j, i): J}
        self._valued = all(v.value is not None for v in self.vertices)

    # ----- what it is ---------------------------------------------------------
    @property
    def edges(self):
        """E: every (j, i) with j in pi(i), sorted, 1-based."""
        return sorted((j, v.index) for v in self.vertices for j in v.parents)

    @property
    def dims(self):
        """{i: d_i}."""
        self._need_values()
        return {v.index: v.dim for v in self.vertices}

    @property
    def has_values(self):
        """True once every vertex has its value u_i (after a forward pass or tracing)."""
        return self._valued

    @property
    def leaves(self):
        return self.vertices[:self.l]

    @property
    def output(self):
        return self.vertices[-1]

    def __getitem__(self, i):
        """Vertex i (1-based, as in the notes)."""
        self._check_vertex(i, "vertex")
        return self.vertices[i - 1]

    def __repr__(self):
        d = "" if self.output.value is None else f", d_n={self.output.dim}"
        edges = sum(len(v.parents) for v in self.vertices)
        return f"<Graph n={self.n} l={self.l} edges={edges}{d}>"

    # ----- the forward pass ---------------------------------------------------
    def forward(self, *leaf_values):
        """Recompute every vertex from new leaf values; returns u_n.

        ``for i = l+1..n: u_i = f^i(A^i)``. With no arguments, recomputes from
        the current leaf values. Later ``backward``/``jacobian`` calls use the
        new values.

        Example:
            >>> from chainrule.graph import trace
            >>> g = trace(lambda x: x * x + 1.0, 2.0)
            >>> float(g.forward(3.0))
            10.0
        """
        if leaf_values:
            if len(leaf_values) != self.l:
                raise GraphError(f"forward() takes the values of the l = {self.l} leaves "
                                 f"u1..u{self.l}, in order; got {len(leaf_values)} value(s)")
            for v, x in zip(self.leaves, leaf_values):
                x = _leaf_value(x)
                if self._fixed_shapes and x.shape != v.value.shape:
                    raise GraphError(
                        f"forward(): leaf {v.index} ({v.name}) was traced with shape "
                        f"{v.value.shape} but got shape {x.shape}; a traced graph keeps its "
                        f"shapes (they are baked into reshapes, indices, ...): trace again "
                        f"for new shapes")
                v.value = x
        elif any(v.value is None for v in self.leaves):
            raise GraphError(self._no_values_message())
        self._p, self._J, self._valued = None, {}, False  # stale until the pass completes
        for v in self.vertices[self.l:]:
            A = [self.vertices[a.j - 1].value if type(a) is Ref else a for a in v.args]
            try:
                u = v.op.fun(*A, **v.kw)
            except Exception as e:
                if hasattr(e, "add_note"):  # Python >= 3.11
                    e.add_note(f"(while computing u{v.index} = f^{v.index}(A^{v.index}) in "
                               f"the forward pass)")
                raise
            v.value = np.asarray(u)
        self._valued = True
        self._check_given_jacobians()
        return np.array(self.output.value)

    # ----- the backward pass --------------------------------------------------
    def backward(self, p_n=None):
        """The backward pass: {i: p_i} for every vertex, p_i = d u_n / d u_i (shape of u_i).

        ``p_n = 1; for j = n-1..1: p_j = sum over children i of p_i J^{j->i}``,
        run by chainrule's engine with each op's VJP rule.

        Args:
            p_n: the cotangent of the output; needed only when d_n > 1 (the
                notes assume a scalar output, p_n = 1).

        Example:
            >>> from chainrule.graph import trace
            >>> g = trace(lambda u1, u2: u2 * (u1 + u2), 2.0, 3.0)  # the notes' four vertices
            >>> {i: float(p) for i, p in g.backward().items()}
            {1: 3.0, 2: 8.0, 3: 3.0, 4: 1.0}
        """
        self._need_values()
        out = self.output
        if p_n is None:
            if out.value.size != 1:
                raise NonScalarError(
                    f"backward() starts from p_n = 1, which needs a scalar output, but u{self.n} "
                    f"has shape {out.value.shape}. Reduce the output to a scalar (e.g. cr.sum) "
                    f"before tracing, pass backward(p_n=...) with shape {out.value.shape}, or "
                    f"look at the Jacobians with g.jacobian(j, i) / g.path_sum(j, n).")
            p_n = np.ones_like(out.value, dtype=float_dtype(out.value))
        else:
            p_n = np.asarray(p_n.value if type(p_n) is Tensor else p_n,
                             dtype=float_dtype(out.value))
            if p_n.shape != out.value.shape:
                raise GraphError(f"backward(): p_n has shape {p_n.shape} but u{self.n} has shape "
                                 f"{out.value.shape}; they must match")
        ts = self._tensors()
        p = backward_pass(reversed(ts), {ts[-1]: p_n}, keep=True)
        result = {}
        for v, t in zip(self.vertices, ts):
            g = p.get(t)
            dt = float_dtype(v.value)
            result[v.index] = (np.zeros(v.value.shape, dt) if g is None
                               else np.array(g, dtype=dt).reshape(v.value.shape))
        self._p = result
        return {i: a.copy() for i, a in result.items()}

    def _tensors(self):
        """The vertices as fresh Tensors at the current values, for the engine."""
        ts = []
        for v in self.vertices:
            t = Tensor(v.value, True)
            if v.op is not None:
                t.op = v.op
                t.args = tuple(ts[a.j - 1] if type(a) is Ref else a for a in v.args)
                t.kw = v.kw
            ts.append(t)
        return ts

    # ----- per-edge Jacobians -------------------------------------------------
    def jacobian(self, j, i):
        """J^{j->i} = d f^i / d u_j at the current values, a (d_i x d_j) matrix.

        Row r is p J^{j->i} for the basis cotangent p = e_r, computed by the VJP
        rule of the op that made vertex i; matrices are flattened row-major.

        Example:
            >>> import numpy as np, chainrule as cr
            >>> from chainrule.graph import trace
            >>> g = trace(cr.log_softmax, np.zeros(2))
            >>> g.jacobian(1, 2)           # [[k = k']] - softmax_k'
            array([[ 0.5, -0.5],
                   [-0.5,  0.5]])
        """
        return self._jac(j, i).copy()

    def _jac(self, j, i):
        self._check_edge(j, i)
        self._need_values()
        J = self._J.get((j, i))
        if J is None:
            ui, uj = self.vertices[i - 1].value, self.vertices[j - 1].value
            dt = np.result_type(float_dtype(ui), float_dtype(uj))
            J = np.zeros((ui.size, uj.size), dtype=dt)
            e = np.zeros(ui.size, dtype=float_dtype(ui))
            for r in range(ui.size):
                e[r] = 1
                J[r] = np.reshape(self._edge_vjp(j, i, e.reshape(ui.shape)), -1)
                e[r] = 0
            self._J[(j, i)] = J
        return J

    def edge_vjp(self, j, i, p_i):
        """p_i J^{j->i}: the edge's term in p_j, by the rule(s) of f^i, without forming J.

        ``p_i`` has the shape of u_i, the result the shape of u_j.

        Example:
            >>> from chainrule.graph import trace
            >>> g = trace(lambda u1, u2: u2 * (u1 + u2), 2.0, 3.0)
            >>> float(g.edge_vjp(2, 4, 1.0))    # p4 J^{2->4} = 1 * u3
            5.0
        """
        self._check_edge(j, i)
        self._need_values()
        ui = self.vertices[i - 1].value
        p_i = np.asarray(p_i.value if type(p_i) is Tensor else p_i, dtype=float_dtype(ui))
        if p_i.shape != ui.shape:
            raise GraphError(f"edge_vjp({j}, {i}, p_i): p_i has shape {p_i.shape} but u{i} has "
                             f"shape {ui.shape}; they must match")
        return self._edge_vjp(j, i, p_i)

    def _edge_vjp(self, j, i, g):
        v = self.vertices[i - 1]
        uj = self.vertices[j - 1].value
        A = [self.vertices[a.j - 1].value if type(a) is Ref else a for a in v.args]
        rules = v.op.vjps
        total = None
        for k, a in enumerate(v.args):
            if type(a) is not Ref or a.j != j:
                continue
            declared, rule = rule_of(rules, k)
            if not declared:
                raise MissingRuleError(
                    f"primitive '{v.op.name}' (vertex {i}) has no VJP rule for input {k}; "
                    f"add one with {v.op.name}.defvjp(...)")
            if rule is None:
                continue  # declared: no derivative through this input
            ga = rule(g, v.value, *A, **v.kw)
            ga = np.asarray(ga.value if type(ga) is Tensor else ga)
            if ga.shape != uj.shape:
                ga = np.asarray(fit_cotangent(ga, uj, v.op, k))
            total = ga if total is None else total + ga
        return np.zeros(uj.shape, float_dtype(uj)) if total is None else total

    # ----- paths and the path theorem ------------------------------------------
    def count_paths(self, j, k):
        """|P(j, k)|, the number of directed paths from j to k, by dynamic programming.

        Example:
            >>> from chainrule.graph import trace
            >>> trace(lambda u1, u2: u2 * (u1 + u2), 2.0, 3.0).count_paths(2, 4)
            2
        """
        return self._path_counts(j, k)[0]

    def _path_counts(self, j, k):
        """N[v - j] = number of paths from v to k, for j <= v <= k (Python ints: exact)."""
        self._check_vertex(j, "j")
        self._check_vertex(k, "k")
        if j > k:
            return [0]
        N = [0] * (k - j + 1)
        N[k - j] = 1
        for v in range(k - 1, j - 1, -1):
            s = 0
            for c in self.vertices[v - 1].children:  # increasing
                if c > k:
                    break
                s += N[c - j]
            N[v - j] = s
        return N

    def _refuse(self, count, j, k, limit, what):
        if limit is not None and count > limit:
            raise TooManyPathsError(
                f"{what}: there are {count} directed paths from {j} to {k}, more than "
                f"limit={limit} (graph.PATH_LIMIT = {PATH_LIMIT}), too many to list one by "
                f"one. g.path_sum({j}, {k}, method='dp') gives the same sum by dynamic "
                f"programming (the backward pass with matrices); g.count_paths({j}, {k}) "
                f"counts them; or pass a larger limit=.", count)

    def paths(self, j, k, limit=PATH_LIMIT):
        """P(j, k): every directed path from j to k, each as a list of vertex indices.

        Counts the paths first and refuses (``TooManyPathsError``, with the
        count) beyond ``limit``. ``paths(k, k)`` is ``[[k]]`` (see the module
        docstring).

        Example:
            >>> from chainrule.graph import trace
            >>> trace(lambda u1, u2: u2 * (u1 + u2), 2.0, 3.0).paths(2, 4)
            [[2, 3, 4], [2, 4]]
        """
        N = self._path_counts(j, k)
        self._refuse(N[0], j, k, limit, "paths")
        if N[0] == 0:
            return []
        if j == k:
            return [[k]]

        def onward(v):  # children of v from which k can be reached
            return iter([c for c in self.vertices[v - 1].children if c <= k and N[c - j]])

        found, path, stack = [], [j], [onward(j)]
        while stack:  # depth-first, iterative: no recursion however long the paths
            c = next(stack[-1], None)
            if c is None:
                stack.pop()
                path.pop()
            elif c == k:
                found.append(path + [k])
            else:
                path.append(c)
                stack.append(onward(c))
        return found

    def path_sum(self, j, k, method="paths", limit=PATH_LIMIT):
        """The sum over paths p in P(j, k) of the product of D^{a->b} along p, (d_k x d_j).

        The right-hand side of the notes' theorem: for a leaf j it equals
        d u_k / d u_j, and path_sum(j, n) equals p_j of the backward pass.

        Args:
            method: "paths" lists the paths and multiplies the Jacobians along
                each (refusing beyond ``limit`` paths, with the count); "dp"
                computes the same sum by dynamic programming over the vertices
                (M_k = I, M_v = sum over children c of M_c D^{v->c}), fine for
                any number of paths.
            limit: most paths "paths" will list (default ``PATH_LIMIT``).

        Example:
            >>> from chainrule.graph import trace
            >>> g = trace(lambda u1, u2: u2 * (u1 + u2), 2.0, 3.0)
            >>> g.path_sum(2, 4)           # D^{2->4} + D^{3->4} D^{2->3} = 5 + 3 * 1
            array([[8.]])
        """
        if method not in ("paths", "dp"):
            raise ValueError(f"path_sum: method must be 'paths' or 'dp', got {method!r}")
        self._need_values()
        N = self._path_counts(j, k)
        uj, uk = self.vertices[j - 1].value, self.vertices[k - 1].value
        dt = np.result_type(float_dtype(uj), float_dtype(uk))
        if method == "paths":
            self._refuse(N[0], j, k, limit, "path_sum")
            total = np.zeros((uk.size, uj.size), dt)
            for path in self.paths(j, k, limit=None):
                prod = np.eye(uj.size, dtype=dt)
                for a, b in zip(path, path[1:]):
                    prod = self._jac(a, b) @ prod
                total += prod
            return total
        if N[0] == 0:
            return np.zeros((uk.size, uj.size), dt)
        M = {k: np.eye(uk.size, dtype=dt)}
        for v in range(k - 1, j - 1, -1):
            if N[v - j] == 0:
                continue
            acc = None
            for c in self.vertices[v - 1].children:
                if c > k:
                    break
                if N[c - j]:
                    t = M[c] @ self._jac(v, c)
                    acc = t if acc is None else acc + t
            M[v] = acc
        return M[j]

    # Showing a graph (g.explain(), g.explain_paths(), g.to_dot(), g.render(),
    # g.to_html() and Jupyter's display) is chainrule.explain's and
    # chainrule.page's work: they sit above this module in the layers and add
    # those methods to Graph when imported (``import chainrule`` does).

    # ----- building graphs by hand --------------------------------------------
    @classmethod
    def from_edges(cls, n, l, edges, functions, jacobians=None, names=None):
        """Build the notes' graph (n, l, E, f^i) by hand.

        Args:
            n, l: vertices 1..n, leaves 1..l (1 <= l < n).
            edges: the set E of pairs (j, i) with j < i and i > l.
            functions: {i: f^i} for every non-leaf i; f^i is a plain Python
                function of its parents' values in increasing vertex order, or
                a chainrule primitive (``cr.add``...), used with its own rules.
            jacobians: optional {(j, i): J^{j->i}}, each a (d_i x d_j) array or
                a function of the same arguments as f^i returning one. Edges
                without one get their Jacobian by running f^i on chainrule
                tensors (so f^i must use NumPy or chainrule operations).
            names: optional {i: name} (or a sequence of n names).

        The graph has no values until ``g.forward(u1, ..., ul)``.

        Example:
            >>> from chainrule.graph import Graph
            >>> g = Graph.from_edges(4, 2, [(1, 3), (2, 3), (2, 4), (3, 4)],
            ...                      {3: lambda u1, u2: u1 + u2, 4: lambda u2, u3: u2 * u3})
            >>> float(g.forward(2.0, 3.0))
            15.0
            >>> {i: float(p) for i, p in g.backward().items()}
            {1: 3.0, 2: 8.0, 3: 3.0, 4: 1.0}
        """
        b = check(n, l, edges, functions, jacobians, names)
        vertices = [Vertex(i, b.names.get(i, f"u{i}"), None) for i in range(1, b.l + 1)]
        for i in range(b.l + 1, b.n + 1):
            op = local_op(b.functions[i], i, b.parents[i], b.jacobians)
            vertices.append(Vertex(i, b.names.get(i, f"u{i}"), op,
                                   [Ref(j) for j in b.parents[i]]))
        g = cls(vertices, b.l)
        g._given = b.jacobians
        return g

    def _check_given_jacobians(self):
        """Evaluate every explicit Jacobian at the new values: a wrong shape fails now."""
        for (j, i), J in getattr(self, "_given", {}).items():
            v = self.vertices[i - 1]
            given_matrix(J, [self.vertices[p - 1].value for p in v.parents],
                          v.value, self.vertices[j - 1].value, j, i)

    # ----- checks -------------------------------------------------------------
    def _check_vertex(self, i, what):
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 1 <= i <= self.n:
            raise GraphError(f"{what} = {i!r} is not a vertex: vertices are numbered 1..{self.n}")

    def _check_edge(self, j, i):
        self._check_vertex(j, "j")
        self._check_vertex(i, "i")
        if j not in self.vertices[i - 1].parents:
            into = ", ".join(f"({p}, {i})" for p in self.vertices[i - 1].parents) or "none"
            raise GraphError(f"({j}, {i}) is not an edge of this graph; J^{{j->i}} exists only "
                             f"for edges (j, i) in E. Edges into {i}: {into}. For the derivative "
                             f"of u{i} with respect to u{j} along all paths, use "
                             f"g.path_sum({j}, {i}).")

    def _no_values_message(self):
        args = ", ".join(f"u{i}" for i in range(1, self.l + 1))
        return (f"this graph has no values yet: call g.forward({args}) with the values of "
                f"its {self.l} leaves first")

    def _need_values(self):
        if not self._valued:
            raise GraphError(self._no_values_message())


# ----- tracing ---------------------------------------------------------------------
def trace(f, *args, **kwargs):
    """Record one evaluation of ``f(*args, **kwargs)`` as a ``Graph``.

    Each entry of ``args`` (arrays, floats, or nested dict/list/tuple of them)
    becomes a leaf, in order, named after f's parameters; every operation on
    them that leads to the result becomes a vertex, in creation order; the
    result is vertex n. Keyword arguments, numbers and arrays that are not
    arguments are constants folded into the local functions.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.graph import trace
        >>> g = trace(lambda W, x: cr.sum(cr.tanh(W @ x)), np.ones((2, 3)), np.ones(3))
        >>> g.n, g.l, g.edges, g.dims
        (5, 2, [(1, 3), (2, 3), (3, 4), (4, 5)], {1: 6, 2: 3, 3: 2, 4: 2, 5: 1})
        >>> [v.name for v in g.vertices], g[3].op.name
        (['W', 'x', 'u3', 'u4', 'u5'], 'matmul')
    """
    from .pytree import flatten, unflatten
    pnames = _param_names(f, len(args))
    flat_args, defs, leaf_names = [], [], []
    for a, pname in zip(args, pnames):
        flat, tdef = flatten(a)
        flat_args.append(flat)
        defs.append(tdef)
        leaf_names.extend(_leaf_names(a, pname))
    with Transform() as tr:
        leaves, targs = [], []
        for flat, tdef in zip(flat_args, defs):
            # integer and boolean arguments (labels, indices, masks) keep their type:
            # vertices without a derivative, as the notes' label y
            ls = [leaf(v, requires_grad=v.dtype.kind in "fc", keep_type=True)
                  for v in map(_leaf_value, flat)]
            leaves.extend(ls)
            targs.append(unflatten(tdef, ls))
        out = f(*targs, **kwargs)
        tape = list(tr.vertices())
    fname = getattr(f, "__name__", "f")
    if isinstance(out, (dict, list, tuple)):
        raise GraphError(f"trace: {fname} must return a single array (the output vertex n); "
                         f"it returned a {type(out).__name__}. Trace one output at a time, or "
                         f"combine them (e.g. cr.sum of the losses).")
    leafset = set(leaves)
    if type(out) is Tensor and out in leafset:
        raise GraphError(f"trace: {fname} returns one of its arguments unchanged, so the output "
                         f"would be a leaf; the notes' graphs need at least one operation "
                         f"(l < n)")
    if type(out) is not Tensor or not out.requires_grad or out.op is None:
        raise GraphError(f"trace: the output of {fname} does not depend on its arguments, so "
                         f"there is no graph from the leaves to it. Use chainrule/NumPy "
                         f"operations on the arguments (math.* and float() drop the graph).")
    # Vertices that lead to the output (tape entries without an op that are not
    # our leaves belong to nested transforms: to us they are constants).
    on_tape = {t for t in tape if t.op is not None}
    needed = {out}
    stack = [out]
    while stack:
        for a in stack.pop().args:
            if type(a) is Tensor and a in on_tape and a not in needed:
                needed.add(a)
                stack.append(a)
    order = leaves + [t for t in tape if t in needed]
    index = {t: i for i, t in enumerate(order, 1)}
    copies = {}
    vertices = []
    for i, t in enumerate(order, 1):
        if i <= len(leaves):
            name = leaf_names[i - 1]
            vertices.append(Vertex(i, name, None, value=t.value))
            continue
        cargs = [_Ref(index[a]) if type(a) is Tensor and a in index
                 else _constant(a, copies) for a in t.args]
        vertices.append(Vertex(i, t.name or f"u{i}", t.op, cargs, t.kw, t.value))
    return Graph(vertices, len(leaves), fixed_shapes=True)


def _constant(a, copies):
    """A folded constant, copied once so that later changes by the caller cannot reach it."""
    if type(a) is Tensor:
        a = a.value
    if type(a) is np.ndarray:
        c = copies.get(id(a))
        if c is None:
            c = copies[id(a)] = (a, a.copy())
        return c[1]
    return a


def _param_names(f, nargs):
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in params[:nargs]]
        if len(params) < nargs and any(p.kind is p.VAR_POSITIONAL
                                       for p in inspect.signature(f).parameters.values()):
            names += [f"args[{k}]" for k in range(nargs - len(names))]
    except (TypeError, ValueError):
        names = []
    return names + [f"x{k + 1}" for k in range(len(names), nargs)]


def _leaf_names(tree, prefix):
    """Names of a pytree's leaves, in pytree.flatten's order (dict keys sorted)."""
    if isinstance(tree, dict):
        return [n for k in sorted(tree) for n in _leaf_names(tree[k], f"{prefix}[{k}]")]
    if isinstance(tree, (list, tuple)):
        return [n for k, t in enumerate(tree) for n in _leaf_names(t, f"{prefix}[{k}]")]
    if type(tree) is Tensor and tree.name:
        return [tree.name]
    return [prefix]


def _leaf_value(x):
    """A leaf's value: a copy, floating point unless it holds integers or booleans."""
    x = x.value if type(x) is Tensor else x
    v = np.asarray(x)
    if v.dtype.kind not in "iub":
        v = differentiable_array(v, "trace")
    return np.array(v, copy=True)


