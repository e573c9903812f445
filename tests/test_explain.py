"""explain(), DOT, rendering, Jupyter display, and the `chainrule explain` command."""
import argparse
import os
import re
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.page  # noqa: F401  (Graph.to_html and Jupyter's display)
from chainrule import explain_cli
from chainrule.examples import EXAMPLES, four_vertex
from chainrule.explain import GraphvizNotFound, fmt
from chainrule.graph import Graph, trace

E4 = [(1, 3), (2, 3), (2, 4), (3, 4)]
F4 = {3: lambda u1, u2: u1 + u2, 4: lambda u2, u3: u2 * u3}
HAVE_DOT = shutil.which("dot") is not None


def four():
    g = Graph.from_edges(4, 2, E4, F4)
    g.forward(2.0, 3.0)
    return g


# ----- explain ------------------------------------------------------------------------
def test_explain_four_vertex_shows_the_notes_numbers():
    text = four().explain()
    assert "E = {(1, 3), (2, 3), (2, 4), (3, 4)}" in text
    assert "u3 = f^3(u1, u2) = 5" in text
    assert "u4 = f^4(u2, u3) = 15" in text
    assert "p4 = 1" in text
    assert "p3 = p4 J^{3->4} = 1 * 3 = 3" in text
    assert "p2 = p3 J^{2->3} + p4 J^{2->4} = 3 * 1 + 1 * 5 = 8" in text
    assert "p1 = p3 J^{1->3} = 3 * 1 = 3" in text
    # the backward pass runs j = n-1..1: p3 is written before p2 and p1
    assert text.index("p3 =") < text.index("p2 =") < text.index("p1 =")


def test_explain_traced_shows_ops_and_folded_constants():
    g = trace(lambda x: (x ** 3) ** 2, 2.0)
    text = g.explain()
    assert "u1 (x) = 2" in text
    assert "u2 = f^2(u1) = power(u1, 3) = 8" in text
    assert "u3 = f^3(u2) = power(u2, 2) = 64" in text
    assert "p1 = p2 J^{1->2} = 16 * 12 = 192" in text


def test_explain_paths_shows_both_paths_from_2_to_4():
    text = four().explain_paths(2, 4)
    assert "|P(2, 4)| = 2" in text
    assert "2 -> 4:  D^{2->4} = 5" in text
    assert "2 -> 3 -> 4:  D^{3->4} D^{2->3} = 3 * 1 = 3" in text
    assert "Sum over paths = 3 + 5 = 8" in text
    assert "p2 = 8   (equal" in text


def test_explain_vectors_nonscalar_output_and_no_values():
    g = trace(cr.log_softmax, np.array([1.0, 2.0, 0.5]))
    text = g.explain()
    assert "log_softmax(u1) = [-1.46437, -0.464369, -1.96437]" in text
    assert "g.backward(p_n=...)" in text
    g.backward(p_n=np.array([0.0, 1.0, 0.0]))
    assert "(given p_n)" in g.explain()
    h = Graph.from_edges(4, 2, E4, F4)
    text = h.explain()
    assert "no values yet" in text and "u3 = f^3(u1, u2)" in text


def test_explain_unused_leaf_and_display_without_values():
    g = trace(lambda x, y: cr.sum(x * x), np.ones(2), np.ones(3))
    assert "p2 = 0   (no children: u4 does not depend on u2)" in g.explain()
    h = Graph.from_edges(4, 2, E4, F4)
    html = h._repr_html_()
    assert "<iframe" in html and "data-vertex=&quot;4&quot;" in html
    assert "No values yet" in html
    assert "u3 [label=\"u3 = f^3(u1, u2)\"" in h.to_dot()


def test_explain_summarises_large_graphs():
    def f(x):
        for _ in range(500):
            x = cr.tanh(x) + 0.1
        return cr.sum(x)

    g = trace(f, np.ones(3))
    text = g.explain()
    assert len(text.splitlines()) < 70
    assert "vertices not shown" in text and "max_vertices=None" in text
    assert "operations: " in text and "tanh x 500" in text
    assert f"u{g.n} = " in text and "p1 = " in text
    assert len(g.explain(max_vertices=None).splitlines()) > 2 * g.n


