"""Where the page draws each vertex and edge: left to right in vertex order, as the notes do.

Graphviz's ``dot`` lays the graph out when it is installed (ranks left to right, few
crossings, curved edges around vertices) and the graph is not too big for it; otherwise
networkx's layered layout by topological generation places the columns, and without
networkx the same layering is computed here (a vertex's column is one more than its
parents' latest). Leaves are moved right up to the column before their first use, as in
the notes' feedforward figure, where V and gamma enter next to l. Edges that jump over
columns are drawn as arcs below the boxes.

Every layout returns the same thing: ``{"width", "height", "nodes": {i: (x, y)},
"edges": {(j, i): svg path data}, "engine"}``, coordinates in pixels, (x, y) the
centre of a box ``box_width(...)`` wide and ``BOX_H`` high.
"""
import shutil
import subprocess

BOX_H = 74          # pixels; four lines of text
CHAR_W = 8.0        # pixels per character of the box's widest line (13px monospace, some bold)
GAP_X, GAP_Y = 56, 22
MARGIN = 16
# dot's layout time grows steeply with long edges (a 300-vertex traced loop whose weight
# feeds every step: over two minutes; 180 vertices: 1.3 s; 120: 0.15 s): beyond this
# many vertices, or after DOT_TIMEOUT seconds, the layers are used instead.
DOT_MAX_VERTICES = 150
DOT_TIMEOUT = 10


def box_width(lines):
    """A vertex box's width for its lines of text."""
    return max(72, int(CHAR_W * max(len(s) for s in lines)) + 20)


def layout(g, widths, engine="auto"):
    """Positions for the vertices of ``g``; ``widths`` = {i: box width}.

    Args:
        engine: "dot", "networkx", "layers" or "auto" (the first available, in that order).
    """
    if engine == "dot" or (engine == "auto" and shutil.which("dot")
                           and g.n <= DOT_MAX_VERTICES):
        try:
            return _dot(g, widths)
        except (OSError, subprocess.SubprocessError, ValueError):
            if engine == "dot":
                raise
    if engine in ("auto", "networkx"):
        try:
            import networkx
        except ImportError:
            if engine == "networkx":
                raise
        else:
            return _place(g, widths, _networkx_columns(g, networkx), "networkx")
    return _place(g, widths, _columns(g), "layers")


# ----- Graphviz ----------------------------------------------------------------------
def _dot(g, widths):
    lines = ["digraph G {", "rankdir=LR; nodesep=0.3; ranksep=0.7;",
             "node [shape=box, fixedsize=true, label=\"\"];"]
    for v in g.vertices:
        lines.append(f"u{v.index} [width={widths[v.index] / 72:.3f}, height={BOX_H / 72:.3f}];")
    # Leaves in one column in order, as the notes list u1..ul first.
    lines.append("{rank=same; " + " ".join(f"u{i};" for i in range(1, g.l + 1)) + "}"
                 if _leaves_together(g) else "")
    lines += [f"u{j} -> u{i};" for j, i in g.edges] + ["}"]
    dot = shutil.which("dot")
    if dot is None:
        raise OSError("Graphviz's dot is not installed")
    r = subprocess.run([dot, "-Tplain"], input="\n".join(lines).encode(),
                       capture_output=True, timeout=DOT_TIMEOUT)
    if r.returncode != 0:
        raise ValueError(r.stderr.decode(errors="replace"))
    nodes, edges, height = {}, {}, 0.0
    for line in r.stdout.decode().splitlines():
        f = line.split()
        if f[0] == "graph":
            width, height = float(f[2]) * 72, float(f[3]) * 72
        elif f[0] == "node":
            nodes[int(f[1][1:])] = (float(f[2]) * 72 + MARGIN, height - float(f[3]) * 72 + MARGIN)
        elif f[0] == "edge":
            j, i, k = int(f[1][1:]), int(f[2][1:]), int(f[3])
            pts = [(float(f[4 + 2 * t]) * 72 + MARGIN, height - float(f[5 + 2 * t]) * 72 + MARGIN)
                   for t in range(k)]
            d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f} C" + " ".join(
                f"{x:.1f},{y:.1f}" for x, y in pts[1:])
            edges[(j, i)] = d
    return {"width": width + 2 * MARGIN, "height": height + 2 * MARGIN, "nodes": nodes,
            "edges": edges, "engine": "dot"}


def _leaves_together(g):
    # Only for small graphs: with many leaves (a network's parameters) dot's own ranks,
    # which put each leaf next to its use, read better.
    return g.l <= 3


# ----- layers --------------------------------------------------------------------------
def _columns(g):
    """Column of each vertex: 1 + its parents' latest; leaves just before their first use."""
    col = {}
    for v in g.vertices:
        col[v.index] = 1 + max((col[j] for j in v.parents), default=-1)
    return _late_leaves(g, col)


def _networkx_columns(g, nx):
    G = nx.DiGraph()
    G.add_nodes_from(range(1, g.n + 1))
    G.add_edges_from(g.edges)
    col = {i: k for k, gen in enumerate(nx.topological_generations(G)) for i in gen}
    return _late_leaves(g, col)


def _late_leaves(g, col):
    for v in g.leaves:
        if v.children:
            col[v.index] = max(col[v.index], min(col[c] for c in v.children) - 1)
    return col


def _place(g, widths, col, engine):
    """Columns left to right; in a column, vertices ordered by their parents' mean height."""
    ncol = max(col.values()) + 1
    members = [[] for _ in range(ncol)]
    for i in sorted(col):
        members[col[i]].append(i)
    colw = [max(widths[i] for i in m) if m else 0 for m in members]
    tallest = max(len(m) for m in members)
    height = tallest * (BOX_H + GAP_Y) - GAP_Y
    nodes, x = {}, MARGIN
    for c, m in enumerate(members):
        if m and c:  # one sweep of the barycentre heuristic: fewer crossings
            m.sort(key=lambda i: (_mean([nodes[j][1] for j in g.vertices[i - 1].parents
                                         if j in nodes]), i))
        top = MARGIN + (height - (len(m) * (BOX_H + GAP_Y) - GAP_Y)) / 2
        for k, i in enumerate(m):
            nodes[i] = (x + colw[c] / 2, top + k * (BOX_H + GAP_Y) + BOX_H / 2)
        x += colw[c] + GAP_X
    edges, bottom = {}, MARGIN + height
    for j, i in g.edges:
        (x0, y0), (x1, y1) = nodes[j], nodes[i]
        x0 += widths[j] / 2
        x1 -= widths[i] / 2 + 9  # room for the arrowhead
        span = col[i] - col[j]
        if span > 1:  # over other columns: an arc below the boxes, deeper the farther it goes
            low = MARGIN + height + 10 + 5 * min(span, 24)
            bottom = max(bottom, low)
            d = f"M{x0:.1f},{y0:.1f} C{x0 + GAP_X:.1f},{low:.1f} {x1 - GAP_X:.1f},{low:.1f} " \
                f"{x1:.1f},{y1:.1f}"
        else:
            dx = max((x1 - x0) / 2, 20)
            d = f"M{x0:.1f},{y0:.1f} C{x0 + dx:.1f},{y0:.1f} {x1 - dx:.1f},{y1:.1f} " \
                f"{x1:.1f},{y1:.1f}"
        edges[(j, i)] = d
    return {"width": x - GAP_X + MARGIN, "height": bottom + MARGIN, "nodes": nodes,
            "edges": edges, "engine": engine}


def _mean(xs):
    return sum(xs) / len(xs) if xs else 0.0
