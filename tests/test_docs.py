"""The Python blocks of README.md and docs/performance.md run (the other pages have their
own doctest-based tests: test_tutorial.py, test_transforms.py, test_nn.py)."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("page", ["README.md", "docs/performance.md"])
def test_python_blocks_run(page, capsys):
    blocks = python_blocks(ROOT / page)
    assert blocks, f"{page} has no python block"
    namespace = {}
    for block in blocks:
        exec(compile(block, page, "exec"), namespace)  # each block builds on the previous
