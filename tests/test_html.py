"""The interactive page (chainrule.page): its content, and in a real browser (Playwright driving
Debian's Chromium) its stepping, details, paths, Jacobians, fit to the window, and isolation."""
import json
import os
import re
import shutil

import numpy as np
import pytest

import chainrule as cr
import chainrule.page  # noqa: F401  (adds Graph.to_html and Graph._repr_html_)
from chainrule import explain_cli
from chainrule.examples import EXAMPLES, feedforward, four_vertex
from chainrule.graph import Graph
from chainrule.page import layout as page_layout
from chainrule.page.data import page_data, short

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chain(k=200):
    """A traced program of about k vertices (for the 'big graph' checks)."""
    def f(x, w):
        for t in range(k // 2 - 1):
            x = cr.tanh(x * w) + 0.1 * t
        return cr.sum(x)
    return cr.trace(f, np.linspace(-1, 1, 3), np.array([0.5, 0.7, 0.9]))


# ----- the page as text ------------------------------------------------------------------------
def test_to_html_returns_the_page_and_writes_it(tmp_path):
    g = four_vertex().graph
    page = g.to_html()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    out = tmp_path / "four.html"
    assert g.to_html(out) == page == out.read_text(encoding="utf-8")
    assert g.to_html(str(out), title="mine").count("<h1>mine</h1>") == 1


def test_page_is_self_contained():
    page = feedforward().graph.to_html()
    # nothing fetched: no external script, style sheet, image, font or frame
    assert not re.search(r"""(?:src|href|xlink:href)\s*=\s*["'](?!data:|#)""", page)
    assert "@import" not in page and "url(http" not in page and "fetch(" not in page
    assert "<script src" not in page and "XMLHttpRequest" not in page
    assert '<link rel="icon" href="data:,">' in page    # no favicon request either


def test_data_contract():
    g = four_vertex().graph
    page = g.to_html()
    for i in range(1, 5):
        assert page.count(f'data-vertex="{i}"') == 1
    for j, i in g.edges:
        assert page.count(f'data-edge="{j}-{i}"') == 1
    for a in ("next", "prev", "play", "reset"):
        assert re.search(rf'<button type="button" data-action="{a}" aria-label="[A-Z]', page)
    html = page.split("<script")[0]
    assert html.count('data-role="narration"') == 1 and html.count('data-role="details"') == 1


def test_title_once_and_no_raw_markdown(tmp_path, capsys):
    out = tmp_path / "ff.html"
    assert explain_cli.main(["feedforward", "--html", str(out)]) == 0
    page = out.read_text()
    ex = feedforward()
    assert page.count(ex.title.replace("<", "&lt;")) == 2          # <title> and <h1>, not the text
    assert "=====" not in page and "`" not in page.split("<script")[0]
    assert f"Wrote {out}" in capsys.readouterr().out


def test_page_numbers_of_the_four_vertex_graph():
    d = page_data(four_vertex().graph)
    says = [s["say"] for s in d["steps"]]
    assert len(says) == 1 + 2 + 1 + 4               # start, one per vertex, p_n = 1, one per edge
    assert "u4 = f^4(u2, u3) = multiply(u2, u3) = multiply(3, 5) = 15" in says[2]
    assert [s["edges"] for s in d["steps"][4:]] == [[[3, 4]], [[2, 3]], [[2, 4]], [[1, 3]]]
    assert "p2 += p4 J^{2->4} = 1 * 5 = 5, so p2 = 3 + 5 = 8" in says[6]
    v2 = d["vertices"][1]
    assert v2["p"] == "8" and v2["sum"] == "p2 = p3 J^{2->3} + p4 J^{2->4} = 3 * 1 + 1 * 5 = 8"
    assert [p["path"] for p in v2["paths"]] == [[2, 3, 4], [2, 4]]
    assert "3 + 5 = 8 = p2" in v2["pathsum"]
    e24 = next(e for e in d["edges"] if (e["j"], e["i"]) == (2, 4))
    assert e24["symbolic"] == "u3" and e24["J"] == "5" and e24["table"] == [["5"]]


def test_symbolic_jacobians_only_where_they_hold():
    d = page_data(cr.trace(lambda x: (x ** 3) ** 2, 2.0))
    assert [e["symbolic"] for e in d["edges"]] == ["3 u1^2", "2 u2"]
    d = page_data(cr.trace(lambda x: cr.sum(cr.tanh(x)), np.ones(3)))
    assert d["edges"][0]["symbolic"] == "diag(1 - u2^2)" and d["edges"][1]["symbolic"] is None
    d = page_data(cr.trace(lambda x, y: cr.sum(x * y), np.ones(3), 2.0))  # broadcasting: no
    assert d["edges"][0]["symbolic"] is None
    d = page_data(cr.trace(lambda x: x * x, 3.0))                         # u1 used twice
    assert d["edges"][0]["symbolic"] is None


def test_large_values_are_shortened_and_large_jacobians_not_formed():
    assert short(np.arange(12.0)) == "[0, 1, 2, \u2026, 11] (12 entries)"
    assert short(np.ones((4, 3))) == "[1, 1, 1, \u2026] (4 \u00d7 3)"
    W, x = np.ones((300, 1000)), np.ones(1000)
    g = cr.trace(lambda W, x: cr.sum(cr.tanh(W @ x * 1e-3)), W, x)
    d = page_data(g)
    e = d["edges"][0]
    assert e["J"] is None and e["table"] is None and "not formed" in e["note"]
    assert max(len(s["say"]) for s in d["steps"]) < 400
    J = page_data(feedforward().graph)["edges"][0]
    assert len(J["table"]) == 4 and len(J["table"][0]) == 8 and "8 of 12 columns" in J["note"]


def test_pages_without_values_and_with_a_vector_output():
    g = Graph.from_edges(4, 2, [(1, 3), (2, 3), (2, 4), (3, 4)],
                         {3: lambda u1, u2: u1 + u2, 4: lambda u2, u3: u2 * u3})
    page = g.to_html()
    assert "No values yet" in page and '"steps":[]' in page and 'data-vertex="4"' in page
    d = page_data(cr.trace(cr.log_softmax, np.array([1.0, 2.0, 0.5])))
    assert [s["kind"] for s in d["steps"]] == ["start", "forward"]
    assert "g.backward(p_n=...)" in d["steps"][-1]["say"]


@pytest.mark.parametrize("engine", ["layers", "networkx", "dot"])
def test_layouts_left_to_right_in_vertex_order(engine):
    if engine == "dot" and not shutil.which("dot"):
        pytest.skip("Graphviz's dot is not installed")
    if engine == "networkx":
        pytest.importorskip("networkx")
    for g in (four_vertex().graph, feedforward().graph, chain(40)):
        widths = {i: 80 for i in range(1, g.n + 1)}
        lay = page_layout.layout(g, widths, engine)
        assert lay["engine"] == engine and set(lay["nodes"]) == set(range(1, g.n + 1))
        for j, i in g.edges:            # every edge points right
            assert lay["nodes"][j][0] < lay["nodes"][i][0]
            assert lay["edges"][(j, i)].startswith("M")
        assert all(0 < x < lay["width"] and 0 < y < lay["height"] for x, y in lay["nodes"].values())


def test_picture_without_graphviz_or_networkx(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))                     # no dot
    page = four_vertex().graph.to_html()
    assert 'data-engine="networkx"' in page or 'data-engine="layers"' in page
    monkeypatch.setitem(__import__("sys").modules, "networkx", None)  # no networkx
    page = four_vertex().graph.to_html()
    assert 'data-engine="layers"' in page and page.count("<rect") == 4


