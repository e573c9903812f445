"""Showing a Graph: the passes as text, Graphviz DOT, SVG/PNG files, SVG for Jupyter.

- ``explain(g)``: the forward pass (u_i = f^i(A^i) with values) and the
  backward pass (p_j = sum over children i of p_i J^{j->i} with the numbers),
  in the notes' notation; summarised beyond ``max_vertices`` vertices.
- ``explain_paths(g, j, k)``: the path theorem for one pair: every path, the
  product of Jacobians along it, their sum.
- ``to_dot(g)``: Graphviz source, with d_i, u_i and p_i on each vertex and
  J^{j->i} on each edge (its value when it is 1 x 1).
- ``render(g, path)``: runs Graphviz's ``dot``; without it, says how to
  install it (``GraphvizNotFound``).
- ``repr_svg``: Jupyter's SVG display (the interactive page, ``g.to_html()``
  and Jupyter's HTML display, is ``chainrule.page``).

This module sits above ``graph.py`` in the layers: it imports the graph, and
adds these as methods to ``Graph`` (``g.explain()``, ``g.explain_paths(j, k)``,
``g.to_dot()``, ``g.render(path)``, ``g._repr_svg_()``); ``graph.py`` imports
nothing from here.

Numbers are printed with 6 significant digits; arrays with more than 12
entries are shown by their shape only.
"""
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np

from .errors import ChainruleError
from .graph import PATH_LIMIT, Graph, Ref

MAX_ENTRIES = 12     # arrays with more entries print as their shape
SVG_MAX_VERTICES = 300  # larger graphs are not drawn automatically in Jupyter


class GraphvizNotFound(ChainruleError, RuntimeError):
    """Graphviz's ``dot`` program is needed to draw a graph and is not installed."""


INSTALL_HINT = (
    "Install Graphviz: Debian/Ubuntu `sudo apt-get install graphviz`, Fedora "
    "`sudo dnf install graphviz`, macOS `brew install graphviz`, conda "
    "`conda install -c conda-forge graphviz`, Windows `winget install graphviz` (then open a "
    "new terminal so that `dot` is on PATH). Meanwhile g.to_dot() gives the DOT source and "
    "g.render('graph.dot') writes it; any Graphviz viewer draws it.")


# ----- numbers and formulas ----------------------------------------------------------
def fmt(a, max_entries=MAX_ENTRIES, digits=6):
    """A value for reading: '5', '0.333333', '[1, 2]', or '<array of shape (4, 3)>'."""
    if a is None:
        return "?"
    a = np.asarray(a)
    if a.size == 1:
        return num(a.reshape(()).item(), digits)
    if a.size <= max_entries:
        s = np.array2string(a, separator=", ", max_line_width=10**6,
                            formatter={"all": lambda x: num(x, digits)})
        return " ".join(s.split())  # one line, also for matrices
    return f"<array of shape {a.shape}>"


def num(x, digits=6):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, complex):
        return str(x)
    try:
        return f"{float(x) + 0.0:.{digits}g}"  # + 0.0: no "-0"
    except (TypeError, ValueError):
        return str(x)


def _const(c):
    """A folded constant, short."""
    if isinstance(c, np.ndarray):
        return fmt(c, 4) if c.size <= 4 else f"<array {c.shape}>"
    if isinstance(c, (int, float, np.number)):
        return num(c)
    r = repr(c)
    return r if len(r) <= 30 else r[:27] + "..."


def vertex_label(g, i):
    """'u3', or 'u3 (z)' when vertex 3 has a name of its own."""
    name = g.vertices[i - 1].name
    return f"u{i}" if name in (None, f"u{i}") else f"u{i} ({name})"


def local_function(v):
    """f^i as text: 'add(u1, u2)', 'power(u1, 3)', 'sum(u4, axis=0)', 'f^3(u1, u2)'."""
    if v.op is None:
        return "leaf"
    args = [f"u{a.j}" if type(a) is Ref else _const(a) for a in v.args]
    args += [f"{k}={_const(x)}" for k, x in v.kw.items()]
    return f"{v.op.name}({', '.join(args)})"


def call_order(v):
    """The parents of ``v`` in the order its operation takes them: add(u4, u1) -> [4, 1]."""
    order = []
    for a in v.args:
        if type(a) is Ref and a.j not in order:
            order.append(a.j)
    return order


def _fi(v):
    """'f^5(u4, u1)': f^i with its arguments in the order the program passed them."""
    return f"f^{v.index}({', '.join(f'u{j}' for j in call_order(v))})"


def messages(g):
    """{i: p_i} at the current values: the last backward pass, or one from p_n = 1 when
    d_n = 1; None when there is neither (no values, or a vector output never differentiated)."""
    if not g.has_values:
        return None
    if g._p is None and g.output.value.size == 1:
        g.backward()
    return g._p


