"""The notes, interactive: one self-contained HTML page that steps through both passes.

``to_html(g, path=None)`` (also ``g.to_html(path)``) returns the page, and writes it
when given a path. The page has everything inline (its CSS, its script, the graph as
SVG and the numbers as JSON), so it works from ``file://`` offline and no request
leaves it. Jupyter shows the same page in a sandboxed frame (``g._repr_html_()``).

On the page: the graph left to right in vertex order (laid out by Graphviz, else by
networkx's layers; see ``layout``), buttons and the arrow keys to step through the
forward pass (one step per vertex, u_i = f^i(A^i)) and the backward pass (one step
per edge, p_j += p_i J^{j->i}), a narration line, and a details panel: click a vertex
for f^i, pi(i), d_i, u_i, p_i, the sum over its children and its paths to n with
their products; click an edge for J^{j->i}.

A stable contract for tests and scripts: each vertex element has ``data-vertex="i"``,
each edge ``data-edge="j-i"``, the controls ``data-action="next|prev|play|reset"``
(and ``zoom-in|zoom-out|fit``), the narration ``data-role="narration"``, the panel
``data-role="details"``.

This module sits above ``graph`` and ``explain``: importing it adds ``to_html`` and
``_repr_html_`` to ``Graph``.
"""
import html
import json
import re
from importlib import resources

from ..explain import explain
from ..graph import Graph
from .data import page_data
from . import layout

__all__ = ["to_html", "repr_html", "page_data"]


def _asset(name):
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _box_lines(v):
    """The text a vertex's box shows (before values): ['u3 z', 'f3 add']."""
    name = v["name"]
    first = f"u{v['i']}" + (f" {name}" if name else "")
    second = "leaf" if v["leaf"] else f"f{v['i']} {v['op']}".replace(f" f^{v['i']}", "")
    return [first, second, "u = " + (v["box"][0] if v.get("box") else ""),
            "p = " + (v["box"][1] if v.get("box") else "") + " .."]  # + the script's " \u2713"


def _svg(g, data, engine):
    """The graph as SVG: one <g data-vertex> per vertex and one <g data-edge> per edge."""
    e = html.escape
    widths = {v["i"]: layout.box_width(_box_lines(v)) for v in data["vertices"]}
    lay = layout.layout(g, widths, engine)
    out = [f'<svg class="graph" data-engine="{lay["engine"]}" data-width="{lay["width"]:.0f}" '
           f'data-height="{lay["height"]:.0f}" viewBox="0 0 {lay["width"]:.0f} '
           f'{lay["height"]:.0f}" role="group" aria-label="the computational graph: '
           f'{g.n} vertices, {len(g.edges)} edges">',
           '<defs><marker id="cr-arrow" viewBox="0 0 10 10" refX="1" refY="5" '
           'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#6b7385"/></marker></defs>',
           '<g class="viewport"><g class="edges">']
    for ed in data["edges"]:
        j, i = ed["j"], ed["i"]
        d = lay["edges"][(j, i)]
        out.append(f'<g class="edge" data-edge="{j}-{i}" tabindex="0" role="button" '
                   f'aria-label="edge ({j}, {i}): J^{{{j}-&gt;{i}}}">'
                   f'<path class="hit" d="{d}"/><path class="line" d="{d}" '
                   f'marker-end="url(#cr-arrow)"/></g>')
    out.append('</g><g class="vertices">')
    for v in data["vertices"]:
        i = v["i"]
        x, y = lay["nodes"][i]
        w = widths[i]
        kind = "leaf" if v["leaf"] else ("output" if i == g.n else "inner")
        name = f' <tspan class="name">{e(v["name"])}</tspan>' if v["name"] else ""
        op = "" if v["op"] == f"f^{i}" else f" {e(v['op'])}"  # a hand-written f^i has no name
        second = ("leaf" if v["leaf"] else
                  f'f<tspan class="sup" dy="-5">{i}</tspan><tspan dy="5">{op}</tspan>')
        label = f"vertex {i}: u{i}" + (f" ({v['name']})" if v["name"] else "") + \
                (", a leaf" if v["leaf"] else f", f^{i} = {v['op']}") + \
                (", the output" if i == g.n else "")
        out.append(
            f'<g class="vertex {kind}" data-vertex="{i}" transform="translate({x:.1f},{y:.1f})" '
            f'tabindex="0" role="button" aria-label="{e(label)}">'
            f'<rect x="{-w / 2:.1f}" y="{-layout.BOX_H / 2}" width="{w}" '
            f'height="{layout.BOX_H}" rx="9"/>'
            f'<text class="t1" y="-19">u<tspan class="sub" dy="4">{i}</tspan>'
            f'<tspan dy="-4">{name}</tspan></text>'
            f'<text class="t2" y="-2">{second}</text>'
            f'<text class="tu" data-role="u" y="15"></text>'
            f'<text class="tp" data-role="p" y="31"></text></g>')
    out.append("</g></g></svg>")
    return "\n".join(out), lay["engine"]