def test_fmt():
    assert fmt(np.array(5.0)) == "5"
    assert fmt(-0.0) == "0"
    assert fmt(np.array([[1.0, 2.0], [3.0, 4.5]])) == "[[1, 2], [3, 4.5]]"
    assert fmt(np.zeros((4, 4))) == "<array of shape (4, 4)>"


# ----- DOT, render, Jupyter -------------------------------------------------------------------
def test_to_dot_has_every_vertex_edge_value_and_p():
    dot = four().to_dot()
    assert dot.startswith("digraph chainrule {") and dot.rstrip().endswith("}")
    for j, i in E4:
        assert f"u{j} -> u{i} " in dot
    assert 'u3 [label="u3 = f^3(u1, u2)\\nd = 1\\nu = 5\\np = 3"' in dot
    assert "p = 8" in dot and "u = 15" in dot
    assert 'label="J^{2->4} = 5"' in dot
    assert dot.count("->") == 4 + 4  # four edges, four edge labels


def test_to_dot_escapes_names():
    g = Graph.from_edges(2, 1, [(1, 2)], {2: lambda u: 2 * u}, names={1: 'a "quoted"\\ name'})
    g.forward(1.0)
    dot = g.to_dot()
    assert 'u1 (a \\"quoted\\"\\\\ name)' in dot