def test_repr_html_is_a_sandboxed_frame():
    g = four_vertex().graph
    frame = g._repr_html_()
    assert frame.startswith("<iframe") and 'sandbox="allow-scripts"' in frame
    assert "&lt;!DOCTYPE html&gt;" in frame and "data-vertex=&quot;4&quot;" in frame


def test_json_cannot_close_the_script_element():
    g = Graph.from_edges(2, 1, [(1, 2)], {2: lambda u: 2 * u}, names={1: "</script><b>x"})
    g.forward(1.0)
    page = g.to_html()
    blob = page.split('<script type="application/json" id="chainrule-data">')[1]
    blob = blob.split("</script>")[0]
    assert json.loads(blob)["vertices"][0]["name"] == "</script><b>x"
    assert "<b>x" not in page.split("<script")[0]               # escaped in the SVG
    page = g.to_html(title="{{js}} {{data}}", text="{{svg}}")   # no template injection
    assert "<h1>{{js}} {{data}}</h1>" in page and "<pre>{{svg}}</pre>" in page


def test_page_assets_are_package_data():
    """page.html/.css/.js must reach a `pip install .` (not only an editable install)."""
    tomllib = pytest.importorskip("tomllib")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as fh:
        conf = tomllib.load(fh)
    data = conf.get("tool", {}).get("setuptools", {}).get("package-data", {})
    listed = data.get("chainrule.page", [])
    import fnmatch
    for name in ("page.html", "page.css", "page.js"):
        assert any(fnmatch.fnmatch(name, pat) for pat in listed), \
            f"pyproject.toml: [tool.setuptools.package-data] \"chainrule.page\" lacks {name}"
        assert os.path.exists(os.path.join(os.path.dirname(chainrule.page.__file__), name))


