"""The build under test: hot path compiled by Cython (``pip install .``) or pure Python.

The whole suite runs on both builds in CI (.ci/run). CHAINRULE_EXPECT_COMPILED=1
(or 0) makes ``test_the_expected_build_is_running`` fail unless every hot-path
module is compiled (or none is), so a failed compile cannot silently test pure
Python twice. The other tests check what compiling could change: tracebacks,
signatures, weak references, freeing by reference counting, module globals
rebound at run time.
"""
import importlib
import inspect
import os
import pathlib
import re
import traceback
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.build import HOT_PATH, build_info
from chainrule.errors import RuleError

INFO = build_info()
KIND = {True: "compiled (Cython)", False: "pure Python", "mixed": "mixed"}[INFO["compiled"]]


def test_build_info_covers_the_hot_path_and_agrees_with_the_loaded_files():
    names = ["chainrule." + m.replace("/", ".") for m in HOT_PATH]
    assert list(INFO["modules"]) == names
    for name, compiled in INFO["modules"].items():
        f = importlib.import_module(name).__file__
        assert f.endswith(".py") is not compiled, (name, f)
    assert INFO["compiled"] in (True, False, "mixed")


def test_the_expected_build_is_running():
    expect = os.environ.get("CHAINRULE_EXPECT_COMPILED")
    if expect is None:
        pytest.skip(f"running the {KIND} build; set CHAINRULE_EXPECT_COMPILED=1 (or 0) "
                    f"to require the compiled (or the pure-Python) one")
    want = expect.strip() not in ("", "0")
    wrong = [n for n, c in INFO["modules"].items() if c is not want]
    assert not wrong, (f"CHAINRULE_EXPECT_COMPILED={expect} but these modules are "
                       f"{'not ' if want else ''}compiled: {wrong}")


def test_the_readable_source_ships_beside_each_compiled_module():
    pkg = pathlib.Path(cr.__file__).parent
    for m in HOT_PATH:
        assert (pkg / f"{m}.py").is_file(), m


def _bad_rule_error():
    bad = cr.primitive(lambda x: x * 2.0, name="bad")
    bad.defvjp(lambda g, ans, x: np.ones(7))  # wrong shape: the engine must refuse it
    try:
        cr.grad(lambda x: cr.sum(bad(x)))(np.ones(3))
    except RuleError as e:
        return e
    raise AssertionError("a VJP rule of the wrong shape was accepted")


def test_an_error_in_the_backward_pass_names_the_engine_line_and_the_fix():
    e = _bad_rule_error()
    assert "VJP rule of 'bad' for input 0 returned shape (7,), expected (3,)" in str(e)
    frames = traceback.extract_tb(e.__traceback__)
    # compiled or not, the traceback goes through the engine's source file and function
    assert any(f.filename.endswith("backward.py") and f.name.endswith("fit_cotangent")
               for f in frames), [(f.filename, f.name) for f in frames]


def test_signatures_and_docstrings_survive_compiling():
    assert list(inspect.signature(cr.grad).parameters) == ["f", "argnums", "has_aux"]
    assert list(inspect.signature(cr.Tensor.backward).parameters) == [
        "self", "gradient", "create_graph"]
    assert list(inspect.signature(cr.tensor).parameters)[:2] == ["value", "requires_grad"]
    assert cr.grad.__doc__ and cr.Tensor.backward.__doc__
    assert cr.grad.__module__ == "chainrule.transforms"


def test_a_dropped_graph_is_freed_by_reference_counting():
    x = cr.tensor(np.ones(4), requires_grad=True)
    y = cr.tanh(x * 2.0)
    z = cr.sum(y)
    ry, rz = weakref.ref(y), weakref.ref(z)
    del y, z  # no cycles: freed at once, without the cyclic collector
    assert ry() is None and rz() is None


def test_a_module_global_rebound_at_run_time_is_seen_by_compiled_code(monkeypatch):
    import chainrule.primitive as prim  # noqa: F401  (the function of that name hides it)
    prim = importlib.import_module("chainrule.primitive")
    seen = []
    real = prim.push_tangents

    def spy(*args):
        seen.append(args[0].name)
        return real(*args)
    monkeypatch.setattr(prim, "push_tangents", spy)
    _, t = cr.jvp(lambda x: cr.sin(x), (np.array([0.0, 1.0]),), (np.ones(2),))
    assert "sin" in seen
    np.testing.assert_allclose(t, np.cos([0.0, 1.0]))


def test_the_python_blocks_of_docs_compiled_md_run(capsys):
    page = pathlib.Path(__file__).resolve().parents[1] / "docs" / "compiled.md"
    if not page.exists():
        pytest.skip("docs/compiled.md is not beside the tests")
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(page), "exec"), {})
    assert str(INFO["compiled"]) in capsys.readouterr().out
