"""What the page shows, computed once in Python: the steps of both passes and each
vertex's and edge's details, as plain JSON-ready data with the numbers already written.

The text follows ``chainrule.explain`` (same notation, same number format), so the page
and ``g.explain()`` never disagree. Big arrays are shortened (``short``) and big
Jacobians are never formed (``JAC_MAX_ENTRIES``): the backward pass does not need them.
"""
import numpy as np

from .. import ops
from ..explain import (backward_step, call_order, fmt, local_function, messages, num,
                       vertex_label)
from ..graph import Ref

JAC_MAX_ENTRIES = 250_000   # larger J^{j->i} are not formed (the backward pass never needs them)
TABLE_MAX = 8               # rows and columns of a Jacobian table shown
PATHS_LISTED = 12           # paths to n listed one by one in a vertex's details
ELL, TIMES, ARROW = "\u2026", "\u00d7", "\u2192"


def short(a, k=4):
    """A value in a few characters: '5', '[1, 2, 3]', '[0.1, 0.2, ..., 0.9] (12 entries)'."""
    if a is None:
        return "?"
    a = np.asarray(a)
    if a.size == 1:
        return num(a.reshape(()).item(), 4)
    if a.size == 0:
        return f"[] (shape {a.shape})"
    if a.ndim == 1:
        if a.size <= k + 1:
            return "[" + ", ".join(num(x, 4) for x in a) + "]"
        return ("[" + ", ".join(num(x, 4) for x in a[:k - 1]) + f", {ELL}, {num(a[-1], 4)}]"
                f" ({a.size} entries)")
    if a.ndim == 2 and a.shape[0] <= 3 and a.shape[1] <= 3:
        return "[" + ", ".join(short(r) for r in a) + "]"
    first = ", ".join(num(x, 4) for x in a.reshape(-1)[:3])
    return f"[{first}, {ELL}] ({f' {TIMES} '.join(map(str, a.shape))})"


def tiny(a):
    """A value small enough for a vertex's box: '5', '[1, 2]', '4-vector', '4×3'."""
    a = np.asarray(a)
    if a.size == 1:
        return num(a.reshape(()).item(), 4)
    if a.ndim == 1 and a.size <= 2:
        return "[" + ", ".join(num(x, 3) for x in a) + "]"
    if a.ndim == 1:
        return f"{a.size}-vector"
    return TIMES.join(map(str, a.shape)) if a.size else "empty"


def _label(g, a, values):
    """An input of an operation: 'u3' for a vertex, its value for a constant."""
    if type(a) is Ref:
        return short(g.vertices[a.j - 1].value) if values else f"u{a.j}"
    return fmt(a, 4) if isinstance(a, np.ndarray) and a.size <= 4 else short(a)


def _with_numbers(g, v):
    """f^i's call with the numbers in: 'add(2, 3)'."""
    args = [_label(g, a, True) for a in v.args] + [f"{k}={short(x)}" for k, x in v.kw.items()]
    return f"{v.op.name}({', '.join(args)})"


def _formula(v):
    """'u3 = f^3(u1, u2) = add(u1, u2)', or 'u3 = f^3(u1, u2)' for a hand-written f^3."""
    fi = f"f^{v.index}({', '.join(f'u{j}' for j in call_order(v))})"
    how = local_function(v)
    return f"u{v.index} = {fi}" + ("" if v.op.name == f"f^{v.index}" else f" = {how}")


# J^{j->i} by formula for the elementwise primitives, in the notes' letters. Each entry:
# op name -> function(position k of u_j among the op's inputs, labels of the inputs, i).
def _power(k, a, i):
    if k != 0:
        return None
    try:
        c = float(a[1])
    except (TypeError, ValueError):
        return None
    return f"{num(c)} {a[0]}" if c == 2 else f"{num(c)} {a[0]}^{num(c - 1)}"