# ----- in a real browser --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """open_page(graph or html, width) -> (page, problems): console errors and outside requests."""
    pages = []

    def opener(what, width=1000, height=800, **kw):
        html = what if isinstance(what, str) else what.to_html(**kw)
        path = tmp_path / f"page{len(pages)}.html"
        path.write_text(html, encoding="utf-8")
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(5000)
        problems = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
                else problems.append(f"request: {r.url}"))
        page.goto(path.as_uri())
        pages.append(page)
        return page, problems

    yield opener
    for p in pages:
        p.close()


def text(page, sel):
    return page.text_content(sel) if " [data-role=" in sel else page.inner_text(sel)


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_browser_four_vertex_both_passes(open_page):
    page, problems = open_page(four_vertex().graph)
    assert "u1 = 2, u2 = 3" in text(page, '[data-role="narration"]')
    assert page.is_disabled('[data-action="prev"]')
    page.click('[data-action="next"]')
    assert "u3 = f^3(u1, u2) = add(u1, u2) = add(2, 3) = 5" in text(page, '[data-role="narration"]')
    page.click('[data-action="next"]')
    assert "= 15" in text(page, '[data-role="narration"]')
    assert text(page, '[data-vertex="4"] [data-role="u"]') == "u = 15"
    assert "current" in page.get_attribute('[data-vertex="4"]', "class")
    for _ in range(4):                 # p4 = 1, then edges (3, 4), (2, 3), (2, 4)
        page.click('[data-action="next"]')
    say = text(page, '[data-role="narration"]')
    assert "p2 += p4 J^{2->4} = 1 * 5 = 5, so p2 = 3 + 5 = 8" in say
    for sel in ('[data-edge="2-4"]', '[data-vertex="2"]', '[data-vertex="4"]'):
        assert "current" in page.get_attribute(sel, "class")          # edge and both vertices
    assert text(page, '[data-vertex="2"] [data-role="p"]') == "p = 8 \u2713"
    page.click('[data-action="prev"]')
    assert text(page, '[data-vertex="2"] [data-role="p"]') == "p = 3 \u2026"  # running sum
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert "Done: du4/du1 = p1 = 3, du4/du2 = p2 = 8" in text(page, '[data-role="narration"]')
    assert page.is_disabled('[data-action="next"]')
    page.keyboard.press("ArrowLeft")
    assert "edge (2, 4)" in text(page, '[data-role="narration"]')
    page.click('[data-action="reset"]')
    assert text(page, '[data-vertex="4"] [data-role="u"]') == ""
    page.click('[data-action="play"]')
    assert page.get_attribute('[data-action="play"]', "aria-pressed") == "true"
    page.wait_for_function("document.querySelector('[data-role=counter]').textContent"
                           ".startsWith('step 1 ')", timeout=5000)
    page.click('[data-action="play"]')
    assert page.get_attribute('[data-action="play"]', "aria-pressed") == "false"
    assert problems == []


def test_browser_vertex_paths_and_edge_jacobian(open_page):
    page, problems = open_page(four_vertex().graph)
    page.click('[data-vertex="2"]')
    details = text(page, '[data-role="details"]')
    assert "\u03c0(2)" in details and "p2\n8" in details.replace("\t", "\n")
    assert "p2 = p3 J^{2->3} + p4 J^{2->4} = 3 * 1 + 1 * 5 = 8" in details
    assert "2 \u2192 3 \u2192 4: D^{3->4} D^{2->3} = 3 * 1 = 3" in details
    assert "2 \u2192 4: D^{2->4} = 5" in details
    assert "3 + 5 = 8 = p2" in details
    for e in ("2-3", "3-4", "2-4"):
        assert "onpath" in page.get_attribute(f'[data-edge="{e}"]', "class")
    assert "onpath" not in page.get_attribute('[data-edge="1-3"]', "class")
    page.hover('[data-path="2-4"]')                   # one path at a time
    assert "hot" in page.get_attribute('[data-edge="2-4"]', "class")
    assert "hot" not in page.get_attribute('[data-edge="3-4"]', "class")
    page.dispatch_event('[data-edge="2-4"]', "click")
    details = text(page, '[data-role="details"]')
    assert "J^{2->4} = u3 = 5" in details
    assert "selected" in page.get_attribute('[data-edge="2-4"]', "class")
    page.focus('[data-vertex="3"]')                   # keyboard: Enter opens a vertex
    page.keyboard.press("Enter")
    assert "Vertex 3" in text(page, '[data-role="details"]')
    assert problems == []


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_browser_the_notes_examples(open_page, name):
    ex = EXAMPLES[name]()
    page, problems = open_page(ex.graph, title=ex.title, text=ex.text)
    assert page.locator("[data-vertex]").count() == ex.graph.n
    assert page.locator("[data-edge]").count() == len(ex.graph.edges)
    assert page.locator("h1").count() == 1
    body = page.inner_text("body")
    assert "`" not in body and "=====" not in body
    steps = len(page_data(ex.graph)["steps"])
    for _ in range(steps - 1):
        page.keyboard.press("ArrowRight")
    assert page.is_disabled('[data-action="next"]')
    assert fits(page)
    assert problems == []


