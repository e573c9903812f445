"""docs/tutorial.md runs: its >>> examples are doctests, its other Python blocks are executed,
its `$ chainrule explain ...` commands are run; all in order, sharing one namespace."""
import doctest
import re
import shlex
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import explain_cli, graph

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks():
    text = TUTORIAL.read_text()
    for m in FENCE.finditer(text):
        yield m.group(1), m.group(2), text.count("\n", 0, m.start(2)) + 1


def test_tutorial_has_snippets():
    kinds = [k for k, _, _ in blocks()]
    assert kinds.count("python") >= 10 and "console" in kinds


def test_tutorial_runs(monkeypatch, tmp_path, capsys):
    assert cr.trace is graph.trace and cr.Graph is graph.Graph  # the public names
    monkeypatch.chdir(tmp_path)
    globs = {"__name__": "tutorial"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    ran = 0
    for kind, body, line in blocks():
        if kind == "python" and ">>>" in body:
            test = parser.get_doctest(body, globs, f"tutorial.md:{line}", str(TUTORIAL), line)
            result = runner.run(test, clear_globs=False)
            globs.update(test.globs)  # DocTest ran in a copy of the namespace
            assert result.failed == 0, f"doctest failures in the block at tutorial.md:{line}"
            ran += result.attempted
        elif kind == "python":
            exec(compile(body, f"{TUTORIAL}:{line}", "exec"), globs)
            ran += 1
        elif kind == "console":
            for cmd in body.splitlines():
                argv = shlex.split(cmd.lstrip("$ "))
                assert argv[:2] == ["chainrule", "explain"], cmd
                assert explain_cli.main(argv[2:]) == 0, cmd
                ran += 1
    out = capsys.readouterr().out
    assert "192" in out and "du4/du2 = p2 = 8" in out
    assert (tmp_path / "four-vertex.dot").exists() and (tmp_path / "feedforward.html").exists()
    assert ran >= 40
