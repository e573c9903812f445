"""docs/numpy.md is what tools/gen_numpy_table.py writes from the code, and the Python
blocks of docs/migrating.md run (each building on the previous ones)."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _same_versions():
    """The page lists NumPy's and SciPy's names: compare it only under the versions it names."""
    import numpy
    scipy = pytest.importorskip("scipy")
    line = next(x for x in (ROOT / "docs" / "numpy.md").read_text().splitlines()
                if x.startswith("Generated with"))
    want = f"Generated with NumPy {numpy.__version__} and SciPy {scipy.__version__}."
    if line != want:
        pytest.skip(f"docs/numpy.md was generated under other versions ({line!r})")


def test_numpy_table_is_generated_from_the_code():
    _same_versions()
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_numpy_table
    finally:
        sys.path.pop(0)
    committed = (ROOT / "docs" / "numpy.md").read_text()
    assert committed == gen_numpy_table.render(), (
        "docs/numpy.md is out of date: run python tools/gen_numpy_table.py")


def test_numpy_table_script_check_mode():
    _same_versions()
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_numpy_table.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_numpy_table_lists_the_three_kinds():
    text = (ROOT / "docs" / "numpy.md").read_text()
    assert "| `np.tan` | yes | yes |" in text
    assert "**No derivative**" in text and "`argmax`" in text
    assert "## numpy.linalg" in text and "## scipy.special" in text


def test_migrating_blocks_run():
    page = ROOT / "docs" / "migrating.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)