def test_browser_feedforward_fits_1000px_and_shortens(open_page):
    page, problems = open_page(feedforward().graph)
    assert fits(page)
    box = page.locator("svg.graph").bounding_box()
    assert box["width"] <= 1000 and box["x"] >= 0
    page.dispatch_event('[data-edge="1-6"]', "click")
    details = text(page, '[data-role="details"]')
    assert "(4 \u00d7 12) matrix" in details and "8 of 12 columns" in details
    assert page.locator('[data-role="details"] td').count() == 4 * 8
    page.click('[data-vertex="1"]')
    details = text(page, '[data-role="details"]')
    assert "shape 4 \u00d7 3" in details and "= p1" in details and "\u2026" in details
    assert fits(page)
    assert problems == []


def test_browser_traced_functions_big_and_small(open_page):
    page, problems = open_page(chain(200))
    assert page.locator("[data-vertex]").count() >= 199
    assert fits(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert "Forward pass, vertex 5" in text(page, '[data-role="narration"]')
    page.click('[data-action="zoom-in"]')
    page.click('[data-action="fit"]')
    assert problems == []
    g = cr.trace(lambda W, x: cr.sum(cr.tanh(W @ x)), np.ones((2, 3)), np.ones(3))
    page, problems = open_page(g, width=600)
    page.click('[data-vertex="5"]')
    assert "p5 = 1" in text(page, '[data-role="details"]')
    assert fits(page) and problems == []


def screenshot(path, width=1000, height=820):
    """The picture in docs/tutorial.md: the feedforward page stepped into the backward pass,
    vertex 6 (z) clicked. Run: python tests/test_html.py docs/feedforward-page.png"""
    from playwright.sync_api import sync_playwright
    ex = feedforward()
    page_file = os.path.abspath(str(path) + ".html")
    ex.graph.to_html(page_file, title=ex.title, text=ex.text)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = b.new_page(viewport={"width": width, "height": height})
        page.goto("file://" + page_file)
        for _ in range(10):
            page.keyboard.press("ArrowRight")
        page.click('[data-vertex="6"]')
        page.screenshot(path=str(path), full_page=True)
        b.close()
    os.remove(page_file)


if __name__ == "__main__":
    import sys
    screenshot(sys.argv[1])


def test_browser_jupyter_frame(open_page):
    frame = four_vertex().graph._repr_html_()
    page, problems = open_page(f"<!DOCTYPE html><html><body>{frame}</body></html>")
    inner = page.frame_locator("iframe.chainrule-page")
    inner.locator('[data-action="next"]').click()
    inner.locator('[data-action="next"]').click()
    assert "= 15" in inner.locator('[data-role="narration"]').inner_text()
    # the frame is small: the details panel may lie over the vertex, so the click event
    # is dispatched on the vertex itself (a pointer click there could hit the panel)
    inner.locator('[data-vertex="2"]').dispatch_event("click")
    assert "3 + 5 = 8" in inner.locator('[data-role="details"]').inner_text()
    assert problems == []


def test_browser_graph_without_values(open_page):
    g = Graph.from_edges(4, 2, [(1, 3), (2, 3), (2, 4), (3, 4)],
                         {3: lambda u1, u2: u1 + u2, 4: lambda u2, u3: u2 * u3})
    page, problems = open_page(g)
    assert "no values yet" in text(page, '[data-role="narration"]')
    assert page.is_disabled('[data-action="next"]') and page.is_disabled('[data-action="play"]')
    page.click('[data-vertex="3"]')
    assert "u3 = f^3(u1, u2)" in text(page, '[data-role="details"]')
    page.dispatch_event('[data-edge="2-4"]', "click")
    assert "no values yet" in text(page, '[data-role="details"]')
    assert problems == []


def test_pages_of_odd_graphs():
    """Empty arrays, complex values, float32, integer constants: a page, no warning."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f, args in [
                (lambda x, y: cr.sum(x) + cr.sum(y * 2.0), (np.ones(3), np.zeros((0, 2)))),
                (lambda z: cr.sum(z * z), (np.array([1.0 + 2j, 3.0]),)),
                (lambda x: cr.sum(x * 2), (np.ones(3, np.float32),)),
                (lambda x: cr.sum(x[np.array([0, 2])] ** 2), (np.arange(4.0),))]:
            g = cr.trace(f, *args)
            page = g.to_html()
            assert page.split("<script")[0].count("data-vertex=") == g.n