def test_render_without_graphviz_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    g = four()
    with pytest.raises(GraphvizNotFound, match="(?s)`dot`.*not found.*apt-get install graphviz"
                                               ".*brew install graphviz.*to_dot"):
        g.render(tmp_path / "g.svg")
    assert g._repr_svg_() is None
    html = g._repr_html_()                     # the page needs no Graphviz
    assert "&lt;svg" in html and "u3 = f^3(u1, u2) = f^3(2, 3) = 5" in html
    # DOT source needs no Graphviz
    assert g.render(tmp_path / "g.dot") == str(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == g.to_dot()


@pytest.mark.skipif(os.name != "posix", reason="a shell-script stand-in for dot")
def test_render_calls_dot_with_format_and_output(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "dot"
    fake.write_text('#!/bin/sh\ncat > "$3.src"\necho "$1" > "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    g = four()
    out = tmp_path / "g.png"
    assert g.render(out) == str(out)
    assert out.read_text().strip() == "-Tpng"
    assert (tmp_path / "g.png.src").read_text() == g.to_dot()
    g.render(tmp_path / "h.out", format="PDF")
    assert (tmp_path / "h.out").read_text().strip() == "-Tpdf"


@pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot is not installed")
def test_render_with_graphviz(tmp_path):
    g = four()
    svg = g.render(tmp_path / "g.svg")
    assert "<svg" in open(svg).read()
    g.render(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in g._repr_svg_() and 'data-engine=&quot;dot&quot;' in g._repr_html_()


# ----- the worked examples and the command ---------------------------------------------------
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_examples_text(name):
    ex = EXAMPLES[name]()
    assert ex.name == name and ex.title in ex.text
    expected = {
        "chain-rule": ["z) = f^2(u1) = power(u1, 3) = 8", "= 16 x 12 = 192 = p1 = 192"],
        "four-vertex": ["u3 = f^3(u1, u2) = add(u1, u2) = 5",
                        "u4 = f^4(u2, u3) = multiply(u2, u3) = 15", "p1 = p3 J^{1->3}",
                        "du4/du1 = p1 = 3", "du4/du2 = p2 = 8", "2 -> 4:", "2 -> 3 -> 4:"],
        "log-softmax": ["[[k = k']] - softmax(l)_k'", "max |difference| = "],
        "feedforward": ["D^{9->10} D^{8->9} D^{7->8} D^{6->7} D^{1->6}",
                        "D^{9->10} D^{8->9} D^{4->8}", "(4x12)"],
    }[name]
    for s in expected:
        assert s in ex.text, s
    for diff in re.findall(r"max \|difference\|[ =]+([0-9.e+-]+)", ex.text):
        assert float(diff) < 1e-12


def parse(argv):
    """The way chainrule.cli mounts the command: a subparsers object, add_parser, run."""
    parser = argparse.ArgumentParser(prog="chainrule")
    sub = parser.add_subparsers(dest="command")
    explain_cli.add_parser(sub)
    return parser.parse_args(argv)


def test_cli_four_vertex(capsys):
    args = parse(["explain", "four-vertex"])
    assert args.func is explain_cli.run
    assert explain_cli.run(args) == 0
    out = capsys.readouterr().out
    for s in ["u3 = f^3(u1, u2) = add(u1, u2) = 5", "u4 = f^4(u2, u3) = multiply(u2, u3) = 15",
              "du4/du1 = p1 = 3",
              "du4/du2 = p2 = 8", "2 -> 4:  D^{2->4} = 5", "2 -> 3 -> 4:"]:
        assert s in out


def test_cli_all_examples(capsys):
    assert explain_cli.run(parse(["explain"])) == 0
    out = capsys.readouterr().out
    assert "192" in out and "LOG-SOFTMAX" in out and "feedforward" in out


def test_cli_dot_and_html_files(tmp_path, capsys):
    dot, page = tmp_path / "g.dot", tmp_path / "g.html"
    assert explain_cli.run(parse(["explain", "chain-rule", "--dot", str(dot),
                                  "--html", str(page)])) == 0
    assert dot.read_text().startswith("digraph")
    assert "u2 (z)" in dot.read_text()
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "192" in html and 'data-vertex="3"' in html
    assert str(dot) in capsys.readouterr().out


def test_cli_errors(tmp_path, capsys):
    assert explain_cli.run(parse(["explain", "--dot", str(tmp_path / "x.dot")])) == 2
    assert "name the example" in capsys.readouterr().err
    bad = tmp_path / "missing-dir" / "x.dot"
    assert explain_cli.run(parse(["explain", "four-vertex", "--dot", str(bad)])) == 1
    assert "cannot write" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        parse(["explain", "no-such-example"])
    assert e.value.code == 2


def test_cli_through_chainrule_cli(capsys):
    cli = pytest.importorskip("chainrule.cli")
    assert cli.main(["explain", "four-vertex"]) == 0
    out = capsys.readouterr().out
    assert "u4 = f^4(u2, u3) = multiply(u2, u3) = 15" in out and "du4/du1 = p1 = 3" in out


def test_cli_as_module():
    r = subprocess.run([sys.executable, "-m", "chainrule.explain_cli", "four-vertex"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "multiply(u2, u3) = 15" in r.stdout and "du4/du2 = p2 = 8" in r.stdout


def test_four_vertex_html_page_escapes():
    ex = four_vertex()
    page = ex.graph.to_html(title="a <title> & more", text=ex.text)
    assert "a &lt;title&gt; &amp; more" in page
    assert "2 -&gt; 3 -&gt; 4" in page


def test_explain_shows_the_arguments_in_the_order_of_the_call():
    g = trace(lambda u1, u2: u2 * (u1 + u2) + u1, 2.0, 3.0)
    text = g.explain()
    assert "u5 = f^5(u4, u1) = add(u4, u1) = 17" in text
    assert "u3 = f^3(u1, u2) = add(u1, u2) = 5" in text
    g = trace(lambda x, y: cr.subtract(y, x * x), 2.0, 3.0)
    assert "u4 = f^4(u2, u3) = subtract(u2, u3) = -1" in g.explain()
    g = trace(lambda x, y: cr.subtract(x * x, y), 2.0, 3.0)
    assert "u4 = f^4(u3, u2) = subtract(u3, u2) = 1" in g.explain()


def test_graph_imports_nothing_from_the_layers_above():
    import ast
    import inspect as insp

    import chainrule.graph
    import chainrule.graph_build
    for mod in (chainrule.graph, chainrule.graph_build):
        names = set()
        for node in ast.walk(ast.parse(insp.getsource(mod))):
            if isinstance(node, ast.ImportFrom):
                names.add(node.module)
        assert not names & {"explain", "page", "examples", "explain_cli"}, mod.__name__
    assert cr.Graph.explain.__module__ == "chainrule.explain"
    assert cr.Graph.to_html.__module__ == "chainrule.page"