_SYMBOLIC = {
    "add": lambda k, a, i: "1",
    "subtract": lambda k, a, i: "1" if k == 0 else "-1",
    "multiply": lambda k, a, i: a[1 - k],
    "divide": lambda k, a, i: f"1/{a[1]}" if k == 0 else f"-{a[0]}/{a[1]}^2",
    "negative": lambda k, a, i: "-1",
    "power": _power,
    "square": lambda k, a, i: f"2 {a[0]}",
    "exp": lambda k, a, i: f"exp({a[0]}) = u{i}",
    "log": lambda k, a, i: f"1/{a[0]}",
    "sqrt": lambda k, a, i: f"1/(2 u{i})",
    "tanh": lambda k, a, i: f"1 - u{i}^2",
    "sigmoid": lambda k, a, i: f"u{i} (1 - u{i})",
    "sin": lambda k, a, i: f"cos({a[0]})",
    "cos": lambda k, a, i: f"-sin({a[0]})",
}


def symbolic(g, j, i):
    """J^{j->i} as a formula ('u3', '3 u1^2', 'diag(1 - u7^2)'), or None when not simple.

    Only for chainrule's own elementwise primitives, u_j used once, and no broadcasting
    (every input a vertex of u_i's shape, or a number), where J is that derivative
    (times the identity when d_i > 1).
    """
    v = g.vertices[i - 1]
    name = getattr(v.op, "name", None)
    if name not in _SYMBOLIC or getattr(ops, name, None) is not v.op:
        return None
    refs = [k for k, a in enumerate(v.args) if type(a) is Ref and a.j == j]
    if len(refs) != 1 or v.kw:
        return None
    for a in v.args:
        shape = g.vertices[a.j - 1].value.shape if type(a) is Ref else np.shape(a)
        if shape != v.value.shape and (type(a) is Ref or np.size(a) != 1):
            return None
    labels = [f"u{a.j}" if type(a) is Ref else num(a) if np.size(a) == 1 else "c"
              for a in v.args]
    if len(labels) < 2 and name in ("add", "subtract", "multiply", "divide", "power"):
        return None
    expr = _SYMBOLIC[name](refs[0], labels, i)
    if expr is None:
        return None
    return expr if v.value.size == 1 else f"diag({expr})"


def _small(g, j, i):
    return g.vertices[i - 1].value.size * g.vertices[j - 1].value.size <= JAC_MAX_ENTRIES


def _jac(g, j, i):
    """J^{j->i} when it is small enough to form, else None."""
    return g._jac(j, i) if _small(g, j, i) else None


def _edges_below(g, j):
    """The edges on paths from j onwards: those out of j and out of its descendants."""
    below, edges = {j}, []
    for v in g.vertices[j - 1:]:
        if v.index in below:
            for c in v.children:
                below.add(c)
                edges.append((v.index, c))
    return edges


def _table(J):
    """The top-left corner of J, as rows of strings, and a note when it is cut."""
    r, c = J.shape
    rows = [[num(x, 4) for x in row[:TABLE_MAX]] for row in J[:TABLE_MAX]]
    note = None
    if r > TABLE_MAX or c > TABLE_MAX:
        note = (f"showing {min(r, TABLE_MAX)} of {r} rows and {min(c, TABLE_MAX)} of {c} "
                f"columns (g.jacobian({{j}}, {{i}}) gives all of it)")
    return rows, note


def page_data(g):
    """The page's model of ``g``: vertices, edges, steps. Plain lists, dicts and strings."""
    values = g.has_values
    p = messages(g) if values else None
    n, l = g.n, g.l
    vertices = []
    for v in g.vertices:
        d = {"i": v.index, "name": v.name if v.name not in (None, f"u{v.index}") else "",
             "leaf": v.op is None, "op": "leaf" if v.op is None else v.op.name,
             "parents": list(v.parents), "children": list(v.children),
             "formula": "leaf (an input)" if v.op is None else _formula(v),
             "u": short(v.value) if values else None, "p": short(p[v.index]) if p else None,
             "box": [tiny(v.value) if values else "", tiny(p[v.index]) if p else ""],
             "d": v.dim if values else None,
             "shape": list(v.value.shape) if values else None}
        vertices.append(d)
    edges = [{"j": j, "i": i} for j, i in g.edges]
    data = {"n": n, "l": l, "values": values, "backward": p is not None,
            "vertices": vertices, "edges": edges, "steps": []}
    if values:
        for e in edges:
            e.update(_edge_details(g, e["j"], e["i"], p))
        for d in vertices:
            d.update(_vertex_details(g, d["i"], p))
        data["steps"] = _steps(g, p)
    return data