def _title_text(text):
    """``text`` without a leading title line and its ==== underline (shown once, as <h1>)."""
    lines = text.splitlines()
    if len(lines) > 1 and lines[1] and set(lines[1]) <= {"=", "-"}:
        lines = lines[2:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return "\n".join(lines)


def to_html(g, path=None, title=None, text=None, engine="auto"):
    """The interactive page of ``g`` as a string; written to ``path`` when given.

    Args:
        path: a file to write the page to (UTF-8).
        title: the page's heading (default: a summary of the graph).
        text: the walkthrough shown as text under the picture (default ``g.explain()``).
        engine: the layout: "auto" (Graphviz when installed, else networkx, else
            the built-in layers), "dot", "networkx" or "layers".

    Example:
        >>> import chainrule as cr
        >>> page = cr.trace(lambda u1, u2: u2 * (u1 + u2), 2.0, 3.0).to_html()
        >>> page.startswith("<!DOCTYPE html>"), 'data-vertex="4"' in page, 'data-edge="2-4"' in page
        (True, True, True)
    """
    e = html.escape
    data = page_data(g)
    svg, used = _svg(g, data, engine)
    title = title or f"Computational graph: n = {g.n}, l = {g.l}"
    text = _title_text(explain(g) if text is None else text)
    # No "<" inside the <script> element (a "</script>" or "<!--" in a name would end
    # or confuse it): JSON writes it as \u003c, which parses back to "<".
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    where = {"dot": "Graphviz", "networkx": "networkx (layers by topological generation)",
             "layers": "layers by vertex order"}[used]
    leaves = "u1" if g.l == 1 else f"u1..u{g.l}"
    summary = (f"n = {g.n} vertices, l = {g.l} leaves ({leaves}), |E| = {len(g.edges)} edges, "
               f"output u{g.n}. Drawn left to right in vertex order; layout by {where}.")
    if not data["values"]:
        summary += " No values yet: call g.forward(...) before g.to_html() to step through."
    parts = {"title": e(title), "summary": e(summary), "css": _asset("page.css"), "svg": svg,
             "text": e(text), "data": blob, "js": _asset("page.js")}
    # one pass over the template: what is filled in is never searched for {{...}} again
    page = re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], _asset("page.html"))
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(page)
    return page


def repr_html(g, height=640):
    """Jupyter's display: the page inside a sandboxed frame (its script and styles kept apart)."""
    page = to_html(g)
    return (f'<iframe class="chainrule-page" srcdoc="{html.escape(page, quote=True)}" '
            f'sandbox="allow-scripts" title="chainrule graph: n = {g.n}" '
            f'style="width: 100%; height: {height}px; border: 1px solid #ddd;"></iframe>')


# The Graph methods of this layer (see the module docstring).
Graph.to_html = to_html
Graph._repr_html_ = repr_html