def _shown(n, max_vertices):
    """Indices 1..n to show, with None where the elided stretch goes."""
    if max_vertices is None or n <= max_vertices:
        return list(range(1, n + 1))
    # A summary: the first and last few (the leaves and the output), not max_vertices lines.
    head = tail = max(min(10, max_vertices // 2), 1)
    return list(range(1, head + 1)) + [None] + list(range(n - tail + 1, n + 1))


# ----- explain -----------------------------------------------------------------------
def explain(g, max_vertices=40):
    """The forward and backward passes of ``g``, step by step, as text.

    Args:
        max_vertices: beyond this many vertices, only the first and last
            ones are written out (None: all of them).
    """
    n, l = g.n, g.l
    leaves = "u1" if l == 1 else f"u1..u{l}"
    lines = [f"Computational graph: n = {n} vertices, l = {l} leaves ({leaves}), output u{n}"]
    E = g.edges
    if max_vertices is None or len(E) <= 3 * max_vertices:
        lines.append("E = {" + ", ".join(f"({j}, {i})" for j, i in E) + "}")
    else:
        lines.append(f"|E| = {len(E)} edges")
    values = g.has_values
    if values:
        if max_vertices is None or n <= max_vertices:
            lines.append(", ".join(f"d{v.index} = {v.dim}" for v in g.vertices))
        else:
            c = Counter(v.dim for v in g.vertices)
            lines.append("d_i: " + ", ".join(f"{d} for {k} vertices" for d, k in sorted(c.items())))
    if max_vertices is not None and n > max_vertices:
        ops = Counter(v.op.name for v in g.vertices if v.op is not None)
        lines.append("operations: " + ", ".join(f"{name} x {k}" for name, k in ops.most_common()))
    shown = _shown(n, max_vertices)
    elided = f"  ... {n - sum(i is not None for i in shown)} vertices not shown " \
             f"(g.explain(max_vertices=None) shows all) ..."

    lines += ["", "Forward pass: for i = l+1..n, u_i = f^i(A^i), A^i = <u_j | j in pi(i)>"]
    for i in shown:
        if i is None:
            lines.append(elided)
            continue
        v = g.vertices[i - 1]
        val = f" = {fmt(v.value)}" if values else ""
        if v.op is None:
            lines.append(f"  {vertex_label(g, i)}{val}" + ("   (leaf)" if values else "   leaf"))
            continue
        how = local_function(v)
        how = "" if v.op.name == f"f^{i}" else f" = {how}"
        lines.append(f"  {vertex_label(g, i)} = {_fi(v)}{how}{val}")
    if not values:
        lines += ["", f"(no values yet: g.forward({', '.join(f'u{i}' for i in range(1, l + 1))}) "
                      f"computes them)"]
        return "\n".join(lines)

    p = messages(g)
    lines += ["", "Backward pass: p_n = 1; for j = n-1..1, "
                  "p_j = sum over children i (edges (j, i) in E) of p_i J^{j->i}"]
    if p is None:
        lines.append(f"  (u{n} has d_n = {g.output.dim} > 1, and the notes' backward pass starts "
                     f"from p_n = 1 for a scalar output: call g.backward(p_n=...) with a "
                     f"cotangent of shape {g.output.value.shape}, or read the Jacobians with "
                     f"g.jacobian(j, i) and g.path_sum(j, {n}).)")
        return "\n".join(lines)
    for i in reversed(shown):
        if i is None:
            lines.append(elided)
            continue
        if i == n:
            lines.append(f"  p{n} = {fmt(p[n])}" + ("" if g.output.dim == 1 else "   (given p_n)"))
            continue
        lines.append(backward_step(g, i, p))
    lines += ["", "For the leaves, d u_n / d u_j = p_j:"]
    lines += [f"  du{n}/du{j} = p{j} = {fmt(p[j])}" for j in range(1, l + 1) if j in shown]
    return "\n".join(lines)


def backward_step(g, j, p):
    """One line of the backward pass: '  p2 = p3 J^{2->3} + p4 J^{2->4} = 3 * 1 + 1 * 5 = 8'."""
    v = g.vertices[j - 1]
    if not v.children:
        return f"  p{j} = 0   (no children: u{g.n} does not depend on u{j})"
    names = " + ".join(f"p{i} J^{{{j}->{i}}}" for i in v.children)
    scalar = v.dim == 1 and all(g.vertices[i - 1].dim == 1 for i in v.children)
    if scalar:
        terms = " + ".join(f"{fmt(p[i])} * {fmt(g._jac(j, i))}" for i in v.children)
    else:
        terms = " + ".join(fmt(g.edge_vjp(j, i, p[i])) for i in v.children)
    if len(v.children) == 1 and not scalar:
        return f"  p{j} = {names} = {fmt(p[j])}"
    return f"  p{j} = {names} = {terms} = {fmt(p[j])}"


def explain_paths(g, j, k, max_paths=20):
    """The notes' path theorem for (j, k): each path in P(j, k), its product, the sum."""
    count = g.count_paths(j, k)
    lines = [f"Paths from {j} to {k}: |P({j}, {k})| = {count}"]
    if count > PATH_LIMIT:
        total = g.path_sum(j, k, method="dp")
        lines.append(f"  (too many to list; by dynamic programming the sum is {fmt(total)})")
        return "\n".join(lines)
    scalar = all(v.dim == 1 for v in g.vertices)
    sums = []
    for path in g.paths(j, k)[:max_paths]:
        edges = list(zip(path, path[1:]))
        Ds = " ".join(f"D^{{{a}->{b}}}" for a, b in reversed(edges)) or "I (empty path)"
        prod = np.eye(g.vertices[j - 1].dim)
        for a, b in edges:
            prod = g._jac(a, b) @ prod
        sums.append(prod)
        factors = " * ".join(fmt(g._jac(a, b)) for a, b in reversed(edges))
        how = f" = {factors}" if scalar and len(edges) > 1 else ""
        lines.append(f"  {' -> '.join(map(str, path))}:  {Ds}{how} = {fmt(prod)}")
    if count > max_paths:
        lines.append(f"  ... {count - max_paths} more paths")
    total = g.path_sum(j, k)
    parts = " + ".join(fmt(s) for s in sums) if scalar and 1 < count <= max_paths else None
    lines.append(f"Sum over paths = {parts + ' = ' if parts else ''}{fmt(total)}")
    if k == g.n and g.output.dim == 1:
        p = messages(g)
        ok = np.allclose(total.reshape(p[j].shape), p[j])
        lines.append(f"Backward pass: p{j} = {fmt(p[j])}   "
                     f"({'equal, as the theorem says' if ok else 'DIFFERENT: a rule is wrong'})")
    return "\n".join(lines)


# ----- Graphviz ----------------------------------------------------------------------
def _q(s):
    """A DOT double-quoted string (newlines become DOT's centred line breaks)."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(g):
    """Graphviz DOT source of ``g``: values and p_j on each vertex, J^{j->i} on each edge."""
    values = g.has_values
    p = messages(g) if values else None
    out = ["digraph chainrule {",
           "  rankdir=LR;",
           '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", '
           'fontname="Helvetica", fontsize=11];',
           '  edge [fontname="Helvetica", fontsize=10];']
    for v in g.vertices:
        i = v.index
        head = vertex_label(g, i) + ("  leaf" if v.op is None else f" = {local_function(v)}")
        label = [head]
        if values:
            label += [f"d = {v.dim}", f"u = {fmt(v.value, 6, 4)}"]
            if p is not None:
                label.append(f"p = {fmt(p[i], 6, 4)}")
        attrs = [f"label={_q(chr(10).join(label))}"]
        if v.op is None:
            attrs += ["shape=ellipse", 'fillcolor="#e8f0fe"']
        if i == g.n:
            attrs += ["peripheries=2", 'fillcolor="#fff4e0"']
        out.append(f"  u{i} [{', '.join(attrs)}];")
    for j, i in g.edges:
        label = f"J^{{{j}->{i}}}"
        if values:
            di, dj = g.vertices[i - 1].dim, g.vertices[j - 1].dim
            label += f" = {fmt(g._jac(j, i), digits=4)}" if di * dj == 1 else f"  ({di} x {dj})"
        out.append(f"  u{j} -> u{i} [label={_q(label)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def dot_program():
    """The path of Graphviz's ``dot``, or None."""
    return shutil.which("dot")


def _run_dot(source, fmt_, outfile=None, timeout=120):
    dot = dot_program()
    if dot is None:
        raise GraphvizNotFound(f"Graphviz's `dot` program was not found on PATH, so the graph "
                               f"cannot be drawn as {fmt_}. " + INSTALL_HINT)
    cmd = [dot, f"-T{fmt_}"] + (["-o", str(outfile)] if outfile is not None else [])
    r = subprocess.run(cmd, input=source.encode(), capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"dot -T{fmt_} failed (exit {r.returncode}): "
                           f"{r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def render(g, path, format=None):
    """Write ``g`` to ``path``: DOT source for '.dot'/'.gv', else drawn by Graphviz's ``dot``.

    Args:
        path: the output file; its extension picks the format (svg, png, pdf...).
        format: overrides the extension.

    Returns:
        the path written, as a string.

    Raises:
        GraphvizNotFound: ``dot`` is not installed (the message says how to install it).
    """
    path = Path(path)
    fmt_ = (format or path.suffix.lstrip(".") or "svg").lower()
    source = to_dot(g)
    if fmt_ in ("dot", "gv"):
        path.write_text(source)
    else:
        _run_dot(source, fmt_, path)
    return str(path)


def to_svg(g):
    """The graph drawn as SVG text (needs Graphviz's ``dot``)."""
    return _run_dot(to_dot(g), "svg").decode()


def repr_svg(g):
    """Jupyter's SVG display: None (no picture) without ``dot`` or for very large graphs."""
    if g.n > SVG_MAX_VERTICES or dot_program() is None:
        return None
    try:
        return to_svg(g)
    except (RuntimeError, OSError, subprocess.SubprocessError):
        return None


__all__ = ["GraphvizNotFound", "explain", "explain_paths", "to_dot", "render", "to_svg",
           "repr_svg", "fmt", "num", "local_function", "call_order", "messages",
           "backward_step", "vertex_label"]


# The Graph methods that show a graph (see the module docstring for why they are added here).
Graph.explain = explain
Graph.explain_paths = explain_paths
Graph.to_dot = to_dot
Graph.render = render
Graph._repr_svg_ = repr_svg