def _edge_details(g, j, i, p):
    di, dj = g.vertices[i - 1].dim, g.vertices[j - 1].dim
    J = _jac(g, j, i)
    out = {"title": f"J^{{{j}->{i}}} = \u2202u{i}/\u2202u{j} = "
                    f"\u2202f^{i}/\u2202u{j} at A^{i}, a ({di} \u00d7 {dj}) matrix",
           "symbolic": symbolic(g, j, i), "J": None, "table": None, "note": None,
           "term": None}
    if J is None:
        out["note"] = (f"J^{{{j}->{i}}} has {di} \u00d7 {dj} = {di * dj:,} entries and is not "
                       f"formed here; the backward pass never forms it either: it computes "
                       f"p{i} J^{{{j}->{i}}} with the op's rule.")
    else:
        out["J"] = num(J[0, 0], 6) if J.size == 1 else short(J)
        out["table"], cut = _table(J)
        if cut:
            out["note"] = cut.format(j=j, i=i)
    if p is not None:
        term = g.edge_vjp(j, i, p[i])
        scalar = di == 1 and dj == 1 and J is not None
        how = f"{fmt(p[i])} * {fmt(J)} = " if scalar else ""
        out["term"] = f"p{i} J^{{{j}->{i}}} = {how}{short(term)}   (this edge's term in p{j})"
    return out


def _vertex_details(g, j, p):
    v = g.vertices[j - 1]
    out = {"title": f"Vertex {j}: {vertex_label(g, j)}"
                    + ("   (the output, n)" if j == g.n else ""),
           "sum": None, "paths": [], "pathsum": None}
    if p is None:
        return out
    out["sum"] = backward_step(g, j, p).strip() if j < g.n else f"p{g.n} = 1   (p_n = 1)"
    count = g.count_paths(j, g.n)
    dims = all(_small(g, a, b) for a, b in _edges_below(g, j))
    listed = _first_paths(g, j, PATHS_LISTED)
    scalar = all(x.dim == 1 for x in g.vertices)
    products = []
    for path in listed:
        edges = list(zip(path, path[1:]))
        Ds = [f"D^{{{a}->{b}}}" for a, b in reversed(edges)]
        shown = list(map(str, path))
        if len(edges) > 8:  # a long path: its ends, and how long it is
            Ds = Ds[:3] + [ELL] + Ds[-2:] + [f"({len(edges)} factors)"]
            shown = shown[:3] + [ELL] + shown[-3:]
        text = f"{f' {ARROW} '.join(shown)}: {' '.join(Ds) or 'I (the empty path)'}"
        if dims:
            prod = np.eye(v.dim)
            for a, b in edges:
                prod = g._jac(a, b) @ prod
            products.append(prod)
            if scalar and 1 < len(edges) <= 8:  # the factors, when they are few numbers
                text += " = " + " * ".join(fmt(g._jac(a, b)) for a, b in reversed(edges))
            text += f" = {short(prod)}"
        out["paths"].append({"path": path, "text": text})
    more = f" (the first {len(listed)} of {count} paths are listed)" if count > len(listed) else ""
    if dims:
        total = g.path_sum(j, g.n, method="dp")
        parts = (" + ".join(short(s) for s in products) + " = "
                 if scalar and 1 < count == len(listed) else "")
        ok = np.allclose(total.reshape(p[j].shape), p[j])
        out["pathsum"] = (f"Sum over the {count} path{'s' * (count != 1)} from {j} to {g.n} = "
                          f"{parts}{short(total.reshape(p[j].shape))} = p{j}"
                          + ("  (equal, as the theorem says)" if ok else
                             "  (DIFFERENT: a rule is wrong)")
                          + more)
    else:
        its = "its" if count == 1 else "their"
        out["pathsum"] = (f"{count} path{'s' * (count != 1)} from {j} to {g.n}{more}; {its} "
                          f"Jacobians are too large to multiply here, and p{j} = {short(p[j])} "
                          f"is what {its} {'product' if count == 1 else 'sum'} comes to.")
    return out


def _first_paths(g, j, limit):
    """The first ``limit`` paths from j to n, in g.paths' order, without listing them all."""
    if j == g.n:
        return [[j]]
    found, path, stack = [], [j], [iter(g.vertices[j - 1].children)]
    while stack and len(found) < limit:  # depth-first, iterative; every child leads to n
        c = next(stack[-1], None)
        if c is None:
            stack.pop()
            path.pop()
        elif c == g.n:
            found.append(path + [c])
        else:
            path.append(c)
            stack.append(iter(g.vertices[c - 1].children))
    return found


def _steps(g, p):
    """One step per vertex forward, one per edge backward; each says what it does and shows."""
    n, l = g.n, g.l
    leaves = ", ".join(f"u{i} = {short(g.vertices[i - 1].value)}" for i in range(1, l + 1))
    steps = [{"kind": "start", "vertices": list(range(1, l + 1)), "edges": [],
              "set": {str(i): {"u": tiny(g.vertices[i - 1].value)} for i in range(1, l + 1)},
              "say": f"The leaves are given: {leaves}. Next: the forward pass, "
                     f"for i = {l + 1}..{n}: u_i = f^i(A^i)."}]
    for v in g.vertices[l:]:
        i = v.index
        steps.append({
            "kind": "forward", "vertices": [i], "edges": [[j, i] for j in v.parents],
            "set": {str(i): {"u": tiny(v.value)}},
            "say": f"Forward pass, vertex {i} of {n}: {_formula(v)} = {_with_numbers(g, v)} "
                   f"= {short(v.value)}"})
    if p is None:
        steps[-1]["say"] += (f". The backward pass starts from p_n = 1, which needs a scalar "
                             f"output; u{n} has d_n = {g.output.dim}: call "
                             f"g.backward(p_n=...) before g.to_html() to see it.")
        return steps
    lonely = [j for j in range(n - 1, 0, -1) if not g.vertices[j - 1].children]
    start = {str(n): {"p": tiny(p[n])}}
    start.update({str(j): {"p": "0", "final": True} for j in lonely})
    start[str(n)]["final"] = True
    say = (f"Backward pass: p{n} = {short(p[n])} (p_n = 1). Then for j = {n - 1}..1, "
           f"p_j = sum over children i of p_i J^{{j->i}}, one edge at a time.")
    if lonely:
        say += f" p{', p'.join(map(str, lonely))} = 0: no children."
    steps.append({"kind": "backward", "vertices": [n], "edges": [], "set": start, "say": say})
    for j in range(n - 1, 0, -1):
        children = g.vertices[j - 1].children
        acc = None
        for k, i in enumerate(children):
            term = g.edge_vjp(j, i, p[i])
            before = short(acc) if acc is not None else "0"
            acc = np.array(term) if acc is None else acc + term
            last = k == len(children) - 1
            now = p[j] if last else acc
            J = _jac(g, j, i)
            scalar = J is not None and J.size == 1
            how = f" = {fmt(p[i])} * {fmt(J)}" if scalar else ""
            say = (f"Backward pass, edge ({j}, {i}): p{j} += p{i} J^{{{j}->{i}}}{how} = "
                   f"{short(term)}")
            # the running sum; for a first array term, "0 + x = x" would only repeat it
            say += (f", so p{j} = {short(now)}" if k == 0 and not scalar else
                    f", so p{j} = {before} + {short(term)} = {short(now)}")
            if last:
                say += (f"  (all {len(children)} children of {j} done: p{j} is final)"
                        if len(children) > 1 else f"  (p{j} is final)")
            steps.append({"kind": "backward", "vertices": [j, i], "edges": [[j, i]],
                          "set": {str(j): {"p": tiny(now), "final": last}}, "say": say})
    leaves = ", ".join(f"du{n}/du{j} = p{j} = {short(p[j])}" for j in range(1, l + 1))
    steps[-1]["say"] += f". Done: {leaves}."
    return steps
